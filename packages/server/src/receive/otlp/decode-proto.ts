// OTLP/protobuf trace decoder, hand-written for the ingest hot path: wire
// bytes go straight to model Spans with no intermediate message objects.
//
// Field numbers: ./proto/ (opentelemetry-proto v1). Wire format:
// https://protobuf.dev/programming-guides/encoding/
//
// The decoder keeps its cursor in module state (it is synchronous and never
// re-entered) and signals malformed input with an internal exception that the
// one public entry point turns into `{ ok: false }`; nothing escapes it.

import { Buffer } from 'node:buffer';
import type { AnyValue, InstrumentationScope, KeyValue, Resource, Span, SpanEvent, SpanKind, SpanLink, StatusCode } from '@ariadne/model';
import { bytesToHex, serviceOf } from '@ariadne/model';
import { Rejections, type DecodeOutcome } from './result.js';
import type { MessageInfo } from './wire-schema.js';
import { VARINT, I64, LEN, I32, WIRE_TYPE_NAMES, M_REQUEST, M_RESOURCE_SPANS, M_RESOURCE, M_SCOPE_SPANS, M_SCOPE, M_SPAN, M_EVENT, M_LINK, M_STATUS, M_KEY_VALUE, M_ANY_VALUE, M_ARRAY_VALUE, M_KVLIST_VALUE } from './wire-schema.js';

/** Deepest AnyValue nesting accepted (array/kvlist inside array/kvlist...). */
export const MAX_ANY_VALUE_DEPTH = 32;


class DecodeFailure {
  constructor(readonly message: string) {}
}

function fail(message: string): never {
  throw new DecodeFailure(message);
}

// Hex of one byte as two char codes, for ids built with one fromCharCode call
// (a flat string, unlike concatenation; measurably faster to hash later).
const HEX_HI: number[] = [];
const HEX_LO: number[] = [];
for (let i = 0; i < 256; i++) {
  HEX_HI.push('0123456789abcdef'.charCodeAt(i >> 4));
  HEX_LO.push('0123456789abcdef'.charCodeAt(i & 15));
}

const EMPTY = Buffer.alloc(0);
const EMPTY_VIEW = new DataView(EMPTY.buffer, 0, 0);

// ---- decoder state (valid during one decodeTraceRequestProto call) ----
let buf: Buffer = EMPTY;
let view: DataView<ArrayBufferLike> = EMPTY_VIEW;
let pos = 0;
/** Halves of the last varint64() read. */
let lo = 0;
let hi = 0;
let spans: Span[] = [];
let rejections = new Rejections();

/**
 * Decodes an OTLP ExportTraceServiceRequest. Spans with invalid ids are left
 * out and counted (OTLP partial success); input that is not a well-formed
 * request gives `{ ok: false, error }` naming the offset. Never throws.
 */
export function decodeTraceRequestProto(input: Uint8Array): DecodeOutcome {
  if (!(input instanceof Uint8Array)) return { ok: false, error: 'request body is not a byte array' };
  buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  pos = 0;
  spans = [];
  rejections = new Rejections();
  try {
    decodeRequest(buf.length);
    return {
      ok: true,
      result: { spans, rejectedSpans: rejections.count, errorMessage: rejections.message() },
    };
  } catch (e) {
    if (e instanceof DecodeFailure) return { ok: false, error: e.message };
    return { ok: false, error: `internal decoder error at offset ${pos}: ${String(e)}` };
  } finally {
    // Keep neither the caller's bytes nor the result alive.
    buf = EMPTY;
    view = EMPTY_VIEW;
    spans = [];
  }
}

// ---- primitives ----

/** A varint's low 32 bits, unsigned (uint32 fields, enums, tags). */
function varint32(): number {
  const b = buf[pos];
  if (b !== undefined && b < 0x80) {
    pos++;
    return b;
  }
  varint64();
  return lo;
}

