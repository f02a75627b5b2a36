// Dictionaries the head builds while spans arrive: strings, attribute values
// per (key, value type), resources and scopes, and the trie of attribute
// shapes (the ordered (key, type) list of a span's attributes).

import type { AnyValue, InstrumentationScope, Resource } from '@ariadne/model';
import { ByteReader, ByteWriter, isLowerHex, toHex } from './bytes.js';
import { VType, readIntText, writeIntText, writeKeyValues } from './values.js';
import { BytesTable } from './bytes-table.js';
import type { Buffer } from 'node:buffer';

/** How many bytes of keys a dictionary's byte table holds before new ones are no longer remembered. */
const MAX_TABLE_BYTES = 16 << 20;
/** ints below this get their dictionary id from an array, not from a string in the Map */
const SMALL_INTS = 1024;

/** UTF-8 text at [start, end), as Buffer#toString would decode it. */
export function utf8Text(buf: Buffer, start: number, end: number): string {
  return (buf as unknown as { utf8Slice(s: number, e: number): string }).utf8Slice(start, end);
}

const HEXV = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) HEXV['0123456789abcdef'.charCodeAt(i)] = i;

/**
 * Appends what writePlainText(w, STRING, text, hex) would for the text whose
 * UTF-8 is at [start, end) of `buf`, when that text is ASCII (then its UTF-8
 * is the bytes as they are); false, with nothing written, otherwise.
 */
function appendAsciiPlain(w: ByteWriter, buf: Uint8Array, start: number, end: number, hex: boolean): boolean {
  const n = end - start;
  let or = 0;
  for (let i = start; i < end; i++) or |= buf[i]!;
  if (or >= 0x80) return false;
  if (hex && n !== 0 && (n & 1) === 0) {
    let bad = 0;
    for (let i = start; i < end; i++) bad |= HEXV[buf[i]!]!;
    if (bad >= 0) {
      // as tryHex: uvar(bytes) then the bytes
      w.uvar(n >> 1);
      w.ensure(n >> 1);
      const b = w.buf;
      let p = w.pos;
      for (let i = start; i < end; i += 2) b[p++] = (HEXV[buf[i]!]! << 4) | HEXV[buf[i + 1]!]!;
      w.pos = p;
      return true;
    }
  }
  if (hex) w.u8(0); // not hex: a zero marker, then the string
  // as str(): header = byte length * 2 (UTF-8), then the bytes
  w.uvar(n * 2);
  w.ensure(n);
  const b = w.buf;
  let p = w.pos;
  for (let i = start; i < end; i++) b[p++] = buf[i]!; // (a subarray per value would cost more than the copy)
  w.pos = p;
  return true;
}

export class StringDict {
  readonly map = new Map<string, number>();
  readonly values: string[] = [];
  private byBytes: BytesTable | undefined;

  /** The id of the UTF-8 text at [start, end) of `buf`; a repeat costs no string. */
  idUtf8(buf: Buffer, start: number, end: number): number {
    const t = (this.byBytes ??= new BytesTable());
    let id = t.get(buf, start, end);
    if (id < 0) {
      id = this.id(utf8Text(buf, start, end));
      if (t.bytes < MAX_TABLE_BYTES) t.set(buf, start, end, id);
    }
    return id;
  }

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
 * Values of one attribute key and one value type. While values repeat they
 * are deduplicated through a Map (ids index `values`: the string, the int
 * text, the number; arrays and kvlists as objects, never deduplicated). A
 * dictionary that keeps seeing new values (ids, sizes, timestamps as
 * attributes) turns plain from `plainFrom` on: it stops hashing and appends
 * each value already encoded as the block's plain column will hold it (bytes,
 * or doubles), so the head keeps no object per value for the GC to trace and
 * a flush copies bytes.
 */
export class ValueDict {
  private map: Map<unknown, number> | undefined = new Map();
  readonly values: unknown[] = [];
  /** id of -0, which a Map cannot tell from 0 */
  private negZero = -1;
  private lookups = 0;
  /** ids from here on are plain (appended without deduplication) */
  plainFrom = Infinity;
  /** plain strings: lowercase hex ones stored as bytes (see encode.ts) */
  hex = false;
  private bytes: ByteWriter | undefined;
  private offsets: Uint32Array | undefined;
  private doubles: Float64Array | undefined;
  private plainCount = 0;
  private byBytes: BytesTable | undefined;
  /** ids of the ints below SMALL_INTS seen so far (-1: not yet), while not plain */
  private smallIds: Int32Array | undefined;

  constructor(readonly vtype: VType) {
    if (vtype === VType.BOOL) this.values.push(false, true);
    else if (vtype === VType.EMPTY) this.values.push(null);
  }

