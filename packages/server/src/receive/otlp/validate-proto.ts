// Structural check of an OTLP/protobuf ExportTraceServiceRequest, for the
// ingest thread: it walks the same bytes as decodeTraceRequestProto, by the
// same rules, but builds no strings, ids or objects, so that the full decode
// can run on another thread (store/worker/) while this thread still answers
// the client exactly as the decoder would have.
//
// Agreement with decode-proto.ts is the contract: same ok / not ok, same
// error text, same count of valid spans, same rejectedSpans and errorMessage.
// The walk below mirrors the decoder function by function; validate-proto.test.ts
// holds the two to each other on the decoder's own corpora. A change to the
// decoder's rules must be made here too (the tests fail until it is).

import { Buffer } from 'node:buffer';
import { MAX_ANY_VALUE_DEPTH } from './decode-proto.js';
import { MAX_REJECTION_REASONS, Rejections } from './result.js';
import type { MessageInfo } from './wire-schema.js';
import { VARINT, I64, LEN, I32, WIRE_TYPE_NAMES, M_REQUEST, M_RESOURCE_SPANS, M_RESOURCE, M_SCOPE_SPANS, M_SCOPE, M_SPAN, M_EVENT, M_LINK, M_STATUS, M_KEY_VALUE, M_ANY_VALUE, M_ARRAY_VALUE, M_KVLIST_VALUE } from './wire-schema.js';

/** What decodeTraceRequestProto would say about a request, without the spans. */
export type ValidateOutcome =
  | { ok: true; /** valid spans */ spans: number; rejectedSpans: number; errorMessage: string }
  | { ok: false; error: string };


class Invalid {
  constructor(readonly message: string) {}
}

function fail(message: string): never {
  throw new Invalid(message);
}

const EMPTY = new Uint8Array(0);

// ---- walk state (valid during one validateTraceRequestProto call) ----
// The cursor is a local of each walker (passed in, returned): kept in a
// register, that is most of this walk's speed. Helpers that have a second
// result leave it here.
let buf: Uint8Array = EMPTY;
/** Where the bytes of the LEN field last measured by lenEnd() begin. */
let start = 0;
/** Halves of the last varint read by varintEnd(). */
let lo = 0;
let hi = 0;
let valid = 0;
let rejections = new Rejections();

/**
 * Checks an OTLP ExportTraceServiceRequest without decoding it: the outcome is
 * exactly decodeTraceRequestProto's, with the spans counted instead of built.
 * Never throws.
 */
export function validateTraceRequestProto(input: Uint8Array): ValidateOutcome {
  if (!(input instanceof Uint8Array)) return { ok: false, error: 'request body is not a byte array' };
  // One receiver map at every element load, whether a Buffer came in or not.
  buf = input.constructor === Uint8Array ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  valid = 0;
  rejections = new Rejections();
  try {
    walkRequest(0, buf.length);
    return { ok: true, spans: valid, rejectedSpans: rejections.count, errorMessage: rejections.message() };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, error: e.message };
    // Unreachable (no allocation grows with the input, recursion is bounded); still a value, not a throw.
    return { ok: false, error: `internal validator error: ${String(e)}` };
  } finally {
    buf = EMPTY;
  }
}

// ---- primitives: decode-proto.ts's, with the cursor passed along ----

/** The position after the varint at `p` (up to 10 bytes); its value's halves go to lo/hi. */
function varintEnd(p: number): number {
  const b = buf;
  const at = p;
  const n = b.length;
  let l = 0;
  let h = 0;
  let x = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (p >= n) fail(`truncated varint at offset ${at}`);
    x = b[p++]!;
    l |= (x & 0x7f) << shift;
    if (x < 0x80) {
      lo = l >>> 0;
      hi = 0;
      return p;
    }
  }
  // Fifth byte: 4 bits for the low half, 3 for the high half.
  if (p >= n) fail(`truncated varint at offset ${at}`);
  x = b[p++]!;
  l |= (x & 0x0f) << 28;
  h = (x & 0x7f) >> 4;
  if (x < 0x80) {
    lo = l >>> 0;
    hi = h;
    return p;
  }
  for (let shift = 3; shift < 38; shift += 7) {
    if (p >= n) fail(`truncated varint at offset ${at}`);
    x = b[p++]!;
    h |= (x & 0x7f) << shift;
    if (x < 0x80) {
      lo = l >>> 0;
      hi = h >>> 0;
      return p;
    }
  }
  fail(`malformed varint at offset ${at}: longer than 10 bytes`);
}

