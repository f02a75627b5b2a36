// Typed attribute values in the block format. Every OTLP value kind keeps its
// type and exact content: int64 as text (canonical decimal packed as a zigzag
// varint, anything else kept as the text it arrived as), doubles as their 8
// bytes (NaN, -0 and infinities included), bytes as the base64 text they
// arrived as, arrays and kvlists recursively.

import type { AnyValue, KeyValue } from '@ariadne/model';
import { attributeText } from '@ariadne/model';
import { ByteReader, ByteWriter } from './bytes.js';

/** Value kinds; a span's attribute shape records one per attribute. */
export const VType = {
  EMPTY: 0,
  STRING: 1,
  BOOL: 2,
  /** int64 whose text is canonical decimal: stored as a zigzag varint */
  INT: 3,
  /** int64 text in any other form: stored as text */
  INT_TEXT: 4,
  DOUBLE: 5,
  BYTES: 6,
  ARRAY: 7,
  KVLIST: 8,
} as const;
export type VType = (typeof VType)[keyof typeof VType];
export const VTYPE_COUNT = 9;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const CANONICAL_INT = /^(0|-?[1-9][0-9]{0,18})$/;

/** True when `text` is the canonical decimal form of an int64. */
export function isCanonicalInt(text: string): boolean {
  if (!CANONICAL_INT.test(text)) return false;
  if (text.length < 19) return true;
  const v = BigInt(text);
  return v >= INT64_MIN && v <= INT64_MAX;
}

export function vtypeOf(v: AnyValue): VType {
  if (v.stringValue !== undefined) return VType.STRING;
  if (v.intValue !== undefined) return isCanonicalInt(v.intValue) ? VType.INT : VType.INT_TEXT;
  if (v.boolValue !== undefined) return VType.BOOL;
  if (v.doubleValue !== undefined) return VType.DOUBLE;
  if (v.bytesValue !== undefined) return VType.BYTES;
  if (v.arrayValue !== undefined) return VType.ARRAY;
  if (v.kvlistValue !== undefined) return VType.KVLIST;
  return VType.EMPTY;
}

/** A canonical int64's text as a zigzag varint. */
export function writeIntText(w: ByteWriter, text: string): void {
  if (text.length <= 15) w.svar(Number(text));
  else w.svarBig(BigInt(text));
}

export function readIntText(r: ByteReader): string {
  const first = r.varLenHere();
  return first <= 7 ? String(r.svar()) : r.svarBig().toString();
}

/** The payload of a value whose type is known from elsewhere (a shape). */
export function writePayload(w: ByteWriter, t: VType, v: AnyValue): void {
  switch (t) {
    case VType.EMPTY:
      return;
    case VType.STRING:
      w.str(v.stringValue!);
      return;
    case VType.BOOL:
      w.u8(v.boolValue ? 1 : 0);
      return;
    case VType.INT:
      writeIntText(w, v.intValue!);
      return;
    case VType.INT_TEXT:
      w.str(v.intValue!);
      return;
    case VType.DOUBLE:
      w.f64(v.doubleValue!);
      return;
    case VType.BYTES:
      w.str(v.bytesValue!);
      return;
    case VType.ARRAY: {
      const values = v.arrayValue!.values;
      w.uvar(values.length);
      for (const x of values) writeValue(w, x);
      return;
    }
    case VType.KVLIST:
      writeKeyValues(w, v.kvlistValue!.values);
      return;
  }
}

export function readPayload(r: ByteReader, t: number): AnyValue {
  switch (t) {
    case VType.EMPTY:
      return {};
    case VType.STRING:
      return { stringValue: r.str() };
    case VType.BOOL:
      return { boolValue: r.u8() === 1 };
    case VType.INT:
      return { intValue: readIntText(r) };
    case VType.INT_TEXT:
      return { intValue: r.str() };
    case VType.DOUBLE:
      return { doubleValue: r.f64() };
    case VType.BYTES:
      return { bytesValue: r.str() };
    case VType.ARRAY: {
      const n = r.uvar();
      const values: AnyValue[] = new Array(n);
      for (let i = 0; i < n; i++) values[i] = readValue(r);
      return { arrayValue: { values } };
    }
    case VType.KVLIST:
      return { kvlistValue: { values: readKeyValues(r) } };
    default:
      throw new Error(`block: unknown value type ${t} (written by a newer Ariadne?)`);
  }
}

/** A self-describing value: type byte, then payload. */
export function writeValue(w: ByteWriter, v: AnyValue): void {
  const t = vtypeOf(v);
  w.u8(t);
  writePayload(w, t, v);
}

export function readValue(r: ByteReader): AnyValue {
  return readPayload(r, r.u8());
}

export function writeKeyValues(w: ByteWriter, kvs: readonly KeyValue[]): void {
  w.uvar(kvs.length);
  for (const kv of kvs) {
    w.str(kv.key);
    writeValue(w, kv.value);
  }
}

export function readKeyValues(r: ByteReader): KeyValue[] {
  const n = r.uvar();
  const out: KeyValue[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const key = r.str();
    out[i] = { key, value: readValue(r) };
  }
  return out;
}

/**
 * How a search text matches values of one type, decided once per query:
 * numbers compare as numbers when the text is the exact form attributeText
 * gives them, so a column of doubles is never turned into strings.
 */
export interface TextProbe {
  text: string;
  /** Number(text) when String(Number(text)) === text, else undefined */
  double: number | undefined;
  /** the text, when it is a canonical int64 */
  int: string | undefined;
  /** 1 for 'true', 0 for 'false', else -1 */
  bool: number;
}