  /** The id of a string value given as UTF-8 at [start, end) of `buf` (a STRING dictionary). */
  idUtf8(buf: Buffer, start: number, end: number): number {
    if (this.plainFrom !== Infinity) {
      const w = this.bytes!;
      if (!appendAsciiPlain(w, buf, start, end, this.hex)) return this.appendBytes(utf8Text(buf, start, end));
      return this.endPlain();
    }
    const t = (this.byBytes ??= new BytesTable());
    let id = t.get(buf, start, end);
    if (id >= 0) {
      this.lookups++; // as a hit in id() counts
      return id;
    }
    id = this.keyed(utf8Text(buf, start, end));
    // (turning plain just now dropped the table: turnPlain)
    if (this.plainFrom === Infinity && t.bytes < MAX_TABLE_BYTES) t.set(buf, start, end, id);
    return id;
  }

  /** The id of a double value (a DOUBLE dictionary). */
  idDouble(d: number): number {
    if (this.plainFrom !== Infinity) return this.appendDouble(d);
    if (d === 0 && 1 / d < 0) {
      if (this.negZero < 0) {
        this.negZero = this.values.length;
        this.values.push(-0);
      }
      return this.negZero;
    }
    return this.keyed(d);
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
      case VType.DOUBLE:
        return this.idDouble(v.doubleValue!);
      default:
        this.values.push(v);
        return this.values.length - 1;
    }
    return this.keyed(key);
  }

  /**
   * The id of a non-negative int value below 2^32 (an INT dictionary): what
   * keyed(String(v)) gives, small values without making the string.
   */
  idInt(v: number): number {
    if (v >= SMALL_INTS || this.plainFrom !== Infinity) return this.keyed(String(v));
    const ids = (this.smallIds ??= new Int32Array(SMALL_INTS).fill(-1));
    const id = ids[v]!;
    if (id >= 0) {
      this.lookups++; // as a hit in keyed() counts
      return id;
    }
    const made = this.keyed(String(v));
    if (this.plainFrom === Infinity) ids[v] = made;
    return made;
  }

  /** The id of a string-like key (string, int text, bytes text) or a double. */
  keyed(key: unknown): number {
    if (this.plainFrom !== Infinity) return this.appendBytes(key as string);
    const map = this.map!;
    let id = map.get(key);
    if (id === undefined) {
      id = this.values.length;
      map.set(key, id);
      this.values.push(key);
      // mostly new values after a while: stop hashing
      if (id >= 2048 && id * 4 > ++this.lookups * 3) this.turnPlain();
    } else this.lookups++;
    return id;
  }

  private turnPlain(): void {
    this.plainFrom = this.values.length;
    this.map = undefined;
    this.byBytes = undefined;
    if (this.vtype === VType.DOUBLE) {
      this.doubles = new Float64Array(4096);
      return;
    }
    if (this.vtype === VType.STRING) {
      let hex = 0;
      const from = Math.max(0, this.values.length - 64);
      for (let i = from; i < this.values.length; i++) if (isLowerHex(this.values[i] as string)) hex++;
      this.hex = hex * 10 >= (this.values.length - from) * 9;
    }
    this.bytes = new ByteWriter(1 << 16);
    this.offsets = new Uint32Array(4097);
  }

  private appendDouble(d: number): number {
    if (this.plainCount >= this.doubles!.length) {
      const next = new Float64Array(this.doubles!.length * 2);
      next.set(this.doubles!);
      this.doubles = next;
    }
    this.doubles![this.plainCount] = d;
    return this.plainFrom + this.plainCount++;
  }

  private appendBytes(text: string): number {
    writePlainText(this.bytes!, this.vtype, text, this.hex);
    return this.endPlain();
  }

  /** Ends the plain entry just written to `bytes`. */
  private endPlain(): number {
    if (this.plainCount + 1 >= this.offsets!.length) {
      const next = new Uint32Array(this.offsets!.length * 2);
      next.set(this.offsets!);
      this.offsets = next;
    }
    this.offsets![++this.plainCount] = this.bytes!.pos;
    return this.plainFrom + this.plainCount - 1;
  }

  /** The value with this id, as an AnyValue of this dictionary's type. */
  value(id: number): AnyValue {
    if (id >= this.plainFrom) {
      const i = id - this.plainFrom;
      if (this.doubles) return { doubleValue: this.doubles[i]! };
      const r = new ByteReader(this.bytes!.buf, this.offsets![i]!, this.offsets![i + 1]!);
      return readPlainText(r, this.vtype, this.hex);
    }
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

  /** What an encoder in another thread needs (no hash map). */
  toSnapshot(): ValueDictSnapshot {
    return {
      vtype: this.vtype,
      values: this.values,
      plainFrom: this.plainFrom,
      hex: this.hex,
      bytes: this.bytes ? this.bytes.buf.subarray(0, this.bytes.pos) : undefined,
      offsets: this.offsets ? this.offsets.subarray(0, this.plainCount + 1) : undefined,
      doubles: this.doubles ? this.doubles.subarray(0, this.plainCount) : undefined,
      plainCount: this.plainCount,
    };
  }

  /** A read-only dictionary for encoding (lookups of new values are not possible). */
  static fromSnapshot(s: ValueDictSnapshot): ValueDict {
    const d = new ValueDict(s.vtype);
    d.values.length = 0;
    d.values.push(...s.values);
    d.map = undefined;
    d.plainFrom = s.plainFrom;
    d.hex = s.hex;
    if (s.bytes) {
      d.bytes = new ByteWriter(1);
      d.bytes.buf = s.bytes;
      d.bytes.pos = s.bytes.length;
    }
    d.offsets = s.offsets;
    d.doubles = s.doubles;
    d.plainCount = s.plainCount;
    return d;
  }

  /** A plain string-like entry as the bytes a PLAIN column holds for it. */
  plainBytes(id: number): Uint8Array {
    const i = id - this.plainFrom;
    return this.bytes!.buf.subarray(this.offsets![i]!, this.offsets![i + 1]!);
  }

  /** A plain double entry. */
  plainDouble(id: number): number {
    return this.doubles![id - this.plainFrom]!;
  }

  /** Up to 64 doubles, for choosing a column's decimal exponent. */
  sampleDoubles(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.values.length && out.length < 32; i++) out.push(this.values[i] as number);
    for (let i = 0; this.doubles && i < this.plainCount && out.length < 64; i++) out.push(this.doubles[i]!);
    return out;
  }

  /** Up to 64 strings, for deciding whether a column stores hex as bytes. */
  sampleStrings(): string[] {
    return (this.values as string[]).slice(0, 64);
  }

  get size(): number {
    return this.plainFrom === Infinity ? this.values.length : this.plainFrom + this.plainCount;
  }

  /** True once values are appended without deduplication. */
  get plain(): boolean {
    return this.plainFrom !== Infinity;
  }

  /** Every id whose primitive value is `key` (Object.is: -0 and NaN as themselves); for search. */
  lookupAll(key: unknown): number[] {
    if (this.map) {
      if (typeof key === 'number' && key === 0 && 1 / key < 0) return this.negZero >= 0 ? [this.negZero] : [];
      const id = this.map.get(key);
      return id === undefined ? [] : [id];
    }
    const out: number[] = [];
    const vs = this.values;
    for (let i = 0; i < vs.length; i++) if (Object.is(vs[i], key)) out.push(i);
    if (this.doubles) {
      for (let i = 0; i < this.plainCount; i++) if (Object.is(this.doubles[i], key)) out.push(this.plainFrom + i);
    } else if (typeof key === 'string') {
      const w = new ByteWriter(key.length * 3 + 16);
      writePlainText(w, this.vtype, key, this.hex);
      const want = w.finish();
      const b = this.bytes!.buf;
      const off = this.offsets!;
      for (let i = 0; i < this.plainCount; i++) {
        const a = off[i]!;
        if (off[i + 1]! - a !== want.length) continue;
        let eq = true;
        for (let j = 0; j < want.length && eq; j++) eq = b[a + j] === want[j];
        if (eq) out.push(this.plainFrom + i);
      }
    }
    return out;
  }
}

