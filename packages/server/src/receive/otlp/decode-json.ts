// OTLP/JSON trace decoder (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding):
// the proto3 JSON mapping with OTLP's exceptions (ids as hex, enums as
// integers). Like proto3 JSON parsers it also takes snake_case field names,
// enum names, 64-bit integers as numbers and doubles as "NaN"/"Infinity".
// Input that does not fit the schema is `{ ok: false }` with the JSON path of
// the first problem; spans with invalid ids are rejected and counted.

import { Buffer } from 'node:buffer';
import type { AnyValue, InstrumentationScope, KeyValue, Resource, Span, SpanEvent, SpanKind, SpanLink, StatusCode } from '@ariadne/model';
import { serviceOf } from '@ariadne/model';
import { MAX_ANY_VALUE_DEPTH } from './decode-proto.js';
import { Rejections, type DecodeOutcome } from './result.js';

type Json = Record<string, unknown>;

class DecodeFailure {
  constructor(readonly message: string) {}
}

// ---- decoder state (valid during one decodeTraceRequestJson call) ----
/** JSON path of the value being decoded: keys and array indexes. */
let path: (string | number)[] = [];
let rejections = new Rejections();

/** Decodes an OTLP/JSON ExportTraceServiceRequest body (UTF-8 bytes or text). Never throws. */
export function decodeTraceRequestJson(body: string | Uint8Array): DecodeOutcome {
  let text: string;
  if (typeof body === 'string') text = body;
  else if (body instanceof Uint8Array) text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  else return { ok: false, error: 'request body is neither text nor bytes' };
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `invalid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  path = [];
  rejections = new Rejections();
  try {
    const spans = request(doc);
    return { ok: true, result: { spans, rejectedSpans: rejections.count, errorMessage: rejections.message() } };
  } catch (e) {
    if (e instanceof DecodeFailure) return { ok: false, error: e.message };
    return { ok: false, error: `internal decoder error at ${where(undefined)}: ${String(e)}` };
  } finally {
    path = [];
  }
}

// ---- error reporting ----

function where(key: string | undefined): string {
  let s = '';
  for (const seg of path) s += typeof seg === 'number' ? `[${seg}]` : s === '' ? seg : `.${seg}`;
  if (key !== undefined) s += s === '' ? key : `.${key}`;
  return s === '' ? '(root)' : s;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'string') {
    const q = JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}...` : x);
    return `string ${q}`;
  }
  if (typeof x === 'object') return 'an object';
  return `${typeof x} ${String(x)}`;
}

function bad(key: string | undefined, expected: string, got: unknown): never {
  throw new DecodeFailure(`${where(key)}: expected ${expected}, got ${describe(got)}`);
}

// ---- field access and scalar types ----

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A field by its lowerCamelCase name, or by the proto name when that differs. */
function get(o: Json, camel: string, snake: string): unknown {
  const v = o[camel];
  return v !== undefined || camel === snake ? v : o[snake];
}

function object(x: unknown, key: string | undefined, what: string): Json | undefined {
  if (x == null) return undefined;
  if (!isObject(x)) bad(key, what, x);
  return x;
}

function array(x: unknown, key: string): unknown[] {
  if (x == null) return EMPTY_ARRAY;
  if (!Array.isArray(x)) bad(key, 'an array', x);
  return x;
}
const EMPTY_ARRAY: unknown[] = [];

function string(x: unknown, key: string): string {
  if (x == null) return '';
  if (typeof x !== 'string') bad(key, 'a string', x);
  return x;
}

const UINT_TEXT = /^\d+$/;
const INT_TEXT = /^[-+]?\d+$/;
const CANONICAL_INT_TEXT = /^-?(?:0|[1-9]\d*)$/;
const TWO_64 = 2n ** 64n;
const TWO_63 = 2n ** 63n;

function uint32(x: unknown, key: string): number {
  if (x == null) return 0;
  const n = typeof x === 'string' && UINT_TEXT.test(x) ? Number(x) : x;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    bad(key, 'an unsigned 32-bit integer', x);
  }
  return n;
}