export function textProbe(text: string): TextProbe {
  const d = Number(text);
  return {
    text,
    double: text !== '' && String(d) === text ? d : undefined,
    int: isCanonicalInt(text) ? text : undefined,
    bool: text === 'true' ? 1 : text === 'false' ? 0 : -1,
  };
}

/** attributeText(v) === probe.text, without building the text where it can be avoided. */
export function valueMatches(v: AnyValue, probe: TextProbe): boolean {
  if (v.stringValue !== undefined) return v.stringValue === probe.text;
  if (v.intValue !== undefined) return v.intValue === probe.text;
  if (v.boolValue !== undefined) return probe.bool === (v.boolValue ? 1 : 0);
  if (v.doubleValue !== undefined) return probe.double !== undefined && (v.doubleValue === probe.double || (probe.double !== probe.double && v.doubleValue !== v.doubleValue));
  if (v.bytesValue !== undefined) return v.bytesValue === probe.text;
  return attributeText(v) === probe.text;
}

/** Moves a reader past a value written by writeValue. */
export function skipValue(r: ByteReader): void {
  const t = r.u8();
  switch (t) {
    case VType.EMPTY:
      return;
    case VType.STRING:
    case VType.INT_TEXT:
    case VType.BYTES:
      r.skipStr();
      return;
    case VType.BOOL:
      r.pos++;
      return;
    case VType.INT:
      r.pos += r.varLenHere();
      return;
    case VType.DOUBLE:
      r.pos += 8;
      return;
    case VType.ARRAY: {
      const n = r.uvar();
      for (let i = 0; i < n; i++) skipValue(r);
      return;
    }
    case VType.KVLIST: {
      const n = r.uvar();
      for (let i = 0; i < n; i++) {
        r.skipStr();
        skipValue(r);
      }
      return;
    }
    default:
      throw new Error(`block: unknown value type ${t} (written by a newer Ariadne?)`);
  }
}

/** The values of a dictionary column. */
export interface DictValues {
  readonly length: number;
  value(id: number): AnyValue;
  /** ids whose attributeText is the probe's text */
  matching(probe: TextProbe): number[];
}

/** A dictionary being written: the values as objects. */
export class ArrayDict implements DictValues {
  constructor(readonly values: AnyValue[] = []) {}
  get length(): number {
    return this.values.length;
  }
  value(id: number): AnyValue {
    return this.values[id]!;
  }
  matching(probe: TextProbe): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.values.length; i++) if (valueMatches(this.values[i]!, probe)) out.push(i);
    return out;
  }
}

/**
 * A dictionary read from a block: the encoded values and their offsets, no
 * object per value (a block of a million spans can hold a hundred thousand
 * user ids; as objects they would cost the garbage collector on every
 * marking). Values are decoded on demand; a search compares encoded bytes.
 */
export class PackedDict implements DictValues {
  constructor(
    private readonly buf: Uint8Array,
    private readonly offsets: Uint32Array,
  ) {}

  /** Reads `n` values written by writeValue at the reader's position. */
  static read(r: ByteReader, n: number): PackedDict {
    const start = r.pos;
    const offsets = new Uint32Array(n + 1);
    for (let i = 0; i < n; i++) {
      skipValue(r);
      offsets[i + 1] = r.pos - start;
    }
    return new PackedDict(r.buf.subarray(start, r.pos), offsets);
  }

  get length(): number {
    return this.offsets.length - 1;
  }

  value(id: number): AnyValue {
    return readValue(new ByteReader(this.buf, this.offsets[id]!, this.offsets[id + 1]!));
  }

  matching(probe: TextProbe): number[] {
    const text = new ByteWriter(probe.text.length * 3 + 8);
    text.str(probe.text);
    const textBytes = text.finish();
    let intBytes: Uint8Array | undefined;
    if (probe.int !== undefined) {
      const w = new ByteWriter(16);
      writeIntText(w, probe.int);
      intBytes = w.finish();
    }
    const b = this.buf;
    const same = (at: number, end: number, want: Uint8Array) => {
      if (end - at !== want.length) return false;
      for (let i = 0; i < want.length; i++) if (b[at + i] !== want[i]) return false;
      return true;
    };
    const f64 = new Float64Array(1);
    const f64b = new Uint8Array(f64.buffer);
    const out: number[] = [];
    for (let id = 0; id < this.length; id++) {
      const at = this.offsets[id]!;
      const end = this.offsets[id + 1]!;
      let ok: boolean;
      switch (b[at]) {
        case VType.STRING:
        case VType.INT_TEXT:
        case VType.BYTES:
          ok = same(at + 1, end, textBytes);
          break;
        case VType.INT:
          ok = intBytes !== undefined && same(at + 1, end, intBytes);
          break;
        case VType.BOOL:
          ok = probe.bool >= 0 && b[at + 1] === probe.bool;
          break;
        case VType.DOUBLE: {
          if (probe.double === undefined) ok = false;
          else {
            f64b.set(b.subarray(at + 1, at + 9));
            const d = f64[0]!;
            ok = d === probe.double || (d !== d && probe.double !== probe.double);
          }
          break;
        }
        case VType.EMPTY:
          ok = probe.text === 'null';
          break;
        default:
          ok = valueMatches(this.value(id), probe);
      }
      if (ok) out.push(id);
    }
    return out;
  }
}