/** The position after a varint field's value. */
function skipVarint(p: number): number {
  const x = buf[p];
  return x !== undefined && x < 0x80 ? p + 1 : varintEnd(p);
}

/**
 * The end of the LEN field whose length prefix is at `p`, checked against the
 * enclosing message's `end`; `start` is left where the field's bytes begin.
 * The one-byte case is kept small enough to be inlined everywhere.
 */
function lenEnd(p: number, end: number): number {
  const n = buf[p];
  if (n !== undefined && n < 0x80 && n < end - p) {
    start = p + 1;
    return start + n;
  }
  return lenEndSlow(p, end);
}

function lenEndSlow(p: number, end: number): number {
  const at = p;
  let n = buf[p];
  if (n !== undefined && n < 0x80) {
    p++;
  } else {
    p = varintEnd(p);
    if (hi !== 0 || lo > 0x7fffffff) fail(`length at offset ${at} is too large`);
    n = lo;
  }
  if (n > end - p) {
    const where = end === buf.length ? 'input' : 'enclosing message';
    fail(`length ${n} at offset ${at} runs past the end of the ${where} (${Math.max(0, end - p)} bytes left)`);
  }
  start = p;
  return p + n;
}

function fixed64End(p: number, end: number, what: string): number {
  if (end - p < 8) fail(`truncated fixed64 ${what} at offset ${p}`);
  return p + 8;
}

function flagsEnd(p: number, end: number): number {
  if (end - p < 4) fail(`truncated fixed32 flags at offset ${p}`);
  return p + 4;
}

function isZero(at: number, n: number): boolean {
  const b = buf;
  for (let i = at; i < at + n; i++) if (b[i] !== 0) return false;
  return true;
}

/** Skips a field the walk does not look into; a known field with the wrong wire type is corrupt data. */
function skipField(tag: number, at: number, p: number, end: number, info: MessageInfo): number {
  const field = tag >>> 3;
  const wt = tag & 7;
  if (field === 0) fail(`invalid field number 0 in ${info.name} at offset ${at}`);
  if (wt === 3 || wt === 4) fail(`unsupported group (wire type ${wt}) in field ${field} of ${info.name} at offset ${at}`);
  if (wt > 5) fail(`invalid wire type ${wt} in field ${field} of ${info.name} at offset ${at}`);
  const known = info.fields[field];
  if (known !== undefined && known[1] !== wt) {
    fail(
      `${info.name}.${known[0]} (field ${field}) at offset ${at} has wire type ${wt} (${WIRE_TYPE_NAMES[wt]}), ` +
        `expected ${known[1]} (${WIRE_TYPE_NAMES[known[1]]})`,
    );
  }
  switch (wt) {
    case VARINT:
      return varintEnd(p);
    case I64:
      if (end - p < 8) fail(`truncated fixed64 field ${field} of ${info.name} at offset ${p}`);
      return p + 8;
    case LEN:
      return lenEnd(p, end);
    default: // I32
      if (end - p < 4) fail(`truncated fixed32 field ${field} of ${info.name} at offset ${p}`);
      return p + 4;
  }
}

/** After a message's field loop: the last field must not have run past the message end. */
function checkEnd(p: number, end: number, at: number, info: MessageInfo): void {
  if (p !== end) fail(`field at offset ${at} runs past the end of its ${info.name} message at offset ${end}`);
}

// ---- messages: one walker per decoder function, the same cases in the same order ----
// Each walks the bytes [p, end) of one message. A nested message is measured
// with lenEnd() and walked from `start`; the walker's checkEnd() leaves the
// caller's cursor at its end.

function walkRequest(p: number, end: number): void {
  const b = buf;
  let at = 0;
  while (p < end) {
    at = p;
    let tag = b[p]!;
    if (tag < 0x80) p++;
    else tag = ((p = varintEnd(p)), lo);
    if (tag === 10) {
      const e = lenEnd(p, end);
      walkResourceSpans(start, e);
      p = e;
    } else {
      p = skipField(tag, at, p, end, M_REQUEST);
    }
  }
  checkEnd(p, end, at, M_REQUEST);
}