/** fixed64 timestamps: decimal string (as proto3 JSON writes them) or number. */
function uint64(x: unknown, key: string): bigint {
  if (x == null) return 0n;
  if (typeof x === 'string') {
    if (UINT_TEXT.test(x)) {
      const b = BigInt(x);
      if (b < TWO_64) return b;
    }
  } else if (typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < 2 ** 64) {
    return BigInt(x);
  }
  return bad(key, 'an unsigned integer string (uint64)', x);
}

/** int64 attribute values, as canonical decimal text. */
function int64(x: unknown, key: string): string {
  if (typeof x === 'string') {
    // Up to 16 characters a canonical integer is always in range.
    if (x.length <= 16 && CANONICAL_INT_TEXT.test(x)) return x === '-0' ? '0' : x;
    if (INT_TEXT.test(x)) {
      const b = BigInt(x);
      if (b >= -TWO_63 && b < TWO_63) return b.toString();
    }
  } else if (typeof x === 'number' && Number.isInteger(x)) {
    if (Number.isSafeInteger(x)) return x === 0 ? '0' : String(x);
    const b = BigInt(x);
    if (b >= -TWO_63 && b < TWO_63) return b.toString();
  }
  return bad(key, 'an integer string (int64)', x);
}

function double(x: unknown, key: string): number {
  if (typeof x === 'number') return x;
  if (typeof x === 'string') {
    if (x === 'NaN') return NaN;
    if (x === 'Infinity') return Infinity;
    if (x === '-Infinity') return -Infinity;
    // proto3 JSON also allows numbers as strings.
    const n = x.trim() === '' ? NaN : Number(x);
    if (!Number.isNaN(n)) return n;
  }
  return bad(key, 'a number (or "NaN", "Infinity", "-Infinity")', x);
}

const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;

/** bytes: base64 (standard or URL-safe, padding optional), normalised to standard padded. */
function bytes(x: unknown, key: string): string {
  if (typeof x !== 'string' || !BASE64.test(x) || x.replace(/=+$/, '').length % 4 === 1) bad(key, 'a base64 string', x);
  return Buffer.from(x, 'base64').toString('base64');
}

const SPAN_KINDS = new Map<string, number>([
  ['SPAN_KIND_UNSPECIFIED', 0],
  ['SPAN_KIND_INTERNAL', 1],
  ['SPAN_KIND_SERVER', 2],
  ['SPAN_KIND_CLIENT', 3],
  ['SPAN_KIND_PRODUCER', 4],
  ['SPAN_KIND_CONSUMER', 5],
]);
const STATUS_CODES = new Map<string, number>([
  ['STATUS_CODE_UNSET', 0],
  ['STATUS_CODE_OK', 1],
  ['STATUS_CODE_ERROR', 2],
]);

/** Open enum: any int32, or one of the value names. */
function enumValue(x: unknown, key: string, names: Map<string, number>, what: string): number {
  if (x == null) return 0;
  if (typeof x === 'number' && Number.isInteger(x) && x >= -2147483648 && x <= 2147483647) return x;
  if (typeof x === 'string') {
    const v = names.get(x);
    if (v !== undefined) return v;
  }
  return bad(key, `${what} (integer or ${[...names.keys()][0]!.replace(/_[A-Z]+$/, '_*')} name)`, x);
}

/**
 * Lowercase hex of a `bytes`-long id, or undefined when `s` is not exactly
 * that (undefined for all zero too when `nonZero`).
 */
function hexId(s: string, bytes: number, nonZero: boolean): string | undefined {
  if (s.length !== bytes * 2) return undefined;
  let upper = false;
  let zero = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (c !== 48) zero = false;
    } else if (c >= 97 && c <= 102) zero = false;
    else if (c >= 65 && c <= 70) {
      zero = false;
      upper = true;
    } else return undefined;
  }
  if (zero && nonZero) return undefined;
  return upper ? s.toLowerCase() : s;
}

