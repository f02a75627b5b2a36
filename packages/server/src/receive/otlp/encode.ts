// OTLP/protobuf encoding: the export response, and model Spans back into an
// ExportTraceServiceRequest (the decoder's inverse) for the WAL, forwarding
// and benchmark payloads.
//
// Length-delimited messages are written in one pass: a guessed number of
// bytes is reserved for the length prefix and the body is shifted in the rare
// case the guess was wrong.

import { Buffer } from 'node:buffer';
import type { AnyValue, InstrumentationScope, KeyValue, Resource, Span, SpanEvent, SpanLink } from '@ariadne/model';
import { MAX_ANY_VALUE_DEPTH } from './decode-proto.js';

/**
 * ExportTraceServiceResponse: `partial_success` only when something was
 * rejected or there is a message to pass on, else the empty message.
 */
export function encodeExportResponseProto(rejectedSpans: number, errorMessage: string): Uint8Array<ArrayBuffer> {
  const rejected = Number.isSafeInteger(rejectedSpans) && rejectedSpans > 0 ? rejectedSpans : 0;
  if (rejected === 0 && errorMessage === '') return Buffer.alloc(0);
  begin();
  tag(10); // 1 partial_success
  const at = beginLen(1);
  if (rejected > 0) {
    tag(8); // 1 rejected_spans
    varintNumber(rejected);
  }
  stringField(18, errorMessage); // 2 error_message
  endLen(at, 1);
  return finish();
}

export interface ExportResponseJson {
  partialSuccess?: { rejectedSpans: string; errorMessage: string };
}

/** The OTLP/JSON ExportTraceServiceResponse (int64 as a decimal string, as proto3 JSON has it). */
export function exportResponseJson(rejectedSpans: number, errorMessage: string): ExportResponseJson {
  const rejected = Number.isSafeInteger(rejectedSpans) && rejectedSpans > 0 ? rejectedSpans : 0;
  if (rejected === 0 && errorMessage === '') return {};
  return { partialSuccess: { rejectedSpans: String(rejected), errorMessage } };
}

/**
 * An ExportTraceServiceRequest holding `spans`: one ResourceSpans per distinct
 * `resource` object and one ScopeSpans per distinct `scope` object within it
 * (by identity, in order of first appearance), so that decoding the result
 * gives back equal spans with the same sharing.
 */
export function encodeTraceRequestProto(spans: readonly Span[]): Uint8Array<ArrayBuffer> {
  // resource -> scope -> spans, in first-seen order (Maps keep insertion order).
  const groups = new Map<Resource, Map<InstrumentationScope, Span[]>>();
  let lastResource: Resource | undefined;
  let lastScope: InstrumentationScope | undefined;
  let lastList: Span[] = [];
  for (const span of spans) {
    if (span.resource !== lastResource || span.scope !== lastScope) {
      lastResource = span.resource;
      lastScope = span.scope;
      let scopes = groups.get(lastResource);
      if (scopes === undefined) groups.set(lastResource, (scopes = new Map()));
      let list = scopes.get(lastScope);
      if (list === undefined) scopes.set(lastScope, (list = []));
      lastList = list;
    }
    lastList.push(span);
  }

  begin();
  for (const [resource, scopes] of groups) {
    tag(10); // request 1 resource_spans
    const rsAt = beginLen(3);
    if (resource.attributes.length > 0 || resource.droppedAttributesCount !== 0) {
      tag(10); // 1 resource
      const at = beginLen(2);
      keyValues(10, resource.attributes, 0);
      uint32Field(16, resource.droppedAttributesCount);
      endLen(at, 2);
    }
    for (const [scope, list] of scopes) {
      tag(18); // 2 scope_spans
      const ssAt = beginLen(3);
      writeScope(scope);
      for (let i = 0; i < list.length; i++) writeSpan(list[i]!);
      stringField(26, scope.schemaUrl); // 3 schema_url
      endLen(ssAt, 3);
    }
    stringField(26, resource.schemaUrl); // 3 schema_url
    endLen(rsAt, 3);
  }
  return finish();
}

// ---- writer state (valid during one encode call) ----

// One scratch buffer, reused across calls (results are copied out of it), so
// a call neither zero-fills nor grows a fresh buffer. A scratch buffer grown
// by an unusually large request is dropped afterwards.
const SCRATCH_KEEP = 4 << 20;
let scratch: Buffer = Buffer.alloc(64 << 10);
let out: Buffer = scratch;
let outView: DataView<ArrayBufferLike> = new DataView(out.buffer, out.byteOffset, out.byteLength);
let p = 0;

function begin(): void {
  out = scratch;
  outView = new DataView(out.buffer, out.byteOffset, out.byteLength);
  p = 0;
}