function walkResourceSpans(p: number, end: number): void {
  const b = buf;
  let at = p;
  while (p < end) {
    at = p;
    let tag = b[p]!;
    if (tag < 0x80) p++;
    else tag = ((p = varintEnd(p)), lo);
    switch (tag) {
      case 10: {
        // 1 resource
        const e = lenEnd(p, end);
        walkResource(start, e);
        p = e;
        break;
      }
      case 18: {
        // 2 scope_spans
        const e = lenEnd(p, end);
        walkScopeSpans(start, e);
        p = e;
        break;
      }
      case 26: // 3 schema_url
        p = lenEnd(p, end);
        break;
      default:
        p = skipField(tag, at, p, end, M_RESOURCE_SPANS);
    }
  }
  checkEnd(p, end, at, M_RESOURCE_SPANS);
}

function walkResource(p: number, end: number): void {
  const b = buf;
  let at = p;
  while (p < end) {
    at = p;
    let tag = b[p]!;
    if (tag < 0x80) p++;
    else tag = ((p = varintEnd(p)), lo);
    switch (tag) {
      case 10: {
        // 1 attributes
        const e = lenEnd(p, end);
        walkKeyValue(start, e, 0);
        p = e;
        break;
      }
      case 16: // 2 dropped_attributes_count
        p = skipVarint(p);
        break;
      default: // 3 entity_refs is skipped by the decoder too
        p = skipField(tag, at, p, end, M_RESOURCE);
    }
  }
  checkEnd(p, end, at, M_RESOURCE);
}

function walkScopeSpans(p: number, end: number): void {
  const b = buf;
  let at = p;
  while (p < end) {
    at = p;
    let tag = b[p]!;
    if (tag < 0x80) p++;
    else tag = ((p = varintEnd(p)), lo);
    switch (tag) {
      case 10: {
        // 1 scope
        const e = lenEnd(p, end);
        walkScope(start, e);
        p = e;
        break;
      }
      case 18: {
        // 2 spans
        const e = lenEnd(p, end);
        walkSpan(start, e);
        p = e;
        break;
      }
      case 26: // 3 schema_url
        p = lenEnd(p, end);
        break;
      default:
        p = skipField(tag, at, p, end, M_SCOPE_SPANS);
    }
  }
  checkEnd(p, end, at, M_SCOPE_SPANS);
}

function walkScope(p: number, end: number): void {
  const b = buf;
  let at = p;
  while (p < end) {
    at = p;
    let tag = b[p]!;
    if (tag < 0x80) p++;
    else tag = ((p = varintEnd(p)), lo);
    switch (tag) {
      case 10: // 1 name
      case 18: // 2 version
        p = lenEnd(p, end);
        break;
      case 26: {
        // 3 attributes
        const e = lenEnd(p, end);
        walkKeyValue(start, e, 0);
        p = e;
        break;
      }
      case 32: // 4 dropped_attributes_count
        p = skipVarint(p);
        break;
      default:
        p = skipField(tag, at, p, end, M_SCOPE);
    }
  }
  checkEnd(p, end, at, M_SCOPE);
}

const ID_ALL_ZERO = -1;

