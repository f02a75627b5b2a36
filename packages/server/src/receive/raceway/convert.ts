// Raceway's event batches (`POST /events`, `{"events":[...]}`, as its
// TypeScript, Python, Go and Rust SDKs send them) to spans in Ariadne's causal
// convention (ARCHITECTURE.md, "Causal events"), so they show in every view
// and the race detector reads them like any OpenTelemetry span.
//
// Mapping:
//   one span per request context: (trace, service, instance, thread_id,
//     distributed_span_id); span id = distributed_span_id when it is 16 hex,
//     parent = upstream_span_id; otherwise ids derived from the context
//   one resource per service instance (service.name, service.instance.id,
//     process.pid, deployment.environment.name, telemetry.sdk.*)
//   every Raceway event → one span event, carrying `thread.id`,
//     `ariadne.clock` (from causality_vector), `raceway.event_id`,
//     `raceway.kind`, `ariadne.locks_held` (lock_set):
//     StateChange → ariadne.state   LockAcquire/LockRelease → ariadne.lock
//     AsyncSpawn/AsyncAwait → ariadne.async   Error → exception
//     anything else → raceway.<Kind> with its fields as raceway.<field>
//   trace ids: UUIDs lose their dashes (as Raceway's SDKs do for
//   traceparent), 32 hex stays, anything else is hashed; the original is
//   kept as `raceway.trace_id`.
// Bad events are reported by index and reason; the good ones convert.

import type { AnyValue, InstrumentationScope, KeyValue, Resource, Span, SpanEvent } from '@ariadne/model';
import { SpanKind, StatusCode, isValidSpanId, isValidTraceId, parseTimestamp } from '@ariadne/model';

export interface RacewayEventError {
  /** Position in `events`; -1 when the batch itself is unusable. */
  index: number;
  reason: string;
}

export interface RacewayConversion {
  spans: Span[];
  errors: RacewayEventError[];
}

export const MAX_RACEWAY_EVENTS = 100_000;
const MAX_STRING = 4096;
const MAX_ID = 256;
const MAX_CLOCK_COMPONENTS = 256;
const MAX_LOCK_SET = 64;

const KINDS = new Set([
  'FunctionCall',
  'FunctionReturn', // sent by the Go SDK
  'AsyncSpawn',
  'AsyncAwait',
  'StateChange',
  'LockAcquire',
  'LockRelease',
  'MemoryFence',
  'HttpRequest',
  'HttpResponse',
  'DatabaseQuery',
  'DatabaseResult',
  'Error',
  'Custom',
]);

const ACCESS: Record<string, string> = {
  read: 'read',
  write: 'write',
  atomicread: 'atomic_read',
  atomicwrite: 'atomic_write',
  atomicrmw: 'atomic_rmw',
};

type Json = Record<string, unknown>;

interface Parsed {
  index: number;
  id: string;
  parentId: string | undefined;
  rawTraceId: string;
  traceId: string;
  time: bigint;
  kind: string;
  data: Json;
  service: string;
  instance: string;
  pid: number | undefined;
  environment: string | undefined;
  tags: [string, string][];
  threadId: string;
  durationNs: number | undefined;
  distSpanId: string | undefined;
  upstreamSpanId: string | undefined;
  clock: [string, number][];
  lockSet: string[];
}

class Bad {
  constructor(readonly reason: string) {}
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Converts one Raceway batch. Never throws. */
export function convertRacewayBatch(body: unknown): RacewayConversion {
  if (!isObj(body)) return { spans: [], errors: [{ index: -1, reason: 'body must be an object {"events": [...]}' }] };
  const events = body['events'];
  if (!Array.isArray(events)) return { spans: [], errors: [{ index: -1, reason: '"events" must be an array' }] };
  if (events.length > MAX_RACEWAY_EVENTS) {
    return { spans: [], errors: [{ index: -1, reason: `too many events: ${events.length} (at most ${MAX_RACEWAY_EVENTS} per batch)` }] };
  }
  const errors: RacewayEventError[] = [];
  const parsed: Parsed[] = [];
  for (let i = 0; i < events.length; i++) {
    try {
      parsed.push(parseEvent(events[i], i));
    } catch (e) {
      errors.push({ index: i, reason: e instanceof Bad ? e.reason : `unreadable event: ${String(e)}` });
    }
  }
  return { spans: buildSpans(parsed), errors };
}

// ---- one event ----

function str(o: Json, key: string, what: string, opts: { required?: boolean; max?: number } = {}): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (opts.required) throw new Bad(`${what}.${key} is missing`);
    return undefined;
  }
  if (typeof v !== 'string') throw new Bad(`${what}.${key} must be a string`);
  if (opts.required && v === '') throw new Bad(`${what}.${key} is empty`);
  const max = opts.max ?? MAX_STRING;
  return v.length > max ? v.slice(0, max) : v;
}