/** A Buffer (what Node APIs such as grpc-js want) of its own, exactly as long as the message. */
function finish(): Uint8Array<ArrayBuffer> {
  const result = Buffer.allocUnsafeSlow(p);
  out.copy(result, 0, 0, p);
  if (out.length <= SCRATCH_KEEP) scratch = out;
  out = scratch;
  return result;
}

function ensure(n: number): void {
  if (p + n > out.length) grow(p + n);
}

function grow(needed: number): void {
  let size = out.length * 2;
  while (size < needed) size *= 2;
  const next = Buffer.allocUnsafeSlow(size); // only bytes written later are ever copied out
  out.copy(next, 0, 0, p);
  out = next;
  outView = new DataView(out.buffer, out.byteOffset, out.byteLength);
}

/** Tags here are all below 2^14 (field numbers < 2048). */
function tag(t: number): void {
  ensure(2);
  if (t < 0x80) out[p++] = t;
  else {
    out[p++] = (t & 0x7f) | 0x80;
    out[p++] = t >>> 7;
  }
}

function varint32(v: number): void {
  ensure(5);
  while (v > 0x7f) {
    out[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[p++] = v;
}

function varint64(lo: number, hi: number): void {
  ensure(10);
  while (hi !== 0 || lo > 0x7f) {
    out[p++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  out[p++] = lo;
}

/** A non-negative safe integer. */
function varintNumber(v: number): void {
  if (v <= 0xffffffff) varint32(v >>> 0);
  else varint64(v >>> 0, Math.floor(v / 4294967296) >>> 0);
}

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Reserves `reserve` bytes for a length prefix; returns where it goes. */
function beginLen(reserve: number): number {
  ensure(reserve);
  const at = p;
  p += reserve;
  return at;
}

function endLen(at: number, reserve: number): void {
  const len = p - at - reserve;
  const size = varintSize(len);
  if (size !== reserve) {
    ensure(size - reserve);
    out.copyWithin(at + size, at + reserve, p);
    p += size - reserve;
  }
  let v = len;
  let i = at;
  while (v > 0x7f) {
    out[i++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[i] = v;
}

function uint32Field(t: number, v: number): void {
  if (v === 0) return;
  tag(t);
  varint32(v >>> 0);
}

function fixed32Field(t: number, v: number): void {
  if (v === 0) return;
  tag(t);
  ensure(4);
  outView.setUint32(p, v >>> 0, true);
  p += 4;
}

function fixed64Field(t: number, v: bigint): void {
  if (v === 0n) return;
  tag(t);
  ensure(8);
  outView.setBigUint64(p, v, true);
  p += 8;
}

function stringField(t: number, s: string): void {
  if (s.length === 0) return;
  tag(t);
  string(s);
}

const SHORT_STRING = 24;

/** Length-prefixed UTF-8 (lone surrogates become U+FFFD, as TextEncoder does). */
function string(s: string): void {
  const n = s.length;
  ensure(5 + n * 3);
  if (n <= SHORT_STRING) {
    const start = p + 1;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      out[start + i] = c;
    }
    if (i === n) {
      out[p] = n;
      p = start + n;
      return;
    }
    // At most 3 bytes per UTF-16 unit: the length still fits one byte.
    const written = out.write(s, start, 'utf8');
    out[p] = written;
    p = start + written;
    return;
  }
  const bytes = Buffer.byteLength(s, 'utf8');
  varint32(bytes);
  p += out.write(s, p, 'utf8');
}

const HEX_VALUE = new Int8Array(128).fill(0);
for (let i = 0; i < 10; i++) HEX_VALUE[48 + i] = i;
for (let i = 0; i < 6; i++) HEX_VALUE[65 + i] = HEX_VALUE[97 + i] = 10 + i;

/** A hex id as bytes ('' omitted). Model ids are lowercase hex; other characters become zero nibbles. */
function hexField(t: number, hex: string): void {
  const n = hex.length >> 1;
  if (n === 0) return;
  tag(t);
  varint32(n);
  ensure(n);
  for (let i = 0; i < n; i++) {
    out[p++] = (HEX_VALUE[hex.charCodeAt(2 * i) & 0x7f]! << 4) | HEX_VALUE[hex.charCodeAt(2 * i + 1) & 0x7f]!;
  }
}

/** int64 decimal text as a varint (two's complement for negatives). */
function int64Text(s: string): void {
  if (s.length <= 15) {
    const v = +s;
    if (Number.isInteger(v)) {
      if (v >= 0) varintNumber(v);
      else {
        const m = -v;
        let lo = m >>> 0;
        let hi = Math.floor(m / 4294967296) >>> 0;
        lo = (~lo + 1) >>> 0;
        hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
        varint64(lo, hi);
      }
      return;
    }
  }
  let b = 0n;
  try {
    b = BigInt.asUintN(64, BigInt(s));
  } catch {
    // Not decimal text: the model promises it is, so this is a bug upstream;
    // encode 0 rather than lose the whole request.
  }
  varint64(Number(b & 0xffffffffn), Number(b >> 32n));
}

function keyValues(t: number, kvs: readonly KeyValue[], depth: number): void {
  for (let i = 0; i < kvs.length; i++) {
    const kv = kvs[i]!;
    tag(t);
    const at = beginLen(1);
    stringField(10, kv.key);
    tag(18);
    const vAt = beginLen(1);
    anyValue(kv.value, depth);
    endLen(vAt, 1);
    endLen(at, 1);
  }
}

/** AnyValue body. Oneof members are written even when zero/empty: presence is the information. */
function anyValue(v: AnyValue, depth: number): void {
  if (v.stringValue !== undefined) {
    tag(10);
    string(v.stringValue);
  } else if (v.intValue !== undefined) {
    tag(24);
    int64Text(v.intValue);
  } else if (v.boolValue !== undefined) {
    tag(16);
    ensure(1);
    out[p++] = v.boolValue ? 1 : 0;
  } else if (v.doubleValue !== undefined) {
    tag(33);
    ensure(8);
    outView.setFloat64(p, v.doubleValue, true);
    p += 8;
  } else if (v.arrayValue !== undefined) {
    // Deeper than the decoder accepts: drop the value, keep the request decodable.
    if (depth >= MAX_ANY_VALUE_DEPTH) return;
    tag(42);
    const at = beginLen(1);
    const values = v.arrayValue.values;
    for (let i = 0; i < values.length; i++) {
      tag(10);
      const vAt = beginLen(1);
      anyValue(values[i]!, depth + 1);
      endLen(vAt, 1);
    }
    endLen(at, 1);
  } else if (v.kvlistValue !== undefined) {
    if (depth >= MAX_ANY_VALUE_DEPTH) return;
    tag(50);
    const at = beginLen(1);
    keyValues(10, v.kvlistValue.values, depth + 1);
    endLen(at, 1);
  } else if (v.bytesValue !== undefined) {
    tag(58);
    // byteLength is an upper bound for malformed base64: write, then fix the prefix.
    const n = Buffer.byteLength(v.bytesValue, 'base64');
    const reserve = varintSize(n);
    const at = beginLen(reserve);
    ensure(n);
    p += out.write(v.bytesValue, p, n, 'base64');
    endLen(at, reserve);
  }
}

function writeScope(scope: InstrumentationScope): void {
  if (scope.name === '' && scope.version === '' && scope.attributes.length === 0 && scope.droppedAttributesCount === 0) return;
  tag(10); // ScopeSpans 1 scope
  const at = beginLen(1);
  stringField(10, scope.name);
  stringField(18, scope.version);
  keyValues(26, scope.attributes, 0);
  uint32Field(32, scope.droppedAttributesCount);
  endLen(at, 1);
}

function writeSpan(s: Span): void {
  tag(18); // ScopeSpans 2 spans
  const at = beginLen(2);
  hexField(10, s.traceId);
  hexField(18, s.spanId);
  stringField(26, s.traceState);
  hexField(34, s.parentSpanId);
  stringField(42, s.name);
  if (s.kind !== 0) {
    tag(48);
    if (s.kind > 0) varint32(s.kind);
    else varint64(s.kind >>> 0, 0xffffffff); // negative enum: sign-extended
  }
  fixed64Field(57, s.startTimeUnixNano);
  fixed64Field(65, s.endTimeUnixNano);
  keyValues(74, s.attributes, 0);
  uint32Field(80, s.droppedAttributesCount);
  for (let i = 0; i < s.events.length; i++) writeEvent(s.events[i]!);
  uint32Field(96, s.droppedEventsCount);
  for (let i = 0; i < s.links.length; i++) writeLink(s.links[i]!);
  uint32Field(112, s.droppedLinksCount);
  const status = s.status;
  if (status.code !== 0 || status.message !== '') {
    tag(122);
    const sAt = beginLen(1);
    stringField(18, status.message);
    if (status.code !== 0) {
      tag(24);
      if (status.code > 0) varint32(status.code);
      else varint64(status.code >>> 0, 0xffffffff);
    }
    endLen(sAt, 1);
  }
  fixed32Field(133, s.flags);
  endLen(at, 2);
}

function writeEvent(e: SpanEvent): void {
  tag(90);
  const at = beginLen(1);
  fixed64Field(9, e.timeUnixNano);
  stringField(18, e.name);
  keyValues(26, e.attributes, 0);
  uint32Field(32, e.droppedAttributesCount);
  endLen(at, 1);
}

function writeLink(l: SpanLink): void {
  tag(106);
  const at = beginLen(1);
  hexField(10, l.traceId);
  hexField(18, l.spanId);
  stringField(26, l.traceState);
  keyValues(34, l.attributes, 0);
  uint32Field(40, l.droppedAttributesCount);
  fixed32Field(53, l.flags);
  endLen(at, 1);
}