function walkSpan(p: number, end: number): void {
  const b = buf;
  // Byte length of each id as sent, or ID_ALL_ZERO; valid when 16 / 8 / 0-or-8.
  let traceIdLen = 0;
  let spanIdLen = 0;
  let parentLen = 0;
  // Where the last name field's bytes are: read only if the span is rejected.
  let nameAt = 0;
  let nameEnd = 0;
  let at = p;
  while (p < end) {
    at = p;
    let tag = b[p]!;
    if (tag < 0x80) p++;
    else tag = ((p = varintEnd(p)), lo);
    switch (tag) {
      case 10: {
        // 1 trace_id
        p = lenEnd(p, end);
        const n = p - start;
        traceIdLen = n === 16 ? (isZero(start, 16) ? ID_ALL_ZERO : 16) : n;
        break;
      }
      case 18: {
        // 2 span_id
        p = lenEnd(p, end);
        const n = p - start;
        spanIdLen = n === 8 ? (isZero(start, 8) ? ID_ALL_ZERO : 8) : n;
        break;
      }
      case 26: // 3 trace_state
        p = lenEnd(p, end);
        break;
      case 34: // 4 parent_span_id
        p = lenEnd(p, end);
        parentLen = p - start;
        break;
      case 42: // 5 name
        p = nameEnd = lenEnd(p, end);
        nameAt = start;
        break;
      case 48: // 6 kind
        p = skipVarint(p);
        break;
      case 57: // 7 start_time_unix_nano
        p = fixed64End(p, end, 'start_time_unix_nano');
        break;
      case 65: // 8 end_time_unix_nano
        p = fixed64End(p, end, 'end_time_unix_nano');
        break;
      case 74: {
        // 9 attributes
        const e = lenEnd(p, end);
        walkKeyValue(start, e, 0);
        p = e;
        break;
      }
      case 80: // 10 dropped_attributes_count
        p = skipVarint(p);
        break;
      case 90: {
        // 11 events
        const e = lenEnd(p, end);
        walkEvent(start, e);
        p = e;
        break;
      }
      case 96: // 12 dropped_events_count
        p = skipVarint(p);
        break;
      case 106: {
        // 13 links
        const e = lenEnd(p, end);
        walkLink(start, e);
        p = e;
        break;
      }
      case 112: // 14 dropped_links_count
        p = skipVarint(p);
        break;
      case 122: {
        // 15 status
        const e = lenEnd(p, end);
        walkStatus(start, e);
        p = e;
        break;
      }
      case 133: // 16 flags (fixed32)
        p = flagsEnd(p, end);
        break;
      default:
        p = skipField(tag, at, p, end, M_SPAN);
    }
  }
  checkEnd(p, end, at, M_SPAN);
  if (traceIdLen === 16 && spanIdLen === 8 && (parentLen === 0 || parentLen === 8)) {
    valid++;
  } else if (rejections.count >= MAX_REJECTION_REASONS) {
    rejections.add('', ''); // counted, not named: the message names the first few only
  } else if (traceIdLen !== 16) {
    rejections.add(spanName(nameAt, nameEnd), `trace_id must be 16 bytes and not all zero (got ${idProblem(traceIdLen)})`);
  } else if (spanIdLen !== 8) {
    rejections.add(spanName(nameAt, nameEnd), `span_id must be 8 bytes and not all zero (got ${idProblem(spanIdLen)})`);
  } else {
    rejections.add(spanName(nameAt, nameEnd), `parent_span_id must be empty or 8 bytes (got ${parentLen} bytes)`);
  }
}

function idProblem(len: number): string {
  return len === ID_ALL_ZERO ? 'all zero bytes' : `${len} bytes`;
}

/** The span name as the decoder builds it (UTF-8; invalid sequences become U+FFFD). */
function spanName(from: number, to: number): string {
  if (from === to) return '';
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('utf8', from, to);
}

function walkStatus(p: number, end: number): void {
  const b = buf;
  let at = p;
  while (p < end) {
    at = p;
    let tag = b[p]!;
    if (tag < 0x80) p++;
    else tag = ((p = varintEnd(p)), lo);
    switch (tag) {
      case 18: // 2 message
        p = lenEnd(p, end);
        break;
      case 24: // 3 code
        p = skipVarint(p);
        break;
      default:
        p = skipField(tag, at, p, end, M_STATUS);
    }
  }
  checkEnd(p, end, at, M_STATUS);
}

function walkEvent(p: number, end: number): void {
  const b = buf;
  let at = p;
  while (p < end) {
    at = p;
    let tag = b[p]!;
    if (tag < 0x80) p++;
    else tag = ((p = varintEnd(p)), lo);
    switch (tag) {
      case 9: // 1 time_unix_nano
        p = fixed64End(p, end, 'time_unix_nano');
        break;
      case 18: // 2 name
        p = lenEnd(p, end);
        break;
      case 26: {
        // 3 attributes
        const e = lenEnd(p, end);
        walkKeyValue(start, e, 0);
        p = e;
        break;
      }
      case 32: // 4 dropped_attributes_count
        p = skipVarint(p);
        break;
      default:
        p = skipField(tag, at, p, end, M_EVENT);
    }
  }
  checkEnd(p, end, at, M_EVENT);
}

