// Test support for the OTLP protobuf walkers: a tiny protobuf writer and a
// schema-aware fuzzer that builds requests field by field (repeated and
// unknown fields, any order, invalid UTF-8, odd ids, wrong wire types), used
// to hold the validator, the decoder and the block store's OTLP path to each
// other.

import { Buffer } from 'node:buffer';
import { prng } from '../../bench/dataset.js';
import { referenceEncode } from './reference.js';

export function mutate(base: Uint8Array, edits: readonly (readonly [number, number, 'set' | 'insert' | 'delete'])[]): Uint8Array {
  let b = Uint8Array.from(base);
  for (const [at, v, op] of edits) {
    const i = Math.min(at, b.length);
    if (op === 'set') {
      if (i < b.length) b[i] = v;
      else b = Uint8Array.from([...b, v]);
    } else if (op === 'insert') {
      const c = new Uint8Array(b.length + 1);
      c.set(b.subarray(0, i));
      c[i] = v;
      c.set(b.subarray(i), i + 1);
      b = c;
    } else if (i < b.length) {
      const c = new Uint8Array(b.length - 1);
      c.set(b.subarray(0, i));
      c.set(b.subarray(i + 1), i);
      b = c;
    }
  }
  return b;
}

// ---- a tiny protobuf writer (as in decode-proto.test.ts) ----

export type Bytes = number[];
export function varint(n: number | bigint): Bytes {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: Bytes = [];
  while (v > 127n) {
    out.push(Number(v & 127n) | 128);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}
export const key = (field: number, wt: number): Bytes => varint((field << 3) | wt);
export const msg = (field: number, ...parts: Bytes[]): Bytes => {
  const body = parts.flat();
  return [...key(field, 2), ...varint(body.length), ...body];
};
export const str = (field: number, s: string): Bytes => msg(field, [...Buffer.from(s, 'utf8')]);
export const bytes = (field: number, b: Bytes | Uint8Array): Bytes => msg(field, [...b]);
export const vint = (field: number, n: number | bigint): Bytes => [...key(field, 0), ...varint(n)];
export const fixed64 = (field: number, n: bigint): Bytes => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return [...key(field, 1), ...b];
};
export const fixed32 = (field: number, n: number): Bytes => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return [...key(field, 5), ...b];
};
export const buf = (...parts: Bytes[]): Uint8Array => Uint8Array.from(parts.flat());

export const TRACE = Array.from({ length: 16 }, (_, i) => i + 1);
export const SPAN = Array.from({ length: 8 }, (_, i) => 0xa0 + i);
export const PARENT = Array.from({ length: 8 }, (_, i) => 0xb0 + i);
export const request = (...spans: Bytes[]): Uint8Array => buf(msg(1, msg(2, ...spans.map((s) => msg(2, s)))));
export const spanBody = (name: string, traceId: Bytes = TRACE, spanId: Bytes = SPAN, ...rest: Bytes[]): Bytes =>
  [bytes(1, traceId), bytes(2, spanId), str(5, name), ...rest].flat();

export function nested(levels: number, field = 5): Uint8Array {
  let value: Bytes = str(1, 'leaf');
  for (let i = 0; i < levels; i++) value = field === 5 ? msg(5, msg(1, value)) : msg(6, msg(1, str(1, 'k'), msg(2, value)));
  return request(spanBody('deep', TRACE, SPAN, msg(9, str(1, 'k'), msg(2, value))));
}

// ---- schema-aware fuzz: requests built field by field, every rule in reach ----

export type Rng = () => number;
export const rng: (seed: number) => Rng = prng;
export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