/** Reads a varint of up to 10 bytes into `lo`/`hi`. */
function varint64(): void {
  const at = pos;
  const n = buf.length;
  let l = 0;
  let h = 0;
  let b = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= n) fail(`truncated varint at offset ${at}`);
    b = buf[pos++]!;
    l |= (b & 0x7f) << shift;
    if (b < 0x80) {
      lo = l >>> 0;
      hi = 0;
      return;
    }
  }
  // Fifth byte: 4 bits for the low half, 3 for the high half.
  if (pos >= n) fail(`truncated varint at offset ${at}`);
  b = buf[pos++]!;
  l |= (b & 0x0f) << 28;
  h = (b & 0x7f) >> 4;
  if (b < 0x80) {
    lo = l >>> 0;
    hi = h;
    return;
  }
  for (let shift = 3; shift < 38; shift += 7) {
    if (pos >= n) fail(`truncated varint at offset ${at}`);
    b = buf[pos++]!;
    h |= (b & 0x7f) << shift;
    if (b < 0x80) {
      lo = l >>> 0;
      hi = h >>> 0;
      return;
    }
  }
  fail(`malformed varint at offset ${at}: longer than 10 bytes`);
}

/** The length prefix of a LEN field, checked against the enclosing message end. */
function length(end: number): number {
  const at = pos;
  let n = buf[pos];
  if (n !== undefined && n < 0x80) {
    pos++;
  } else {
    varint64();
    if (hi !== 0 || lo > 0x7fffffff) fail(`length at offset ${at} is too large`);
    n = lo;
  }
  if (n > end - pos) {
    const where = end === buf.length ? 'input' : 'enclosing message';
    fail(`length ${n} at offset ${at} runs past the end of the ${where} (${Math.max(0, end - pos)} bytes left)`);
  }
  return n;
}

function fixed64Start(end: number, what: string): number {
  if (end - pos < 8) fail(`truncated fixed64 ${what} at offset ${pos}`);
  const at = pos;
  pos += 8;
  return at;
}

/** Decimal text of the int64 whose two's-complement halves are `l`/`h`. */
function int64Text(l: number, h: number): string {
  if (h === 0) return '' + l;
  // Magnitudes below 2^53 are exact as doubles.
  if (h < 0x200000) return '' + (h * 4294967296 + l);
  if (h >= 0xffe00000) return '' + ((h - 4294967296) * 4294967296 + l);
  return BigInt.asIntN(64, (BigInt(h) << 32n) | BigInt(l)).toString();
}

// Node's Buffer#utf8Slice (what Buffer#toString ends up calling, and what
// protobufjs uses): calling it directly saves ~10% of the decode time.
interface Utf8Slicer {
  utf8Slice(start: number, end: number): string;
}
const HAS_UTF8_SLICE = typeof (Buffer.prototype as Partial<Utf8Slicer>).utf8Slice === 'function';

/** A UTF-8 string of `n` bytes at `pos` (already bounds-checked by length()). */
function str(n: number): string {
  const s = pos;
  const e = (pos += n);
  if (n <= 8) {
    // Short ASCII (keys, methods, enum-like values): one fromCharCode call
    // beats the native call (measured with speed-check.ts).
    const b = buf;
    let or = 0;
    for (let i = s; i < e; i++) or |= b[i]!;
    if (or < 0x80) {
      const f = String.fromCharCode;
      switch (n) {
        case 0:
          return '';
        case 1:
          return f(b[s]!);
        case 2:
          return f(b[s]!, b[s + 1]!);
        case 3:
          return f(b[s]!, b[s + 1]!, b[s + 2]!);
        case 4:
          return f(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!);
        case 5:
          return f(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!);
        case 6:
          return f(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!);
        case 7:
          return f(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!);
        default:
          return f(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!);
      }
    }
  }
  return HAS_UTF8_SLICE ? (buf as unknown as Utf8Slicer).utf8Slice(s, e) : buf.toString('utf8', s, e);
}

function isZero(at: number, n: number): boolean {
  for (let i = at; i < at + n; i++) if (buf[i] !== 0) return false;
  return true;
}

