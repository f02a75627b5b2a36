// Test helpers: traces written as short specs with times in milliseconds from
// a fixed epoch, span ids derived from readable names. Not exported by the package.

import type { KeyValue, Resource, Span, SpanKind as SpanKindT, AnyValue } from '../span.js';
import { SpanKind, StatusCode, emptyScope } from '../span.js';

export const T0 = 1_700_000_000_000_000_000n;
export const TRACE = '0af7651916cd43dd8448eb211c80319c';

/** Milliseconds from T0 as absolute unix ns. */
export const at = (ms: number): bigint => T0 + BigInt(Math.round(ms * 1e6));
/** Milliseconds as a nanosecond count. */
export const ms = (x: number): number => Math.round(x * 1e6);

/** A stable 16-hex span id for a readable name (FNV-1a 64). */
export function idOf(name: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < name.length; i++) {
    h ^= BigInt(name.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return (h || 1n).toString(16).padStart(16, '0');
}

export interface SpanSpec {
  id: string;
  parent?: string;
  /** parent id written out as given (e.g. one that is missing from the trace) */
  rawParent?: string;
  service: string;
  /** operation; defaults to the id */
  name?: string;
  start: number;
  end: number;
  kind?: SpanKindT;
  error?: boolean;
  attrs?: Record<string, string | number | boolean>;
  resource?: Record<string, string>;
  /** event times in ms */
  events?: number[];
  followsFrom?: boolean;
  traceId?: string;
}

const resources = new Map<string, Resource>();

function resourceFor(service: string, extra: Record<string, string> = {}): Resource {
  const key = JSON.stringify([service, extra]);
  let r = resources.get(key);
  if (!r) {
    r = { attributes: [kv('service.name', service), ...Object.entries(extra).map(([k, v]) => kv(k, v))], droppedAttributesCount: 0, schemaUrl: '' };
    resources.set(key, r);
  }
  return r;
}

export function kv(key: string, v: string | number | boolean): KeyValue {
  let value: AnyValue;
  if (typeof v === 'string') value = { stringValue: v };
  else if (typeof v === 'boolean') value = { boolValue: v };
  else if (Number.isInteger(v)) value = { intValue: String(v) };
  else value = { doubleValue: v };
  return { key, value };
}

export function mkSpan(s: SpanSpec): Span {
  const parentSpanId = s.rawParent ?? (s.parent ? idOf(s.parent) : '');
  return {
    traceId: s.traceId ?? TRACE,
    spanId: idOf(s.id),
    parentSpanId,
    traceState: '',
    flags: 1,
    name: s.name ?? s.id,
    kind: s.kind ?? SpanKind.INTERNAL,
    startTimeUnixNano: at(s.start),
    endTimeUnixNano: at(s.end),
    attributes: Object.entries(s.attrs ?? {}).map(([k, v]) => kv(k, v)),
    droppedAttributesCount: 0,
    events: (s.events ?? []).map((t, i) => ({ timeUnixNano: at(t), name: `e${i}`, attributes: [], droppedAttributesCount: 0 })),
    droppedEventsCount: 0,
    links: s.followsFrom
      ? [{ traceId: s.traceId ?? TRACE, spanId: parentSpanId, traceState: '', attributes: [kv('opentracing.ref_type', 'follows_from')], droppedAttributesCount: 0, flags: 1 }]
      : [],
    droppedLinksCount: 0,
    status: { code: s.error ? StatusCode.ERROR : StatusCode.UNSET, message: '' },
    resource: resourceFor(s.service, s.resource),
    scope: emptyScope(),
    service: s.service,
  };
}

export const mkTrace = (specs: SpanSpec[]): Span[] => specs.map(mkSpan);

/** Deterministic PRNG (mulberry32) for generated traces. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A realistic big trace: a root fanning out level by level, children partly
 * sequential and partly parallel inside their parent, 20 services, some
 * CLIENT→SERVER hops. Times in nanoseconds; ids are sequential hex.
 */
export function generateTrace(count: number, seed = 1): Span[] {
  const rand = rng(seed);
  const services = Array.from({ length: 20 }, (_, i) => `svc-${i}`);
  const spans: Span[] = [];
  const id = (i: number) => (i + 1).toString(16).padStart(16, '0');
  type Open = { i: number; start: number; end: number; service: string; depth: number };
  const queue: Open[] = [];
  const push = (i: number, parent: Open | undefined, start: number, end: number, service: string, kind: SpanKindT) => {
    spans.push({
      traceId: TRACE,
      spanId: id(i),
      parentSpanId: parent ? id(parent.i) : '',
      traceState: '',
      flags: 1,
      name: `op-${Math.floor(rand() * 50)}`,
      kind,
      startTimeUnixNano: T0 + BigInt(start),
      endTimeUnixNano: T0 + BigInt(end),
      attributes: [kv('http.status_code', 200)],
      droppedAttributesCount: 0,
      events: [],
      droppedEventsCount: 0,
      links: [],
      droppedLinksCount: 0,
      status: { code: rand() < 0.01 ? StatusCode.ERROR : StatusCode.UNSET, message: '' },
      resource: resourceFor(service),
      scope: emptyScope(),
      service,
    });
    queue.push({ i, start, end, service, depth: parent ? parent.depth + 1 : 0 });
  };
  push(0, undefined, 0, 10_000_000_000, services[0]!, SpanKind.SERVER);
  let head = 0;
  while (spans.length < count) {
    const p = queue[head++ % queue.length]!;
    const width = 1 + Math.floor(rand() * 8);
    let cursor = p.start + Math.floor((p.end - p.start) * 0.02);
    for (let k = 0; k < width && spans.length < count; k++) {
      const room = p.end - cursor;
      if (room < 10) break;
      const len = Math.max(1, Math.floor(room * (0.1 + rand() * 0.5)));
      const s = cursor;
      const e = s + len + (rand() < 0.02 ? room : 0); // a few outlive their parent
      const remote = rand() < 0.3;
      const service = remote ? services[Math.floor(rand() * services.length)]! : p.service;
      push(spans.length, p, s, e, service, remote ? SpanKind.SERVER : SpanKind.INTERNAL);
      // Sequential or parallel with the next sibling.
      cursor = rand() < 0.5 ? e : s + Math.floor(len * rand());
    }
  }
  return spans;
}

/** Sequential children, one nested: every span is on the critical path. */
export function sequential(): Span[] {
  return mkTrace([
    { id: 'root', name: 'GET /checkout', service: 'api', start: 0, end: 100 },
    { id: 'a', name: 'auth', parent: 'root', service: 'auth', start: 5, end: 27 },
    { id: 'b', name: 'load', parent: 'root', service: 'data', start: 30, end: 80 },
    { id: 'db', name: 'query', parent: 'b', service: 'database', start: 40, end: 70 },
    { id: 'c', name: 'get', parent: 'root', service: 'cache', start: 85, end: 95 },
  ]);
}

/** Three parallel calls from a gateway. */
export function fanOut(): Span[] {
  return mkTrace([
    { id: 'root', service: 'gateway', start: 0, end: 100, kind: SpanKind.SERVER },
    { id: 'a', parent: 'root', service: 'users', start: 10, end: 40, kind: SpanKind.SERVER },
    { id: 'b', parent: 'root', service: 'orders', start: 10, end: 70, kind: SpanKind.SERVER },
    { id: 'c', parent: 'root', service: 'inventory', start: 10, end: 45, kind: SpanKind.SERVER },
  ]);
}

/** A same-service child (so no skew applies) that outlives its parent. */
export function outliving(): Span[] {
  return mkTrace([
    { id: 'root', service: 'api', start: 0, end: 100 },
    { id: 'a', parent: 'root', service: 'api', start: 10, end: 30 },
    { id: 'flush', parent: 'root', service: 'api', start: 60, end: 150 },
  ]);
}

/** A request that publishes a message consumed after it ended, plus a follows-from audit span. */
export function asyncTrace(): Span[] {
  return mkTrace([
    { id: 'root', service: 'web', start: 0, end: 50, kind: SpanKind.SERVER },
    { id: 'publish', parent: 'root', service: 'web', start: 10, end: 20, kind: SpanKind.PRODUCER },
    { id: 'consume', parent: 'publish', service: 'worker', start: 80, end: 130, kind: SpanKind.CONSUMER },
    { id: 'audit', parent: 'root', service: 'audit', start: 60, end: 90, followsFrom: true },
  ]);
}

/**
 * frontend's client call waits 80ms; backend's clock runs 45ms behind, so its
 * server span (60ms) appears to start 30ms before the call. Its own child
 * (same clock) moves with it; postgres keeps good time.
 */
export function skewedTrace(): Span[] {
  return mkTrace([
    { id: 'root', service: 'frontend', start: 0, end: 100, kind: SpanKind.SERVER },
    { id: 'call', parent: 'root', service: 'frontend', start: 10, end: 90, kind: SpanKind.CLIENT },
    { id: 'server', parent: 'call', service: 'backend', start: -20, end: 40, kind: SpanKind.SERVER, events: [-15] },
    { id: 'query', parent: 'server', service: 'backend', start: -10, end: 30, kind: SpanKind.CLIENT },
    { id: 'pg', parent: 'query', service: 'postgres', start: 31, end: 69, kind: SpanKind.SERVER },
  ]);
}