function quoted(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}...` : s);
}

// ---- messages ----

function request(doc: unknown): Span[] {
  if (!isObject(doc)) bad(undefined, 'an ExportTraceServiceRequest object', doc);
  const spans: Span[] = [];
  const list = array(get(doc, 'resourceSpans', 'resource_spans'), 'resourceSpans');
  path.push('resourceSpans');
  for (let i = 0; i < list.length; i++) {
    path.push(i);
    resourceSpans(list[i], spans);
    path.pop();
  }
  path.pop();
  return spans;
}

function resourceSpans(x: unknown, spans: Span[]): void {
  const rs = object(x, undefined, 'a ResourceSpans object') ?? {};
  const resource: Resource = { attributes: [], droppedAttributesCount: 0, schemaUrl: '' };
  const r = object(rs['resource'], 'resource', 'a Resource object');
  if (r !== undefined) {
    path.push('resource');
    resource.attributes = keyValues(r['attributes'], 'attributes', 0);
    resource.droppedAttributesCount = uint32(get(r, 'droppedAttributesCount', 'dropped_attributes_count'), 'droppedAttributesCount');
    path.pop();
  }
  resource.schemaUrl = string(get(rs, 'schemaUrl', 'schema_url'), 'schemaUrl');
  const service = serviceOf(resource);
  const list = array(get(rs, 'scopeSpans', 'scope_spans'), 'scopeSpans');
  path.push('scopeSpans');
  for (let i = 0; i < list.length; i++) {
    path.push(i);
    scopeSpans(list[i], resource, service, spans);
    path.pop();
  }
  path.pop();
}

function scopeSpans(x: unknown, resource: Resource, service: string, spans: Span[]): void {
  const ss = object(x, undefined, 'a ScopeSpans object') ?? {};
  const scope: InstrumentationScope = { name: '', version: '', attributes: [], droppedAttributesCount: 0, schemaUrl: '' };
  const s = object(ss['scope'], 'scope', 'an InstrumentationScope object');
  if (s !== undefined) {
    path.push('scope');
    scope.name = string(s['name'], 'name');
    scope.version = string(s['version'], 'version');
    scope.attributes = keyValues(s['attributes'], 'attributes', 0);
    scope.droppedAttributesCount = uint32(get(s, 'droppedAttributesCount', 'dropped_attributes_count'), 'droppedAttributesCount');
    path.pop();
  }
  scope.schemaUrl = string(get(ss, 'schemaUrl', 'schema_url'), 'schemaUrl');
  const list = array(ss['spans'], 'spans');
  path.push('spans');
  for (let i = 0; i < list.length; i++) {
    path.push(i);
    const span = decodeSpan(list[i], resource, scope, service);
    if (span !== undefined) spans.push(span);
    path.pop();
  }
  path.pop();
}

function decodeSpan(x: unknown, resource: Resource, scope: InstrumentationScope, service: string): Span | undefined {
  const o = object(x, undefined, 'a Span object') ?? {};
  const traceIdText = string(get(o, 'traceId', 'trace_id'), 'traceId');
  const spanIdText = string(get(o, 'spanId', 'span_id'), 'spanId');
  const parentText = string(get(o, 'parentSpanId', 'parent_span_id'), 'parentSpanId');
  const name = string(o['name'], 'name');
  const status: { code: StatusCode; message: string } = { code: 0, message: '' };
  const st = object(o['status'], 'status', 'a Status object');
  if (st !== undefined) {
    path.push('status');
    status.message = string(st['message'], 'message');
    status.code = enumValue(st['code'], 'code', STATUS_CODES, 'a status code') as StatusCode;
    path.pop();
  }
  const span: Span = {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    traceState: string(get(o, 'traceState', 'trace_state'), 'traceState'),
    flags: uint32(o['flags'], 'flags'),
    name,
    kind: enumValue(o['kind'], 'kind', SPAN_KINDS, 'a span kind') as SpanKind,
    startTimeUnixNano: uint64(get(o, 'startTimeUnixNano', 'start_time_unix_nano'), 'startTimeUnixNano'),
    endTimeUnixNano: uint64(get(o, 'endTimeUnixNano', 'end_time_unix_nano'), 'endTimeUnixNano'),
    attributes: keyValues(o['attributes'], 'attributes', 0),
    droppedAttributesCount: uint32(get(o, 'droppedAttributesCount', 'dropped_attributes_count'), 'droppedAttributesCount'),
    events: events(o['events']),
    droppedEventsCount: uint32(get(o, 'droppedEventsCount', 'dropped_events_count'), 'droppedEventsCount'),
    links: [],
    droppedLinksCount: uint32(get(o, 'droppedLinksCount', 'dropped_links_count'), 'droppedLinksCount'),
    status,
    resource,
    scope,
    service,
  };
  const linkProblem = links(o['links'], span.links);

  // Schema-valid but unusable ids reject this span only (OTLP partial success).
  const traceId = hexId(traceIdText, 16, true);
  if (traceId === undefined) {
    rejections.add(name, `trace_id must be 32 hex characters and not all zero (got ${quoted(traceIdText)})`);
    return undefined;
  }
  const spanId = hexId(spanIdText, 8, true);
  if (spanId === undefined) {
    rejections.add(name, `span_id must be 16 hex characters and not all zero (got ${quoted(spanIdText)})`);
    return undefined;
  }
  let parentSpanId = '';
  if (parentText !== '') {
    const p = hexId(parentText, 8, false);
    if (p === undefined) {
      rejections.add(name, `parent_span_id must be empty or 16 hex characters (got ${quoted(parentText)})`);
      return undefined;
    }
    // All zero means "no parent", as some SDKs send it.
    if (p !== '0000000000000000') parentSpanId = p;
  }
  if (linkProblem !== '') {
    rejections.add(name, linkProblem);
    return undefined;
  }
  span.traceId = traceId;
  span.spanId = spanId;
  span.parentSpanId = parentSpanId;
  return span;
}

function events(x: unknown): SpanEvent[] {
  const list = array(x, 'events');
  if (list.length === 0) return [];
  const out: SpanEvent[] = [];
  path.push('events');
  for (let i = 0; i < list.length; i++) {
    path.push(i);
    const o = object(list[i], undefined, 'an Event object') ?? {};
    out.push({
      timeUnixNano: uint64(get(o, 'timeUnixNano', 'time_unix_nano'), 'timeUnixNano'),
      name: string(o['name'], 'name'),
      attributes: keyValues(o['attributes'], 'attributes', 0),
      droppedAttributesCount: uint32(get(o, 'droppedAttributesCount', 'dropped_attributes_count'), 'droppedAttributesCount'),
    });
    path.pop();
  }
  path.pop();
  return out;
}

/** Link ids are kept as sent (lowercased) when they are hex; returns why not, else ''. */
function links(x: unknown, out: SpanLink[]): string {
  const list = array(x, 'links');
  let problem = '';
  path.push('links');
  for (let i = 0; i < list.length; i++) {
    path.push(i);
    const o = object(list[i], undefined, 'a Link object') ?? {};
    const traceId = string(get(o, 'traceId', 'trace_id'), 'traceId');
    const spanId = string(get(o, 'spanId', 'span_id'), 'spanId');
    const link: SpanLink = {
      traceId: hexId(traceId, traceId.length >> 1, false) ?? '',
      spanId: hexId(spanId, spanId.length >> 1, false) ?? '',
      traceState: string(get(o, 'traceState', 'trace_state'), 'traceState'),
      attributes: keyValues(o['attributes'], 'attributes', 0),
      droppedAttributesCount: uint32(get(o, 'droppedAttributesCount', 'dropped_attributes_count'), 'droppedAttributesCount'),
      flags: uint32(o['flags'], 'flags'),
    };
    if (problem === '') {
      if (link.traceId.length !== traceId.length) problem = `links[${i}].trace_id must be hex (got ${quoted(traceId)})`;
      else if (link.spanId.length !== spanId.length) problem = `links[${i}].span_id must be hex (got ${quoted(spanId)})`;
    }
    out.push(link);
    path.pop();
  }
  path.pop();
  return problem;
}

function keyValues(x: unknown, key: string, depth: number): KeyValue[] {
  const list = array(x, key);
  if (list.length === 0) return [];
  const out: KeyValue[] = new Array(list.length);
  path.push(key);
  for (let i = 0; i < list.length; i++) {
    const kv = list[i];
    if (!isObject(kv)) {
      path.push(i);
      bad(undefined, 'a KeyValue object', kv);
    }
    const k = kv['key'];
    const v = kv['value'];
    if (typeof k === 'string' && isObject(v)) {
      // Fast path: no path bookkeeping unless something is wrong.
      out[i] = { key: k, value: anyValue(v, depth, i, true) };
    } else {
      path.push(i);
      const key = string(k, 'key');
      let value: AnyValue = {};
      const vo = object(v, 'value', 'an AnyValue object');
      if (vo !== undefined) {
        path.push('value');
        value = anyValue(vo, depth, -1, true);
        path.pop();
      }
      out[i] = { key, value };
      path.pop();
    }
  }
  path.pop();
  return out;
}

/**
 * `index` >= 0: element `index` of the list on top of the path, not pushed
 * yet (pushed only when something goes wrong); `kv`: the element is a
 * KeyValue and this is its `value`.
 */
function anyValue(o: Json, depth: number, index: number, kv: boolean): AnyValue {
  let x: unknown;
  if ((x = get(o, 'stringValue', 'string_value')) != null) {
    if (typeof x === 'string') return { stringValue: x };
    valueError(index, kv, 'stringValue', 'a string', x);
  }
  if ((x = get(o, 'intValue', 'int_value')) != null) {
    if (typeof x === 'string' && x.length <= 16 && CANONICAL_INT_TEXT.test(x) && x !== '-0') return { intValue: x };
    return { intValue: withValuePath(index, kv, () => int64(x, 'intValue')) };
  }
  if ((x = get(o, 'boolValue', 'bool_value')) != null) {
    if (typeof x === 'boolean') return { boolValue: x };
    valueError(index, kv, 'boolValue', 'a boolean', x);
  }
  if ((x = get(o, 'doubleValue', 'double_value')) != null) {
    if (typeof x === 'number') return { doubleValue: x };
    return { doubleValue: withValuePath(index, kv, () => double(x, 'doubleValue')) };
  }
  if ((x = get(o, 'arrayValue', 'array_value')) != null) {
    return withValuePath(index, kv, () => {
      const a = object(x, 'arrayValue', 'an ArrayValue object')!;
      if (depth >= MAX_ANY_VALUE_DEPTH) throw new DecodeFailure(`${where('arrayValue')}: AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
      path.push('arrayValue');
      const list = array(a['values'], 'values');
      const values: AnyValue[] = new Array(list.length);
      path.push('values');
      for (let i = 0; i < list.length; i++) {
        const v = list[i];
        if (v == null) values[i] = {};
        else if (isObject(v)) values[i] = anyValue(v, depth + 1, i, false);
        else {
          path.push(i);
          bad(undefined, 'an AnyValue object', v);
        }
      }
      path.pop();
      path.pop();
      return { arrayValue: { values } };
    });
  }
  if ((x = get(o, 'kvlistValue', 'kvlist_value')) != null) {
    return withValuePath(index, kv, () => {
      const kvl = object(x, 'kvlistValue', 'a KeyValueList object')!;
      if (depth >= MAX_ANY_VALUE_DEPTH) throw new DecodeFailure(`${where('kvlistValue')}: AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
      path.push('kvlistValue');
      const values = keyValues(kvl['values'], 'values', depth + 1);
      path.pop();
      return { kvlistValue: { values } };
    });
  }
  if ((x = get(o, 'bytesValue', 'bytes_value')) != null) {
    return { bytesValue: withValuePath(index, kv, () => bytes(x, 'bytesValue')) };
  }
  return {};
}

/** Runs `f` with the path pointing at the AnyValue (see anyValue). */
function withValuePath<T>(index: number, kv: boolean, f: () => T): T {
  if (index < 0) return f();
  path.push(index);
  if (kv) path.push('value');
  const r = f();
  if (kv) path.pop();
  path.pop();
  return r;
}

function valueError(index: number, kv: boolean, key: string, expected: string, got: unknown): never {
  return withValuePath(index, kv, () => bad(key, expected, got));
}