// field -> wire type and what goes in it: a message type, 'str', 'id16', 'id8', 'id' or a scalar.
type Kind = string;
const SCHEMA: Record<string, Record<number, [number, Kind]>> = {
  Request: { 1: [2, 'ResourceSpans'] },
  ResourceSpans: { 1: [2, 'Resource'], 2: [2, 'ScopeSpans'], 3: [2, 'str'] },
  Resource: { 1: [2, 'KeyValue'], 2: [0, 'u32'], 3: [2, 'str'] },
  ScopeSpans: { 1: [2, 'Scope'], 2: [2, 'Span'], 3: [2, 'str'] },
  Scope: { 1: [2, 'str'], 2: [2, 'str'], 3: [2, 'KeyValue'], 4: [0, 'u32'] },
  Span: {
    1: [2, 'id16'], 2: [2, 'id8'], 3: [2, 'str'], 4: [2, 'id8'], 5: [2, 'str'], 6: [0, 'u32'], 7: [1, 'f64'], 8: [1, 'f64'],
    9: [2, 'KeyValue'], 10: [0, 'u32'], 11: [2, 'Event'], 12: [0, 'u32'], 13: [2, 'Link'], 14: [0, 'u32'], 15: [2, 'Status'], 16: [5, 'f32'],
  },
  Event: { 1: [1, 'f64'], 2: [2, 'str'], 3: [2, 'KeyValue'], 4: [0, 'u32'] },
  Link: { 1: [2, 'id16'], 2: [2, 'id8'], 3: [2, 'str'], 4: [2, 'KeyValue'], 5: [0, 'u32'], 6: [5, 'f32'] },
  Status: { 2: [2, 'str'], 3: [0, 'u32'] },
  KeyValue: { 1: [2, 'str'], 2: [2, 'AnyValue'] },
  AnyValue: { 1: [2, 'str'], 2: [0, 'u64'], 3: [0, 'u64'], 4: [1, 'f64'], 5: [2, 'ArrayValue'], 6: [2, 'KvList'], 7: [2, 'str'] },
  ArrayValue: { 1: [2, 'AnyValue'] },
  KvList: { 1: [2, 'KeyValue'] },
};