function walkLink(p: number, end: number): void {
  const b = buf;
  let at = p;
  while (p < end) {
    at = p;
    let tag = b[p]!;
    if (tag < 0x80) p++;
    else tag = ((p = varintEnd(p)), lo);
    switch (tag) {
      case 10: // 1 trace_id (kept as sent, any length)
      case 18: // 2 span_id
      case 26: // 3 trace_state
        p = lenEnd(p, end);
        break;
      case 34: {
        // 4 attributes
        const e = lenEnd(p, end);
        walkKeyValue(start, e, 0);
        p = e;
        break;
      }
      case 40: // 5 dropped_attributes_count
        p = skipVarint(p);
        break;
      case 53: // 6 flags (fixed32)
        p = flagsEnd(p, end);
        break;
      default:
        p = skipField(tag, at, p, end, M_LINK);
    }
  }
  checkEnd(p, end, at, M_LINK);
}

function walkKeyValue(p: number, end: number, depth: number): void {
  const b = buf;
  // What SDKs send: a short key, then a value holding one short string, a
  // double or a one-byte varint, nothing else. Such bytes pass the general
  // walk below, which has nothing to record for them: accept them at once.
  const kn = b[p + 1]!;
  if (b[p] === 0x0a && kn < 0x80 && b[p + 2 + kn] === 0x12) {
    const v = p + 4 + kn;
    if (b[v - 1]! < 0x80 && v + b[v - 1]! === end) {
      const t = b[v];
      if (t === 0x0a ? b[v + 1]! < 0x80 && v + 2 + b[v + 1]! === end : t === 0x21 ? v + 9 === end : (t === 0x10 || t === 0x18) && b[v + 1]! < 0x80 && v + 2 === end) return;
    }
  }
  let at = p;
  while (p < end) {
    at = p;
    let tag = b[p]!;
    if (tag < 0x80) p++;
    else tag = ((p = varintEnd(p)), lo);
    if (tag === 10) {
      // 1 key
      p = lenEnd(p, end);
    } else if (tag === 18) {
      // 2 value
      const e = lenEnd(p, end);
      walkAnyValue(start, e, depth);
      p = e;
    } else {
      p = skipField(tag, at, p, end, M_KEY_VALUE);
    }
  }
  checkEnd(p, end, at, M_KEY_VALUE);
}

function walkAnyValue(p: number, end: number, depth: number): void {
  const b = buf;
  let at = p;
  while (p < end) {
    at = p;
    let tag = b[p]!;
    if (tag < 0x80) p++;
    else tag = ((p = varintEnd(p)), lo);
    switch (tag) {
      case 10: // 1 string_value
      case 58: // 7 bytes_value
        p = lenEnd(p, end);
        break;
      case 16: // 2 bool_value
      case 24: // 3 int_value
        p = skipVarint(p);
        break;
      case 33: // 4 double_value
        p = fixed64End(p, end, 'double_value');
        break;
      case 42: {
        // 5 array_value
        const e = lenEnd(p, end);
        if (depth >= MAX_ANY_VALUE_DEPTH) fail(`AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels at offset ${at}`);
        walkArrayValue(start, e, depth + 1);
        p = e;
        break;
      }
      case 50: {
        // 6 kvlist_value
        const e = lenEnd(p, end);
        if (depth >= MAX_ANY_VALUE_DEPTH) fail(`AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels at offset ${at}`);
        walkKeyValueList(start, e, depth + 1);
        p = e;
        break;
      }
      default:
        p = skipField(tag, at, p, end, M_ANY_VALUE);
    }
  }
  checkEnd(p, end, at, M_ANY_VALUE);
}

function walkArrayValue(p: number, end: number, depth: number): void {
  const b = buf;
  let at = p;
  while (p < end) {
    at = p;
    let tag = b[p]!;
    if (tag < 0x80) p++;
    else tag = ((p = varintEnd(p)), lo);
    if (tag === 10) {
      const e = lenEnd(p, end);
      walkAnyValue(start, e, depth);
      p = e;
    } else {
      p = skipField(tag, at, p, end, M_ARRAY_VALUE);
    }
  }
  checkEnd(p, end, at, M_ARRAY_VALUE);
}

function walkKeyValueList(p: number, end: number, depth: number): void {
  const b = buf;
  let at = p;
  while (p < end) {
    at = p;
    let tag = b[p]!;
    if (tag < 0x80) p++;
    else tag = ((p = varintEnd(p)), lo);
    if (tag === 10) {
      const e = lenEnd(p, end);
      walkKeyValue(start, e, depth);
      p = e;
    } else {
      p = skipField(tag, at, p, end, M_KVLIST_VALUE);
    }
  }
  checkEnd(p, end, at, M_KVLIST_VALUE);
}