function idLike(o: Json, key: string, what: string, required = false): string | undefined {
  const v = o[key];
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  const s = str(o, key, what, { required, max: MAX_ID });
  return s === '' ? undefined : s;
}

function num(o: Json, key: string, what: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Bad(`${what}.${key} must be a number`);
  return v;
}

function parseTime(v: unknown): bigint {
  if (typeof v === 'string') {
    let text = v.trim();
    // Naive ISO times (Python's datetime.utcnow().isoformat()) are UTC.
    if (/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?$/.test(text)) text = `${text.slice(0, 10)}T${text.slice(11)}Z`;
    else if (/^\d{4}-\d{2}-\d{2}[t ]/.test(text) || /z$/.test(text)) text = `${text.slice(0, 10)}T${text.slice(11)}`.replace(/z$/, 'Z');
    const t = parseTimestamp(text);
    if (t === undefined) throw new Bad(`timestamp ${JSON.stringify(v.slice(0, 40))} is not RFC 3339`);
    return t;
  }
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) {
    // Unix time in s, ms, µs or ns, told apart by magnitude.
    const scale = v < 1e11 ? 1_000_000_000 : v < 1e14 ? 1_000_000 : v < 1e17 ? 1_000 : 1;
    const whole = Math.trunc(v);
    return BigInt(whole) * BigInt(scale) + BigInt(Math.round((v - whole) * scale));
  }
  throw new Bad('timestamp is missing');
}

function parseClock(v: unknown): [string, number][] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Bad('causality_vector must be an array');
  if (v.length > MAX_CLOCK_COMPONENTS) throw new Bad(`causality_vector has more than ${MAX_CLOCK_COMPONENTS} components`);
  const m = new Map<string, number>();
  v.forEach((item: unknown, k) => {
    let c: unknown;
    let n: unknown;
    if (Array.isArray(item) && item.length === 2) [c, n] = item as unknown[];
    else if (isObj(item)) {
      c = item['component'] ?? item['id'];
      n = item['value'] ?? item['clock'];
    } else throw new Bad(`causality_vector[${k}] must be [component, counter]`);
    if (typeof c !== 'string' || c === '' || c.length > MAX_ID) throw new Bad(`causality_vector[${k}] has no component name`);
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new Bad(`causality_vector[${k}] counter must be a non-negative integer`);
    m.set(c, Math.max(n, m.get(c) ?? 0));
  });
  return [...m].filter((e) => e[1] > 0).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function parseEvent(raw: unknown, index: number): Parsed {
  if (!isObj(raw)) throw new Bad('event must be an object');
  const rawTraceId = idLike(raw, 'trace_id', 'event', true)!;
  const kindObj = raw['kind'];
  if (!isObj(kindObj)) throw new Bad('kind must be an object like {"StateChange": {...}}');
  const names = Object.keys(kindObj);
  if (names.length !== 1) throw new Bad(`kind must have exactly one variant, has ${names.length}`);
  const kind = names[0]!;
  if (!KINDS.has(kind)) throw new Bad(`unknown kind ${JSON.stringify(kind.slice(0, 40))}`);
  const data = kindObj[kind];
  if (!isObj(data)) throw new Bad(`kind.${kind} must be an object`);
  validateKind(kind, data);

  const meta = raw['metadata'];
  if (!isObj(meta)) throw new Bad('metadata is missing');
  const service = str(meta, 'service_name', 'metadata', { required: true, max: MAX_ID })!;
  const threadId = idLike(meta, 'thread_id', 'metadata', true)!;
  const pid = num(meta, 'process_id', 'metadata');
  const instance = idLike(meta, 'instance_id', 'metadata') ?? (pid !== undefined ? String(pid) : '');
  const tagsRaw = meta['tags'];
  const tags: [string, string][] = [];
  if (isObj(tagsRaw)) for (const [k, v] of Object.entries(tagsRaw).slice(0, 64)) if (typeof v === 'string') tags.push([k.slice(0, MAX_ID), v.slice(0, MAX_STRING)]);
  const durationNs = num(meta, 'duration_ns', 'metadata');

  const lockSetRaw = raw['lock_set'];
  let lockSet: string[] = [];
  if (lockSetRaw !== undefined && lockSetRaw !== null) {
    if (!Array.isArray(lockSetRaw) || !lockSetRaw.every((l) => typeof l === 'string')) throw new Bad('lock_set must be an array of strings');
    lockSet = [...new Set(lockSetRaw as string[])].filter((l) => l !== '').slice(0, MAX_LOCK_SET);
  }

  return {
    index,
    id: idLike(raw, 'id', 'event') ?? `#${index}`,
    parentId: idLike(raw, 'parent_id', 'event'),
    rawTraceId,
    traceId: toTraceId(rawTraceId),
    time: parseTime(raw['timestamp']),
    kind,
    data,
    service,
    instance,
    pid: pid !== undefined && Number.isSafeInteger(pid) ? pid : undefined,
    environment: str(meta, 'environment', 'metadata', { max: MAX_ID }),
    tags,
    threadId,
    durationNs: durationNs !== undefined && durationNs >= 0 ? Math.round(durationNs) : undefined,
    distSpanId: idLike(meta, 'distributed_span_id', 'metadata'),
    upstreamSpanId: idLike(meta, 'upstream_span_id', 'metadata'),
    clock: parseClock(raw['causality_vector']),
    lockSet,
  };
}

