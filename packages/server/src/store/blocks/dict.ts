// Dictionaries the head builds while spans arrive: strings, attribute values
// per (key, value type), resources and scopes, and the trie of attribute
// shapes (the ordered (key, type) list of a span's attributes).

import type { AnyValue, InstrumentationScope, Resource } from '@ariadne/model';
import { ByteWriter, toHex } from './bytes.js';
import { VType, writeKeyValues } from './values.js';

export class StringDict {
  readonly map = new Map<string, number>();
  readonly values: string[] = [];

  id(s: string): number {
    let id = this.map.get(s);
    if (id === undefined) {
      id = this.values.length;
      this.map.set(s, id);
      this.values.push(s);
    }
    return id;
  }

  get(s: string): number | undefined {
    return this.map.get(s);
  }
}

/**
 * Values of one attribute key and one value type. Primitive payloads are kept
 * as primitives (the string, the int text, the number); arrays and kvlists as
 * the value objects, never deduplicated. A dictionary that keeps seeing new
 * values (ids, sizes, timestamps as attributes) stops hashing them and only
 * appends: `plainFrom` is the first id that may repeat an earlier value.
 */
export class ValueDict {
  private readonly map = new Map<unknown, number>();
  readonly values: unknown[] = [];
  /** id of -0, which a Map cannot tell from 0 */
  private negZero = -1;
  private lookups = 0;
  /** ids from here on were appended without deduplication */
  plainFrom = Infinity;

  constructor(readonly vtype: VType) {
    if (vtype === VType.BOOL) this.values.push(false, true);
    else if (vtype === VType.EMPTY) this.values.push(null);
  }

  id(v: AnyValue): number {
    let key: unknown;
    switch (this.vtype) {
      case VType.EMPTY:
        return 0;
      case VType.BOOL:
        return v.boolValue ? 1 : 0;
      case VType.STRING:
        key = v.stringValue;
        break;
      case VType.INT:
      case VType.INT_TEXT:
        key = v.intValue;
        break;
      case VType.BYTES:
        key = v.bytesValue;
        break;
      case VType.DOUBLE: {
        const d = v.doubleValue!;
        if (d === 0 && 1 / d < 0 && this.plainFrom === Infinity) {
          if (this.negZero < 0) {
            this.negZero = this.values.length;
            this.values.push(-0);
          }
          return this.negZero;
        }
        key = d;
        break;
      }
      default:
        this.values.push(v);
        return this.values.length - 1;
    }
    if (this.plainFrom !== Infinity) {
      this.values.push(key);
      return this.values.length - 1;
    }
    let id = this.map.get(key);
    if (id === undefined) {
      id = this.values.length;
      this.map.set(key, id);
      this.values.push(key);
      // mostly new values after a while: stop hashing
      if (id >= 2048 && id * 4 > ++this.lookups * 3) {
        this.plainFrom = this.values.length;
        this.map.clear();
      }
    } else this.lookups++;
    return id;
  }

  /** The value with this id, as an AnyValue of this dictionary's type. */
  value(id: number): AnyValue {
    const x = this.values[id];
    switch (this.vtype) {
      case VType.EMPTY:
        return {};
      case VType.BOOL:
        return { boolValue: x as boolean };
      case VType.STRING:
        return { stringValue: x as string };
      case VType.INT:
      case VType.INT_TEXT:
        return { intValue: x as string };
      case VType.BYTES:
        return { bytesValue: x as string };
      case VType.DOUBLE:
        return { doubleValue: x as number };
      default:
        return x as AnyValue;
    }
  }

  get size(): number {
    return this.values.length;
  }

  /** True once values are appended without deduplication. */
  get plain(): boolean {
    return this.plainFrom !== Infinity;
  }

  /** Every id whose primitive value equals `key` (Object.is for -0); for search. */
  lookupAll(key: unknown): number[] {
    if (this.plainFrom !== Infinity) {
      const out: number[] = [];
      const vs = this.values;
      for (let i = 0; i < vs.length; i++) if (Object.is(vs[i], key)) out.push(i);
      return out;
    }
    if (typeof key === 'number' && key === 0 && 1 / key < 0) return this.negZero >= 0 ? [this.negZero] : [];
    const id = this.map.get(key);
    return id === undefined ? [] : [id];
  }
}

/** A node of the shape trie: the attribute list so far; `id` when a span ends here. */
export interface ShapeNode {
  id: number;
  /** attribute key -> children by value type (almost always one) */
  next: Map<string, ShapeNode[]> | undefined;
  keyId: number;
  vtype: VType;
  dict: ValueDict | undefined;
}

export class Shapes {
  readonly root: ShapeNode = { id: 0, next: undefined, keyId: -1, vtype: 0, dict: undefined };
  /** shape id -> flat [keyId, vtype, keyId, vtype, ...] */
  readonly list: Int32Array[] = [new Int32Array(0)];
  private readonly nodes: ShapeNode[] = [this.root];

  constructor(
    private readonly keys: StringDict,
    private readonly dicts: Map<number, ValueDict>,
  ) {}

  child(node: ShapeNode, key: string, vtype: VType): ShapeNode {
    let byType = node.next?.get(key);
    if (byType) {
      for (let i = 0; i < byType.length; i++) if (byType[i]!.vtype === vtype) return byType[i]!;
    } else {
      node.next ??= new Map();
      node.next.set(key, (byType = []));
    }
    const keyId = this.keys.id(key);
    const code = keyId * 16 + vtype;
    let dict = this.dicts.get(code);
    if (!dict) this.dicts.set(code, (dict = new ValueDict(vtype)));
    const prev = this.list[node.id]!;
    const flat = new Int32Array(prev.length + 2);
    flat.set(prev);
    flat[prev.length] = keyId;
    flat[prev.length + 1] = vtype;
    const child: ShapeNode = { id: this.list.length, next: undefined, keyId, vtype, dict };
    this.list.push(flat);
    this.nodes.push(child);
    byType.push(child);
    return child;
  }
}

/** Stable content key of a resource or scope, so equal ones in new objects share an id. */
function contentKey(parts: (w: ByteWriter) => void): string {
  const w = new ByteWriter(256);
  parts(w);
  const b = w.finish();
  return toHex(b, 0, b.length);
}

export function resourceKey(r: Resource): string {
  return contentKey((w) => {
    writeKeyValues(w, r.attributes);
    w.uvar(r.droppedAttributesCount);
    w.str(r.schemaUrl);
  });
}

export function scopeKey(s: InstrumentationScope): string {
  return contentKey((w) => {
    w.str(s.name);
    w.str(s.version);
    writeKeyValues(w, s.attributes);
    w.uvar(s.droppedAttributesCount);
    w.str(s.schemaUrl);
  });
}

/** Resources or scopes by identity first (spans of one request share objects), then by content. */
export class ObjectTable<T extends object> {
  private readonly byObject = new WeakMap<T, number>();
  private readonly byContent = new Map<string, number>();
  readonly values: T[] = [];
  private last: T | undefined;
  private lastId = -1;

  constructor(private readonly key: (v: T) => string) {}

  id(v: T): number {
    if (v === this.last) return this.lastId;
    let id = this.byObject.get(v);
    if (id === undefined) {
      const k = this.key(v);
      id = this.byContent.get(k);
      if (id === undefined) {
        id = this.values.length;
        this.values.push(v);
        this.byContent.set(k, id);
      }
      this.byObject.set(v, id);
    }
    this.last = v;
    this.lastId = id;
    return id;
  }
}