function hex16(o: number): string {
  const b = buf;
  return String.fromCharCode(
    HEX_HI[b[o]!]!, HEX_LO[b[o]!]!, HEX_HI[b[o + 1]!]!, HEX_LO[b[o + 1]!]!,
    HEX_HI[b[o + 2]!]!, HEX_LO[b[o + 2]!]!, HEX_HI[b[o + 3]!]!, HEX_LO[b[o + 3]!]!,
    HEX_HI[b[o + 4]!]!, HEX_LO[b[o + 4]!]!, HEX_HI[b[o + 5]!]!, HEX_LO[b[o + 5]!]!,
    HEX_HI[b[o + 6]!]!, HEX_LO[b[o + 6]!]!, HEX_HI[b[o + 7]!]!, HEX_LO[b[o + 7]!]!,
    HEX_HI[b[o + 8]!]!, HEX_LO[b[o + 8]!]!, HEX_HI[b[o + 9]!]!, HEX_LO[b[o + 9]!]!,
    HEX_HI[b[o + 10]!]!, HEX_LO[b[o + 10]!]!, HEX_HI[b[o + 11]!]!, HEX_LO[b[o + 11]!]!,
    HEX_HI[b[o + 12]!]!, HEX_LO[b[o + 12]!]!, HEX_HI[b[o + 13]!]!, HEX_LO[b[o + 13]!]!,
    HEX_HI[b[o + 14]!]!, HEX_LO[b[o + 14]!]!, HEX_HI[b[o + 15]!]!, HEX_LO[b[o + 15]!]!,
  );
}

function hex8(o: number): string {
  const b = buf;
  return String.fromCharCode(
    HEX_HI[b[o]!]!, HEX_LO[b[o]!]!, HEX_HI[b[o + 1]!]!, HEX_LO[b[o + 1]!]!,
    HEX_HI[b[o + 2]!]!, HEX_LO[b[o + 2]!]!, HEX_HI[b[o + 3]!]!, HEX_LO[b[o + 3]!]!,
    HEX_HI[b[o + 4]!]!, HEX_LO[b[o + 4]!]!, HEX_HI[b[o + 5]!]!, HEX_LO[b[o + 5]!]!,
    HEX_HI[b[o + 6]!]!, HEX_LO[b[o + 6]!]!, HEX_HI[b[o + 7]!]!, HEX_LO[b[o + 7]!]!,
  );
}

/** Skips a field this decoder does not read; a known field with the wrong wire type is corrupt data. */
function skipField(tag: number, at: number, end: number, info: MessageInfo): void {
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
      varint64();
      return;
    case I64:
      if (end - pos < 8) fail(`truncated fixed64 field ${field} of ${info.name} at offset ${pos}`);
      pos += 8;
      return;
    case LEN: {
      const n = length(end);
      pos += n;
      return;
    }
    case I32:
      if (end - pos < 4) fail(`truncated fixed32 field ${field} of ${info.name} at offset ${pos}`);
      pos += 4;
      return;
  }
}

/** After a message's field loop: the last field must not have run past the message end. */
function checkEnd(end: number, at: number, info: MessageInfo): void {
  if (pos !== end) fail(`field at offset ${at} runs past the end of its ${info.name} message at offset ${end}`);
}

// ---- messages ----

function decodeRequest(end: number): void {
  let at = 0;
  while (pos < end) {
    at = pos;
    let tag = buf[pos]!;
    if (tag < 0x80) pos++;
    else tag = varint32();
    if (tag === 10) {
      const n = length(end);
      decodeResourceSpans(pos + n);
    } else {
      skipField(tag, at, end, M_REQUEST);
    }
  }
  checkEnd(end, at, M_REQUEST);
}