function validateKind(kind: string, d: Json): void {
  const what = `kind.${kind}`;
  switch (kind) {
    case 'StateChange': {
      str(d, 'variable', what, { required: true, max: MAX_ID });
      const a = str(d, 'access_type', what) ?? 'Write'; // the oldest SDKs sent no access type: a write
      if (ACCESS[a.replace(/[_\s-]/g, '').toLowerCase()] === undefined) throw new Bad(`${what}.access_type ${JSON.stringify(a.slice(0, 20))} is not Read, Write, AtomicRead, AtomicWrite or AtomicRMW`);
      break;
    }
    case 'LockAcquire':
    case 'LockRelease':
      idLike(d, 'lock_id', what, true);
      break;
    case 'AsyncSpawn':
    case 'AsyncAwait':
      if (taskIdOf(d) === undefined) throw new Bad(`${what} needs a ${kind === 'AsyncSpawn' ? 'task_id' : 'future_id'}`);
      break;
    case 'FunctionCall':
    case 'FunctionReturn':
      str(d, 'function_name', what, { required: true, max: MAX_ID });
      break;
    case 'HttpResponse':
      num(d, 'status', what);
      break;
    case 'Error':
      str(d, 'message', what);
      break;
  }
}

function taskIdOf(d: Json): string | undefined {
  for (const k of ['task_id', 'future_id', 'task_name']) {
    const v = d[k];
    if (typeof v === 'string' && v !== '') return v.slice(0, MAX_ID);
    if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  }
  return undefined;
}

// ---- ids ----

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const HEX32 = /^[0-9a-fA-F]{32}$/;
const HEX16 = /^[0-9a-fA-F]{16}$/;

/** Deterministic hex digest (FNV-1a, one 32-bit lane per 8 hex digits). */
function digest(text: string, hexLen: 16 | 32): string {
  let out = '';
  for (let lane = 0; lane < hexLen / 8; lane++) {
    let h = (0x811c9dc5 ^ Math.imul(lane + 1, 0x9e3779b1)) >>> 0;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    h = (h ^ (h >>> 12)) >>> 0;
    out += h.toString(16).padStart(8, '0');
  }
  return out;
}

/** A 32-hex trace id for Raceway's trace id (a UUID in its SDKs). */
export function toTraceId(raw: string): string {
  let hex: string | undefined;
  if (UUID.test(raw)) hex = raw.replace(/-/g, '').toLowerCase();
  else if (HEX32.test(raw)) hex = raw.toLowerCase();
  if (hex !== undefined && isValidTraceId(hex)) return hex;
  return digest(`trace:${raw}`, 32);
}

function toSpanId(raw: string | undefined): string | undefined {
  if (raw === undefined || !HEX16.test(raw)) return undefined;
  const id = raw.toLowerCase();
  return isValidSpanId(id) ? id : undefined;
}

// ---- spans ----

const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });
const s = (key: string, v: string): KeyValue => kv(key, { stringValue: v });

function jsonText(v: unknown): string {
  let t: string;
  try {
    t = JSON.stringify(v) ?? 'null';
  } catch {
    t = String(v);
  }
  return t.length > MAX_STRING ? t.slice(0, MAX_STRING) : t;
}