export interface ValueDictSnapshot {
  vtype: VType;
  values: unknown[];
  plainFrom: number;
  hex: boolean;
  bytes: Uint8Array | undefined;
  offsets: Uint32Array | undefined;
  doubles: Float64Array | undefined;
  plainCount: number;
}

/** A string-like value (string, int text, bytes text) as a PLAIN column entry. */
export function writePlainText(w: ByteWriter, vtype: VType, text: string, hex: boolean): void {
  if (vtype === VType.INT) writeIntText(w, text);
  else if (vtype !== VType.STRING || !hex) w.str(text);
  else if (!w.tryHex(text)) {
    w.u8(0);
    w.str(text);
  }
}

export function readPlainText(r: ByteReader, vtype: VType, hex: boolean): AnyValue {
  switch (vtype) {
    case VType.INT:
      return { intValue: readIntText(r) };
    case VType.INT_TEXT:
      return { intValue: r.str() };
    case VType.BYTES:
      return { bytesValue: r.str() };
    default: {
      if (!hex) return { stringValue: r.str() };
      const n = r.uvar();
      return { stringValue: n === 0 ? r.str() : r.hex(n) };
    }
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
  /** the child taken last, and its key as UTF-8: the OTLP path checks the next key's bytes against it before any lookup */
  lastChild: ShapeNode | undefined;
  keyBytes: DataView | undefined;
  /** keyBytes' length (a DataView's byteLength is a getter call) */
  keyLength: number;
}

export class Shapes {
  readonly root: ShapeNode = { id: 0, next: undefined, keyId: -1, vtype: 0, dict: undefined, lastChild: undefined, keyBytes: undefined, keyLength: -1 };
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
    const child: ShapeNode = { id: this.list.length, next: undefined, keyId, vtype, dict, lastChild: undefined, keyBytes: undefined, keyLength: -1 };
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

  private readonly byKey = new Map<string, number>();

  constructor(private readonly key: (v: T) => string) {}

  /**
   * The id of the object whose wire encoding is `encoding` (equal encodings:
   * equal objects); `make` builds it the first time an encoding is seen.
   */
  idByEncoding(encoding: string, make: () => T): number {
    let id = this.byKey.get(encoding);
    if (id === undefined) {
      id = this.id(make());
      this.byKey.set(encoding, id);
    }
    return id;
  }

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