function decodeResourceSpans(end: number): void {
  // Filled in place as fields arrive (proto3 allows any order, and repeated
  // occurrences of a message field merge): all spans share this object.
  const resource: Resource = { attributes: [], droppedAttributesCount: 0, schemaUrl: '' };
  const first = spans.length;
  let at = pos;
  while (pos < end) {
    at = pos;
    let tag = buf[pos]!;
    if (tag < 0x80) pos++;
    else tag = varint32();
    switch (tag) {
      case 10: {
        // 1 resource
        const n = length(end);
        decodeResource(resource, pos + n);
        break;
      }
      case 18: {
        // 2 scope_spans
        const n = length(end);
        decodeScopeSpans(resource, pos + n);
        break;
      }
      case 26: // 3 schema_url
        resource.schemaUrl = str(length(end));
        break;
      default:
        skipField(tag, at, end, M_RESOURCE_SPANS);
    }
  }
  checkEnd(end, at, M_RESOURCE_SPANS);
  // The resource is complete only now (its attributes may follow the spans).
  if (spans.length > first) {
    const service = serviceOf(resource);
    for (let i = first; i < spans.length; i++) spans[i]!.service = service;
  }
}

function decodeResource(resource: Resource, end: number): void {
  let at = pos;
  while (pos < end) {
    at = pos;
    let tag = buf[pos]!;
    if (tag < 0x80) pos++;
    else tag = varint32();
    switch (tag) {
      case 10: {
        // 1 attributes
        const n = length(end);
        resource.attributes.push(decodeKeyValue(pos + n, 0));
        break;
      }
      case 16: // 2 dropped_attributes_count
        resource.droppedAttributesCount = varint32();
        break;
      default: // 3 entity_refs (development) has no place in the model yet
        skipField(tag, at, end, M_RESOURCE);
    }
  }
  checkEnd(end, at, M_RESOURCE);
}

function decodeScopeSpans(resource: Resource, end: number): void {
  const scope: InstrumentationScope = { name: '', version: '', attributes: [], droppedAttributesCount: 0, schemaUrl: '' };
  let at = pos;
  while (pos < end) {
    at = pos;
    let tag = buf[pos]!;
    if (tag < 0x80) pos++;
    else tag = varint32();
    switch (tag) {
      case 10: {
        // 1 scope
        const n = length(end);
        decodeScope(scope, pos + n);
        break;
      }
      case 18: {
        // 2 spans
        const n = length(end);
        decodeSpan(pos + n, resource, scope);
        break;
      }
      case 26: // 3 schema_url
        scope.schemaUrl = str(length(end));
        break;
      default:
        skipField(tag, at, end, M_SCOPE_SPANS);
    }
  }
  checkEnd(end, at, M_SCOPE_SPANS);
}

function decodeScope(scope: InstrumentationScope, end: number): void {
  let at = pos;
  while (pos < end) {
    at = pos;
    let tag = buf[pos]!;
    if (tag < 0x80) pos++;
    else tag = varint32();
    switch (tag) {
      case 10: // 1 name
        scope.name = str(length(end));
        break;
      case 18: // 2 version
        scope.version = str(length(end));
        break;
      case 26: {
        // 3 attributes
        const n = length(end);
        scope.attributes.push(decodeKeyValue(pos + n, 0));
        break;
      }
      case 32: // 4 dropped_attributes_count
        scope.droppedAttributesCount = varint32();
        break;
      default:
        skipField(tag, at, end, M_SCOPE);
    }
  }
  checkEnd(end, at, M_SCOPE);
}

// Id states beyond a byte length, for rejection messages.
const ID_ALL_ZERO = -1;