/** A Raceway field as an attribute value: numbers typed, objects as JSON text. */
function anyValue(v: unknown): AnyValue {
  if (typeof v === 'string') return { stringValue: v.length > MAX_STRING ? v.slice(0, MAX_STRING) : v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isSafeInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  return { stringValue: jsonText(v) };
}

function eventOf(p: Parsed): SpanEvent {
  const d = p.data;
  const attrs: KeyValue[] = [s('raceway.kind', p.kind), s('raceway.event_id', p.id)];
  if (p.parentId !== undefined) attrs.push(s('raceway.parent_id', p.parentId));
  attrs.push(s('thread.id', p.threadId));
  if (p.clock.length > 0) attrs.push(s('ariadne.clock', JSON.stringify(p.clock)));
  if (p.lockSet.length > 0) attrs.push(kv('ariadne.locks_held', { arrayValue: { values: p.lockSet.map((l) => ({ stringValue: l })) } }));
  if (p.durationNs !== undefined) attrs.push(kv('raceway.duration_ns', { intValue: String(p.durationNs) }));
  const rest = (skip: string[]) => {
    for (const [k, v] of Object.entries(d)) if (!skip.includes(k) && v !== undefined) attrs.push(kv(`raceway.${k}`, anyValue(v)));
  };
  const loc = (key: string) => {
    const v = d[key];
    if (typeof v === 'string' && v !== '') attrs.push(s('ariadne.location', v.slice(0, MAX_STRING)));
  };
  let name: string;
  switch (p.kind) {
    case 'StateChange': {
      name = 'ariadne.state';
      const a = typeof d['access_type'] === 'string' ? d['access_type'] : 'Write';
      attrs.push(s('ariadne.variable', String(d['variable'])), s('ariadne.access', ACCESS[a.replace(/[_\s-]/g, '').toLowerCase()]!));
      if (d['old_value'] !== undefined) attrs.push(s('ariadne.old_value', jsonText(d['old_value'])));
      if (d['new_value'] !== undefined) attrs.push(s('ariadne.new_value', jsonText(d['new_value'])));
      loc('location');
      rest(['variable', 'access_type', 'old_value', 'new_value', 'location']);
      break;
    }
    case 'LockAcquire':
    case 'LockRelease':
      name = 'ariadne.lock';
      attrs.push(s('ariadne.lock.id', String(d['lock_id'])), s('ariadne.lock.op', p.kind === 'LockAcquire' ? 'acquire' : 'release'));
      if (typeof d['lock_type'] === 'string') attrs.push(s('ariadne.lock.type', d['lock_type']));
      loc('location');
      rest(['lock_id', 'lock_type', 'location']);
      break;
    case 'AsyncSpawn':
    case 'AsyncAwait':
      name = 'ariadne.async';
      attrs.push(s('ariadne.task.id', taskIdOf(d)!), s('ariadne.async.op', p.kind === 'AsyncSpawn' ? 'spawn' : 'await'));
      loc(p.kind === 'AsyncSpawn' ? 'spawned_at' : 'awaited_at');
      rest([]);
      break;
    case 'Error': {
      name = 'exception';
      if (typeof d['error_type'] === 'string') attrs.push(s('exception.type', d['error_type']));
      if (typeof d['message'] === 'string') attrs.push(s('exception.message', d['message'].slice(0, MAX_STRING)));
      const st = d['stack_trace'];
      if (Array.isArray(st)) attrs.push(s('exception.stacktrace', st.map(String).join('\n').slice(0, MAX_STRING)));
      rest(['error_type', 'message', 'stack_trace']);
      break;
    }
    default:
      name = `raceway.${p.kind}`;
      rest([]);
  }
  return { timeUnixNano: p.time, name, attributes: attrs, droppedAttributesCount: 0 };
}

const SCOPE: InstrumentationScope = { name: 'raceway', version: '', attributes: [], droppedAttributesCount: 0, schemaUrl: '' };

function buildSpans(parsed: Parsed[]): Span[] {
  // Request contexts, in order of their first event.
  const groups = new Map<string, Parsed[]>();
  for (const p of parsed) {
    const key = JSON.stringify([p.traceId, p.service, p.instance, p.threadId, p.distSpanId ?? '']);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(p);
  }
  const ordered = [...groups.entries()].map(([key, g]) => {
    g.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.index - b.index));
    return { key, g };
  });
  ordered.sort((a, b) => (a.g[0]!.time < b.g[0]!.time ? -1 : a.g[0]!.time > b.g[0]!.time ? 1 : a.g[0]!.index - b.g[0]!.index));

  const resources = new Map<string, Resource>();
  const used = new Set<string>();
  const spans: Span[] = [];
  for (const { key, g } of ordered) {
    const first = g[0]!;
    const dist = toSpanId(first.distSpanId);
    let spanId: string;
    let parentSpanId = toSpanId(first.upstreamSpanId) ?? '';
    if (dist !== undefined && !used.has(`${first.traceId}/${dist}`)) spanId = dist;
    else {
      // No usable span id, or another thread of a context whose span exists: derive one
      // (a child of that context's span in the second case).
      spanId = digest(`span:${key}`, 16);
      if (dist !== undefined) parentSpanId = dist;
    }
    if (!isValidSpanId(spanId)) spanId = digest(`span!:${key}`, 16);
    used.add(`${first.traceId}/${spanId}`);

    const attributes: KeyValue[] = [s('thread.id', first.threadId), s('raceway.trace_id', first.rawTraceId)];
    if (first.distSpanId !== undefined && first.distSpanId !== spanId) attributes.push(s('raceway.span_id', first.distSpanId));
    if (first.upstreamSpanId !== undefined && toSpanId(first.upstreamSpanId) === undefined) attributes.push(s('raceway.upstream_span_id', first.upstreamSpanId));
    for (const [k, v] of first.tags) if (k !== 'sdk_language') attributes.push(s(`raceway.tag.${k}`, v));

    let start = first.time;
    let end = first.time;
    let name: string | undefined;
    let kind: Span['kind'] = SpanKind.INTERNAL;
    const status: Span['status'] = { code: StatusCode.UNSET, message: '' };
    for (const p of g) {
      const began = p.durationNs !== undefined && (p.kind === 'FunctionCall' || p.kind === 'HttpResponse') ? p.time - BigInt(p.durationNs) : p.time;
      if (began < start) start = began;
      if (p.time > end) end = p.time;
      if (p.kind === 'HttpRequest' && name === undefined) {
        const method = typeof p.data['method'] === 'string' ? p.data['method'] : 'HTTP';
        const url = typeof p.data['url'] === 'string' ? p.data['url'] : '';
        name = `${method} ${url.split('?')[0]}`.trim();
        kind = SpanKind.SERVER;
        attributes.push(s('http.request.method', method));
        if (url) attributes.push(s('url.path', url.split('?')[0]!.slice(0, MAX_STRING)));
      } else if (p.kind === 'HttpResponse' && typeof p.data['status'] === 'number' && Number.isSafeInteger(p.data['status'])) {
        attributes.push(kv('http.response.status_code', { intValue: String(p.data['status']) }));
        if (p.data['status'] >= 500 && status.code !== StatusCode.ERROR) {
          status.code = StatusCode.ERROR;
          status.message = `HTTP ${p.data['status']}`;
        }
      } else if (p.kind === 'Error') {
        if (status.code !== StatusCode.ERROR || status.message.startsWith('HTTP ')) {
          status.code = StatusCode.ERROR;
          status.message = typeof p.data['message'] === 'string' ? p.data['message'].slice(0, MAX_STRING) : 'error';
        }
      }
    }
    if (name === undefined) {
      const call = g.find((p) => p.kind === 'FunctionCall');
      name = call ? String(call.data['function_name']) : `raceway ${first.threadId}`;
    }

    const rk = JSON.stringify([first.service, first.instance, first.pid ?? null, first.environment ?? null, sdkLanguage(first)]);
    let resource = resources.get(rk);
    if (!resource) {
      const ra: KeyValue[] = [s('service.name', first.service)];
      if (first.instance) ra.push(s('service.instance.id', first.instance));
      if (first.pid !== undefined) ra.push(kv('process.pid', { intValue: String(first.pid) }));
      if (first.environment) ra.push(s('deployment.environment.name', first.environment));
      ra.push(s('telemetry.sdk.name', 'raceway'));
      const lang = sdkLanguage(first);
      if (lang) ra.push(s('telemetry.sdk.language', lang));
      resources.set(rk, (resource = { attributes: ra, droppedAttributesCount: 0, schemaUrl: '' }));
    }

    spans.push({
      traceId: first.traceId,
      spanId,
      parentSpanId,
      traceState: '',
      flags: 1,
      name: name.slice(0, MAX_ID),
      kind,
      startTimeUnixNano: start,
      endTimeUnixNano: end,
      attributes,
      droppedAttributesCount: 0,
      events: g.map(eventOf),
      droppedEventsCount: 0,
      links: [],
      droppedLinksCount: 0,
      status,
      resource,
      scope: SCOPE,
      service: first.service,
    });
  }
  return spans;
}

function sdkLanguage(p: Parsed): string | undefined {
  for (const [k, v] of p.tags) if (k === 'sdk_language') return v;
  return undefined;
}