function randomVarint(r: Rng): Bytes {
  const x = r();
  if (x < 0.6) return varint(Math.floor(r() * 300));
  if (x < 0.8) return varint(BigInt(Math.floor(r() * 2 ** 32)) * BigInt(Math.floor(r() * 2 ** 32)));
  if (x < 0.9) return [0x82, 0x80, 0x00]; // padded
  if (x < 0.97) return [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
  return [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]; // 11 bytes: malformed
}

function randomBytes(r: Rng, n: number, zero = false): Bytes {
  return Array.from({ length: n }, () => (zero ? 0 : Math.floor(r() * 256)));
}

function randomText(r: Rng): Bytes {
  const x = r();
  if (x < 0.5) return [...Buffer.from(pick(r, ['', 'GET /x', 'service.name', 'a', 'x'.repeat(90), '日本語 😀', 'é']), 'utf8')];
  return randomBytes(r, Math.floor(r() * 12)); // any bytes: invalid UTF-8 included
}

function fieldValue(r: Rng, kind: Kind, depth: number): Bytes {
  switch (kind) {
    case 'str':
      return randomText(r);
    case 'id16':
    case 'id8': {
      const n = kind === 'id16' ? 16 : 8;
      const x = r();
      if (x < 0.75) return randomBytes(r, n);
      if (x < 0.85) return randomBytes(r, n, true);
      return randomBytes(r, pick(r, [0, 1, 7, 9, 15, 17, 5]));
    }
    default:
      return randomMessage(r, kind, depth);
  }
}

function randomField(r: Rng, type: string, depth: number): Bytes {
  const fields = SCHEMA[type]!;
  const numbers = Object.keys(fields).map(Number);
  const x = r();
  if (x < 0.93 || numbers.length === 0) {
    const f = pick(r, numbers);
    const [wt, kind] = fields[f]!;
    let wire = wt;
    if (r() < 0.01) wire = pick(r, [0, 1, 2, 3, 4, 5, 6, 7].filter((w) => w !== wt)); // known field, wrong wire type
    return encodeField(r, f, wire, kind, depth);
  }
  if (x < 0.985) {
    // unknown field, any valid wire type
    const f = pick(r, [17, 20, 99, 1000, 536870911]);
    const wt = pick(r, [0, 1, 2, 5]);
    return encodeField(r, f, wt, 'str', depth);
  }
  // the rare hopeless ones: groups, wire types 6/7, field 0
  return [...key(pick(r, [0, 1, 30]), pick(r, [0, 3, 4, 6, 7])), ...randomBytes(r, Math.floor(r() * 3))];
}

function encodeField(r: Rng, f: number, wt: number, kind: Kind, depth: number): Bytes {
  switch (wt) {
    case 0:
      return [...key(f, 0), ...randomVarint(r)];
    case 1:
      return [...key(f, 1), ...randomBytes(r, 8)];
    case 5:
      return [...key(f, 5), ...randomBytes(r, 4)];
    case 2: {
      const body = kind.startsWith('u') || kind.startsWith('f') ? randomBytes(r, Math.floor(r() * 4)) : fieldValue(r, kind, depth + 1);
      return [...key(f, 2), ...varint(body.length), ...body];
    }
    default:
      return [...key(f, wt), ...randomBytes(r, Math.floor(r() * 4))];
  }
}

export function randomMessage(r: Rng, type: string, depth: number): Bytes {
  if (type === 'AnyValue' && r() < 0.03) {
    // a chain of arrays and kvlists around the nesting limit
    let value = str(1, 'leaf');
    for (let i = 28 + Math.floor(r() * 8); i > 0; i--) value = r() < 0.5 ? msg(5, msg(1, value)) : msg(6, msg(1, str(1, 'k'), msg(2, value)));
    return value;
  }
  if (type === 'AnyValue' && depth > 6) return str(1, 'v');
  const count = depth > 12 ? Math.floor(r() * 2) : Math.floor(r() * (type === 'Span' ? 9 : type === 'Request' ? 4 : 5));
  const out: Bytes = [];
  if (type === 'Span' && r() < 0.8) out.push(...bytes(1, randomBytes(r, 16)), ...bytes(2, randomBytes(r, 8)));
  for (let i = 0; i < count; i++) out.push(...randomField(r, type, depth));
  return out;
}

/** A fuzzed request, sometimes damaged afterwards (a byte set, inserted or dropped, or a cut). */
export function fuzzed(seed: number): Uint8Array {
  const r = rng(seed);
  const clean = randomMessage(r, 'Request', 0);
  const x = r();
  if (x < 0.6 || clean.length === 0) return Uint8Array.from(clean);
  if (x < 0.8) return Uint8Array.from(clean.slice(0, Math.floor(r() * clean.length)));
  const edits = Array.from({ length: 1 + Math.floor(r() * 3) }, () => [Math.floor(r() * clean.length), Math.floor(r() * 256), pick(r, ['set', 'insert', 'delete'] as const)] as const);
  return mutate(Uint8Array.from(clean), edits);
}


/** Two resources of two spans each, with every kind of part: for cutting at every offset. */
export function truncationPayload(): Uint8Array {
  const obj = {
    resourceSpans: [1, 2].map((r) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: `svc-${r}` } }] },
      scopeSpans: [
        {
          scope: { name: 'lib' },
          spans: [1, 2].map((i) => ({
            traceId: Uint8Array.from(TRACE),
            spanId: Uint8Array.from(SPAN.map((b) => b + i + r)),
            name: `span-${r}-${i}`,
            startTimeUnixNano: '1731000000000000000',
            attributes: [
              { key: 'i', value: { intValue: '-5' } },
              { key: 'a', value: { arrayValue: { values: [{ stringValue: 'x' }, { kvlistValue: { values: [{ key: 'd', value: { doubleValue: 1.5 } }] } }] } } },
            ],
            events: [{ timeUnixNano: '1', name: 'e' }],
            links: [{ traceId: Uint8Array.from(TRACE), spanId: Uint8Array.from(SPAN), flags: 1 }],
            status: { code: 1 },
            flags: 1,
          })),
        },
      ],
    })),
  };
  return Buffer.from(referenceEncode(obj));
}