function decodeSpan(end: number, resource: Resource, scope: InstrumentationScope): void {
  const span: Span = {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    traceState: '',
    flags: 0,
    name: '',
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: 0, message: '' },
    resource,
    scope,
    service: '',
  };
  // Byte length of each id as sent, or ID_ALL_ZERO; valid when 16 / 8 / 0-or-8.
  let traceIdLen = 0;
  let spanIdLen = 0;
  let parentLen = 0;
  let at = pos;
  while (pos < end) {
    at = pos;
    let tag = buf[pos]!;
    if (tag < 0x80) pos++;
    else tag = varint32();
    switch (tag) {
      case 10: {
        // 1 trace_id
        const n = length(end);
        if (n === 16 && !isZero(pos, 16)) {
          span.traceId = hex16(pos);
          traceIdLen = 16;
        } else {
          span.traceId = '';
          traceIdLen = n === 16 ? ID_ALL_ZERO : n;
        }
        pos += n;
        break;
      }
      case 18: {
        // 2 span_id
        const n = length(end);
        if (n === 8 && !isZero(pos, 8)) {
          span.spanId = hex8(pos);
          spanIdLen = 8;
        } else {
          span.spanId = '';
          spanIdLen = n === 8 ? ID_ALL_ZERO : n;
        }
        pos += n;
        break;
      }
      case 26: // 3 trace_state
        span.traceState = str(length(end));
        break;
      case 34: {
        // 4 parent_span_id; all zero means "no parent", as some SDKs send it
        const n = length(end);
        span.parentSpanId = n === 8 && !isZero(pos, 8) ? hex8(pos) : '';
        parentLen = n;
        pos += n;
        break;
      }
      case 42: // 5 name
        span.name = str(length(end));
        break;
      case 48: // 6 kind
        span.kind = (varint32() | 0) as SpanKind;
        break;
      case 57: // 7 start_time_unix_nano
        span.startTimeUnixNano = view.getBigUint64(fixed64Start(end, 'start_time_unix_nano'), true);
        break;
      case 65: // 8 end_time_unix_nano
        span.endTimeUnixNano = view.getBigUint64(fixed64Start(end, 'end_time_unix_nano'), true);
        break;
      case 74: {
        // 9 attributes
        const n = length(end);
        span.attributes.push(decodeKeyValue(pos + n, 0));
        break;
      }
      case 80: // 10 dropped_attributes_count
        span.droppedAttributesCount = varint32();
        break;
      case 90: {
        // 11 events
        const n = length(end);
        span.events.push(decodeEvent(pos + n));
        break;
      }
      case 96: // 12 dropped_events_count
        span.droppedEventsCount = varint32();
        break;
      case 106: {
        // 13 links
        const n = length(end);
        span.links.push(decodeLink(pos + n));
        break;
      }
      case 112: // 14 dropped_links_count
        span.droppedLinksCount = varint32();
        break;
      case 122: {
        // 15 status
        const n = length(end);
        decodeStatus(span, pos + n);
        break;
      }
      case 133: // 16 flags (fixed32)
        if (end - pos < 4) fail(`truncated fixed32 flags at offset ${pos}`);
        span.flags = view.getUint32(pos, true);
        pos += 4;
        break;
      default:
        skipField(tag, at, end, M_SPAN);
    }
  }
  checkEnd(end, at, M_SPAN);
  if (traceIdLen !== 16) {
    rejections.add(span.name, `trace_id must be 16 bytes and not all zero (got ${idProblem(traceIdLen)})`);
  } else if (spanIdLen !== 8) {
    rejections.add(span.name, `span_id must be 8 bytes and not all zero (got ${idProblem(spanIdLen)})`);
  } else if (parentLen !== 0 && parentLen !== 8) {
    rejections.add(span.name, `parent_span_id must be empty or 8 bytes (got ${parentLen} bytes)`);
  } else {
    spans.push(span);
  }
}

function idProblem(len: number): string {
  return len === ID_ALL_ZERO ? 'all zero bytes' : `${len} bytes`;
}

function decodeStatus(span: Span, end: number): void {
  const status = span.status;
  let at = pos;
  while (pos < end) {
    at = pos;
    let tag = buf[pos]!;
    if (tag < 0x80) pos++;
    else tag = varint32();
    switch (tag) {
      case 18: // 2 message
        status.message = str(length(end));
        break;
      case 24: // 3 code
        status.code = (varint32() | 0) as StatusCode;
        break;
      default:
        skipField(tag, at, end, M_STATUS);
    }
  }
  checkEnd(end, at, M_STATUS);
}

function decodeEvent(end: number): SpanEvent {
  const event: SpanEvent = { timeUnixNano: 0n, name: '', attributes: [], droppedAttributesCount: 0 };
  let at = pos;
  while (pos < end) {
    at = pos;
    let tag = buf[pos]!;
    if (tag < 0x80) pos++;
    else tag = varint32();
    switch (tag) {
      case 9: // 1 time_unix_nano
        event.timeUnixNano = view.getBigUint64(fixed64Start(end, 'time_unix_nano'), true);
        break;
      case 18: // 2 name
        event.name = str(length(end));
        break;
      case 26: {
        // 3 attributes
        const n = length(end);
        event.attributes.push(decodeKeyValue(pos + n, 0));
        break;
      }
      case 32: // 4 dropped_attributes_count
        event.droppedAttributesCount = varint32();
        break;
      default:
        skipField(tag, at, end, M_EVENT);
    }
  }
  checkEnd(end, at, M_EVENT);
  return event;
}

function decodeLink(end: number): SpanLink {
  const link: SpanLink = { traceId: '', spanId: '', traceState: '', attributes: [], droppedAttributesCount: 0, flags: 0 };
  let at = pos;
  while (pos < end) {
    at = pos;
    let tag = buf[pos]!;
    if (tag < 0x80) pos++;
    else tag = varint32();
    switch (tag) {
      case 10: {
        // 1 trace_id: kept as sent; a link with odd ids is still information
        const n = length(end);
        link.traceId = n === 16 ? hex16(pos) : bytesToHex(buf, pos, n);
        pos += n;
        break;
      }
      case 18: {
        // 2 span_id
        const n = length(end);
        link.spanId = n === 8 ? hex8(pos) : bytesToHex(buf, pos, n);
        pos += n;
        break;
      }
      case 26: // 3 trace_state
        link.traceState = str(length(end));
        break;
      case 34: {
        // 4 attributes
        const n = length(end);
        link.attributes.push(decodeKeyValue(pos + n, 0));
        break;
      }
      case 40: // 5 dropped_attributes_count
        link.droppedAttributesCount = varint32();
        break;
      case 53: // 6 flags (fixed32)
        if (end - pos < 4) fail(`truncated fixed32 flags at offset ${pos}`);
        link.flags = view.getUint32(pos, true);
        pos += 4;
        break;
      default:
        skipField(tag, at, end, M_LINK);
    }
  }
  checkEnd(end, at, M_LINK);
  return link;
}

function decodeKeyValue(end: number, depth: number): KeyValue {
  let key = '';
  let value: AnyValue | undefined;
  let at = pos;
  while (pos < end) {
    at = pos;
    let tag = buf[pos]!;
    if (tag < 0x80) pos++;
    else tag = varint32();
    if (tag === 10) {
      // 1 key
      key = str(length(end));
    } else if (tag === 18) {
      // 2 value
      const n = length(end);
      value = decodeAnyValue(pos + n, depth);
    } else {
      skipField(tag, at, end, M_KEY_VALUE);
    }
  }
  checkEnd(end, at, M_KEY_VALUE);
  return { key, value: value ?? {} };
}

function decodeAnyValue(end: number, depth: number): AnyValue {
  // Oneof: the last value field on the wire wins; none set is the empty value {}.
  let value: AnyValue | undefined;
  let at = pos;
  while (pos < end) {
    at = pos;
    let tag = buf[pos]!;
    if (tag < 0x80) pos++;
    else tag = varint32();
    switch (tag) {
      case 10: // 1 string_value
        value = { stringValue: str(length(end)) };
        break;
      case 16: // 2 bool_value
        varint64();
        value = { boolValue: (lo | hi) !== 0 };
        break;
      case 24: // 3 int_value
        varint64();
        value = { intValue: int64Text(lo, hi) };
        break;
      case 33: // 4 double_value
        value = { doubleValue: view.getFloat64(fixed64Start(end, 'double_value'), true) };
        break;
      case 42: {
        // 5 array_value
        const n = length(end);
        if (depth >= MAX_ANY_VALUE_DEPTH) fail(`AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels at offset ${at}`);
        value = { arrayValue: { values: decodeArrayValue(pos + n, depth + 1) } };
        break;
      }
      case 50: {
        // 6 kvlist_value
        const n = length(end);
        if (depth >= MAX_ANY_VALUE_DEPTH) fail(`AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels at offset ${at}`);
        value = { kvlistValue: { values: decodeKeyValueList(pos + n, depth + 1) } };
        break;
      }
      case 58: {
        // 7 bytes_value
        const n = length(end);
        value = { bytesValue: buf.toString('base64', pos, pos + n) };
        pos += n;
        break;
      }
      default:
        skipField(tag, at, end, M_ANY_VALUE);
    }
  }
  checkEnd(end, at, M_ANY_VALUE);
  return value ?? {};
}

function decodeArrayValue(end: number, depth: number): AnyValue[] {
  const values: AnyValue[] = [];
  let at = pos;
  while (pos < end) {
    at = pos;
    let tag = buf[pos]!;
    if (tag < 0x80) pos++;
    else tag = varint32();
    if (tag === 10) {
      const n = length(end);
      values.push(decodeAnyValue(pos + n, depth));
    } else {
      skipField(tag, at, end, M_ARRAY_VALUE);
    }
  }
  checkEnd(end, at, M_ARRAY_VALUE);
  return values;
}

function decodeKeyValueList(end: number, depth: number): KeyValue[] {
  const values: KeyValue[] = [];
  let at = pos;
  while (pos < end) {
    at = pos;
    let tag = buf[pos]!;
    if (tag < 0x80) pos++;
    else tag = varint32();
    if (tag === 10) {
      const n = length(end);
      values.push(decodeKeyValue(pos + n, depth));
    } else {
      skipField(tag, at, end, M_KVLIST_VALUE);
    }
  }
  checkEnd(end, at, M_KVLIST_VALUE);
  return values;
}

// ---- parts of a validated request, for the block store's OTLP path ----
// (store/blocks/otlp-head.ts reads the common fields itself and asks for
// these rarer or nested parts as model objects, decoded by the rules above)

function partAt<T>(input: Buffer, start: number, end: number, read: (end: number) => T): T {
  buf = input;
  view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  pos = start;
  try {
    const v = read(end);
    if (pos !== end) fail(`part at offset ${start} does not end at ${end}`);
    return v;
  } catch (e) {
    throw e instanceof DecodeFailure ? new SyntaxError(`cannot decode OTLP protobuf: ${e.message}`) : e;
  } finally {
    buf = EMPTY;
    view = EMPTY_VIEW;
  }
}

/** The AnyValue message at [start, end) of `input`, as a KeyValue's value. */
export function decodeAnyValueAt(input: Buffer, start: number, end: number): AnyValue {
  return partAt(input, start, end, (e) => decodeAnyValue(e, 0));
}

export function decodeEventAt(input: Buffer, start: number, end: number): SpanEvent {
  return partAt(input, start, end, decodeEvent);
}

export function decodeLinkAt(input: Buffer, start: number, end: number): SpanLink {
  return partAt(input, start, end, decodeLink);
}

/** A Resource from the [start, end) pairs of its occurrences in one ResourceSpans (they merge) and that message's schema_url. */
export function decodeResourceAt(input: Buffer, ranges: readonly number[], schemaUrl: string): Resource {
  const resource: Resource = { attributes: [], droppedAttributesCount: 0, schemaUrl };
  for (let i = 0; i < ranges.length; i += 2) partAt(input, ranges[i]!, ranges[i + 1]!, (e) => decodeResource(resource, e));
  return resource;
}

/** An InstrumentationScope from its occurrences in one ScopeSpans and that message's schema_url. */
export function decodeScopeAt(input: Buffer, ranges: readonly number[], schemaUrl: string): InstrumentationScope {
  const scope: InstrumentationScope = { name: '', version: '', attributes: [], droppedAttributesCount: 0, schemaUrl };
  for (let i = 0; i < ranges.length; i += 2) partAt(input, ranges[i]!, ranges[i + 1]!, (e) => decodeScope(scope, e));
  return scope;
}
