// Test data for every test in the repo: spans and traces with valid ids,
// sensible times, a resource carrying service.name and a scope, plus a
// seeded generator of realistic traffic for benchmarks and a field-by-field
// span comparison that names the field that differs.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AnyValue, InstrumentationScope, KeyValue, Resource, Span, SpanEvent, SpanLink } from '@ariadne/model';
import { SpanKind, StatusCode, serviceOf } from '@ariadne/model';
import { prng } from '../bench/dataset.js';

export const MS = 1_000_000n;
export const SECOND = 1_000_000_000n;

/** Unix nanoseconds now (millisecond precision). */
export function nowNanos(): bigint {
  return BigInt(Date.now()) * MS;
}

export function randomTraceId(): string {
  for (;;) {
    const id = randomBytes(16).toString('hex');
    if (!/^0+$/.test(id)) return id;
  }
}

export function randomSpanId(): string {
  for (;;) {
    const id = randomBytes(8).toString('hex');
    if (!/^0+$/.test(id)) return id;
  }
}

// --- attributes ------------------------------------------------------------------

export type PlainAttribute = string | number | boolean | bigint | Uint8Array | AnyValue | PlainAttribute[];

/**
 * A typed value from a plain one: integers (number or bigint) become intValue,
 * other numbers doubleValue, Uint8Array bytesValue, arrays arrayValue; an
 * object is taken as an AnyValue already (use it for a double like 1.0).
 */
export function anyValue(v: PlainAttribute): AnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'bigint') return { intValue: v.toString() };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  if (v instanceof Uint8Array) return { bytesValue: Buffer.from(v).toString('base64') };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  return v;
}

/** `attrs({ 'http.method': 'GET', 'http.status_code': 200 })` */
export function attrs(record: Record<string, PlainAttribute>): KeyValue[] {
  return Object.entries(record).map(([key, value]) => ({ key, value: anyValue(value) }));
}

export function makeResource(service: string, extra: Record<string, PlainAttribute> = {}): Resource {
  return { attributes: attrs({ 'service.name': service, ...extra }), droppedAttributesCount: 0, schemaUrl: '' };
}

export function makeScope(name = 'ariadne-test', version = '1.0.0'): InstrumentationScope {
  return { name, version, attributes: [], droppedAttributesCount: 0, schemaUrl: '' };
}

// Spans of one service share one resource object, as spans of one OTLP
// ResourceSpans do.
const resourceCache = new Map<string, Resource>();
const defaultScope = makeScope();

function sharedResource(service: string): Resource {
  let r = resourceCache.get(service);
  if (!r) resourceCache.set(service, (r = makeResource(service)));
  return r;
}

// --- spans and traces ----------------------------------------------------------

/**
 * A valid span: random ids, a root unless `parentSpanId` is given, started a
 * second ago and lasting 1 ms unless told otherwise, SERVER kind, status unset.
 * `service` picks the resource (service.name); `resource` wins over it, and
 * `span.service` always agrees with the resource unless both are given.
 */
export function makeSpan(partial: Partial<Span> & { service?: string } = {}): Span {
  const startTimeUnixNano = partial.startTimeUnixNano ?? nowNanos() - SECOND;
  const resource = partial.resource ?? sharedResource(partial.service ?? 'test-service');
  return {
    traceId: randomTraceId(),
    spanId: randomSpanId(),
    parentSpanId: '',
    traceState: '',
    flags: 1,
    name: 'test-operation',
    kind: SpanKind.SERVER,
    endTimeUnixNano: startTimeUnixNano + MS,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: StatusCode.UNSET, message: '' },
    scope: defaultScope,
    ...partial,
    startTimeUnixNano,
    resource,
    service: partial.service ?? serviceOf(resource),
  };
}

export interface TraceOptions {
  traceId?: string;
  /** Service of each level of the tree, cycling: level n gets services[n % length]. */
  services?: string[];
  /** Levels below the root; 0 gives a single span. Default 2. */
  depth?: number;
  /** Children per span. Default 2. */
  fanout?: number;
  /** Root start, unix ns. Default: a second ago. */
  start?: bigint;
  /** Root duration; each child gets a share of its parent. Default 100 ms. */
  durationNanos?: bigint;
  /** Marks these span indexes (breadth-first, root = 0) as errors. */
  errorAt?: number[];
}

/** Number of spans makeTrace builds for a depth and fanout. */
export function traceSize(depth: number, fanout: number): number {
  let n = 1;
  let level = 1;
  for (let d = 0; d < depth; d++) n += level *= fanout;
  return n;
}

/**
 * A well-formed trace, breadth-first (root first): every child starts after
 * and ends before its parent, names are `<service> L<level>.<index>` except
 * the root's `GET /<service>`, kinds SERVER at the root and INTERNAL below.
 */
export function makeTrace(opts: TraceOptions = {}): Span[] {
  const {
    traceId = randomTraceId(),
    services = ['frontend', 'backend'],
    depth = 2,
    fanout = 2,
    start = nowNanos() - SECOND,
    durationNanos = 100n * MS,
    errorAt = [],
  } = opts;
  const spans: Span[] = [];
  const errors = new Set(errorAt);
  let level: Span[] = [];
  const add = (parent: Span | undefined, lvl: number, s: bigint, d: bigint) => {
    const service = services[lvl % services.length]!;
    const index = spans.length;
    const span = makeSpan({
      traceId,
      parentSpanId: parent?.spanId ?? '',
      service,
      name: parent ? `${service} L${lvl}.${index}` : `GET /${service}`,
      kind: parent ? SpanKind.INTERNAL : SpanKind.SERVER,
      startTimeUnixNano: s,
      endTimeUnixNano: s + d,
      status: errors.has(index) ? { code: StatusCode.ERROR, message: `error in span ${index}` } : { code: StatusCode.UNSET, message: '' },
    });
    spans.push(span);
    return span;
  };
  level.push(add(undefined, 0, start, durationNanos));
  for (let lvl = 1; lvl <= depth; lvl++) {
    const next: Span[] = [];
    for (const parent of level) {
      const share = spanDuration(parent) / BigInt(fanout);
      for (let i = 0; i < fanout; i++) {
        const s = parent.startTimeUnixNano + share * BigInt(i) + share / 10n;
        next.push(add(parent, lvl, s, (share * 8n) / 10n));
      }
    }
    level = next;
  }
  return spans;
}

function spanDuration(s: Span): bigint {
  return s.endTimeUnixNano - s.startTimeUnixNano;
}

/**
 * One span using every field of the model with awkward values: int64
 * extremes, doubles that JSON cannot hold (NaN, ±Infinity, -0), bytes, nested
 * arrays and kvlists, separators and NUL in strings, lone surrogates, events
 * and links with attributes, dropped counts, trace state and flags beyond
 * the sampled bit, a nanosecond-exact start and an end before the start.
 */
export function makeRichSpan(partial: Partial<Span> = {}): Span {
  const traceId = partial.traceId ?? randomTraceId();
  const start = 1_700_000_000_123_456_789n;
  const resource: Resource = {
    attributes: attrs({
      'service.name': 'rich-service',
      'service.instance.id': 'i-0a1b2c',
      'host.cpus': 8,
      'process.pid': { intValue: '4242' },
      'deployment.environment': 'prod',
    }),
    droppedAttributesCount: 3,
    schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
  };
  const scope: InstrumentationScope = {
    name: '@ariadne/sdk',
    version: '0.1.0-beta.1',
    attributes: attrs({ 'scope.flag': true, 'scope.weight': 0.75 }),
    droppedAttributesCount: 1,
    schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
  };
  const events: SpanEvent[] = [
    { timeUnixNano: start + 1n, name: 'exception', attributes: attrs({ 'exception.type': 'TypeError', 'exception.message': 'x is\nnot a function', 'exception.escaped': false }), droppedAttributesCount: 0 },
    { timeUnixNano: start + 999_999_999n, name: 'ariadne.state', attributes: attrs({ 'ariadne.variable': 'balance', 'ariadne.access': 'write', 'ariadne.clock': '[["svc#1",3]]', 'thread.id': 7 }), droppedAttributesCount: 2 },
    { timeUnixNano: start + 5n, name: '', attributes: [], droppedAttributesCount: 0 },
  ];
  const links: SpanLink[] = [
    { traceId: randomTraceId(), spanId: randomSpanId(), traceState: 'congo=t61rcWkgMzE', attributes: attrs({ 'link.kind': 'follows', 'link.n': -1 }), droppedAttributesCount: 4, flags: 0x301 },
    { traceId: randomTraceId(), spanId: randomSpanId(), traceState: '', attributes: [], droppedAttributesCount: 0, flags: 0 },
  ];
  const attributes: KeyValue[] = [
    { key: 'str', value: { stringValue: 'héllo wörld — 😀 \x00nul \x1fus \x1ers \x1bESC a=b' } },
    { key: 'empty.string', value: { stringValue: '' } },
    { key: '', value: { stringValue: 'empty key' } },
    { key: 'key=with=equals\x1f', value: { stringValue: 'v' } },
    { key: 'lone.surrogate', value: { stringValue: 'a\ud800b\udc00c' } },
    { key: 'int.max', value: { intValue: '9223372036854775807' } },
    { key: 'int.min', value: { intValue: '-9223372036854775808' } },
    { key: 'int.zero', value: { intValue: '0' } },
    { key: 'double', value: { doubleValue: 0.1 } },
    { key: 'double.whole', value: { doubleValue: 3 } },
    { key: 'double.big', value: { doubleValue: 1.7976931348623157e308 } },
    { key: 'double.tiny', value: { doubleValue: 5e-324 } },
    { key: 'double.nan', value: { doubleValue: NaN } },
    { key: 'double.inf', value: { doubleValue: Infinity } },
    { key: 'double.neginf', value: { doubleValue: -Infinity } },
    { key: 'double.negzero', value: { doubleValue: -0 } },
    { key: 'bool.true', value: { boolValue: true } },
    { key: 'bool.false', value: { boolValue: false } },
    { key: 'bytes', value: { bytesValue: 'AAEC/f7/' } },
    { key: 'empty.value', value: {} },
    {
      key: 'array',
      value: {
        arrayValue: {
          values: [
            { stringValue: 'a\x1fb' },
            { intValue: '-9223372036854775808' },
            { doubleValue: NaN },
            { doubleValue: -0 },
            { boolValue: true },
            { bytesValue: 'AA==' },
            { arrayValue: { values: [{ intValue: '1' }] } },
            {},
          ],
        },
      },
    },
    { key: 'array.empty', value: { arrayValue: { values: [] } } },
    {
      key: 'kvlist',
      value: {
        kvlistValue: {
          values: [
            { key: 'nested.int', value: { intValue: '18446744073709551615' } },
            { key: 'nested.kv', value: { kvlistValue: { values: [{ key: 'deep', value: { doubleValue: 2.5 } }] } } },
          ],
        },
      },
    },
    { key: 'kvlist.empty', value: { kvlistValue: { values: [] } } },
    { key: 'str', value: { stringValue: 'duplicate key, kept in order' } },
  ];
  return {
    traceId,
    spanId: randomSpanId(),
    parentSpanId: randomSpanId(),
    traceState: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    flags: 0x301,
    name: 'rich operation \x1f with separators',
    kind: SpanKind.CONSUMER,
    startTimeUnixNano: start,
    endTimeUnixNano: start + 1_234_567_891n,
    attributes,
    droppedAttributesCount: 5,
    events,
    droppedEventsCount: 6,
    links,
    droppedLinksCount: 7,
    status: { code: StatusCode.ERROR, message: 'déjà vu: \x00 boom' },
    resource,
    scope,
    service: 'rich-service',
    ...partial,
  };
}

// --- realistic traffic --------------------------------------------------------------

/** Small, fast, seeded PRNG (mulberry32) so generated data is reproducible. */
export const seededRandom = prng;

export interface WorkloadOptions {
  seed?: number;
  /** First trace's start, unix ns. Default: an hour ago. */
  start?: bigint;
  /** Traces started per second of simulated time. Default 200. */
  tracesPerSecond?: number;
  /** Services in the simulated system. Default 12. */
  services?: number;
  /** Spans per trace: uniform in [min, max]. Default 5..25. */
  minSpans?: number;
  maxSpans?: number;
  /** One trace in this many has an error span. Default 20. */
  errorEvery?: number;
}

const HTTP_ROUTES = ['/api/users/:id', '/api/cart', '/api/checkout', '/api/products', '/api/products/:id', '/api/search', '/health', '/api/orders/:id', '/api/login', '/api/recommendations'];
const DB_STATEMENTS = ['SELECT * FROM users WHERE id = ?', 'SELECT * FROM products WHERE category = ? LIMIT 50', 'UPDATE carts SET items = ? WHERE id = ?', 'INSERT INTO orders (user_id, total) VALUES (?, ?)', 'SELECT count(*) FROM inventory WHERE sku = ?'];

/**
 * Traces resembling instrumented microservices: HTTP server and client spans
 * and database calls with about ten attributes each (method, route, status,
 * url with ids, user id, peer, db statement, sizes, a double), one resource per
 * service instance with SDK attributes, occasional events and errors.
 * Yields one trace at a time; deterministic for a seed.
 */
export function* generateTraces(count: number, opts: WorkloadOptions = {}): Generator<Span[]> {
  const rnd = seededRandom(opts.seed ?? 1);
  const start = opts.start ?? nowNanos() - 3600n * SECOND;
  const step = SECOND / BigInt(opts.tracesPerSecond ?? 200);
  const nServices = opts.services ?? 12;
  const minSpans = opts.minSpans ?? 5;
  const maxSpans = opts.maxSpans ?? 25;
  const errorEvery = opts.errorEvery ?? 20;
  const hex = (bytes: number) => {
    let s = '';
    for (let i = 0; i < bytes; i++) s += ((rnd() * 256) | 0).toString(16).padStart(2, '0');
    return s === '0'.repeat(bytes * 2) ? '1'.padStart(bytes * 2, '0') : s;
  };
  const pick = <T>(xs: readonly T[]): T => xs[(rnd() * xs.length) | 0]!;
  const resources: Resource[][] = [];
  for (let s = 0; s < nServices; s++) {
    const instances: Resource[] = [];
    for (let i = 0; i < 3; i++) {
      instances.push(
        makeResource(`service-${s}`, {
          'service.version': `1.${s}.0`,
          'service.instance.id': `service-${s}-${i}`,
          'host.name': `node-${(s * 3 + i) % 7}`,
          'deployment.environment': 'production',
          'telemetry.sdk.name': 'opentelemetry',
          'telemetry.sdk.language': s % 2 ? 'nodejs' : 'go',
          'telemetry.sdk.version': '1.26.0',
        }),
      );
    }
    resources.push(instances);
  }
  const scopes = [makeScope('@opentelemetry/instrumentation-http', '0.52.0'), makeScope('@opentelemetry/instrumentation-pg', '0.43.0'), makeScope('app', '1.0.0')];
  for (let t = 0; t < count; t++) {
    const traceId = hex(16);
    const traceStart = start + step * BigInt(t) + BigInt((rnd() * Number(step)) | 0);
    const n = minSpans + ((rnd() * (maxSpans - minSpans + 1)) | 0);
    const failing = rnd() * errorEvery < 1 ? 1 + ((rnd() * (n - 1)) | 0) : -1;
    const userId = `u-${(rnd() * 50_000) | 0}`;
    const spans: Span[] = [];
    const rootDur = BigInt(5_000_000 + ((rnd() * 400_000_000) | 0));
    for (let i = 0; i < n; i++) {
      const parent = i === 0 ? undefined : spans[(rnd() * i) | 0]!;
      const svc = i === 0 ? 0 : 1 + ((rnd() * (nServices - 1)) | 0);
      const resource = pick(resources[svc]!);
      const pStart = parent?.startTimeUnixNano ?? traceStart;
      const pDur = parent ? parent.endTimeUnixNano - parent.startTimeUnixNano : rootDur;
      const s = parent ? pStart + BigInt((rnd() * Number(pDur) * 0.5) | 0) : traceStart;
      const d = parent ? BigInt(Math.max(1000, (rnd() * Number(pStart + pDur - s)) | 0)) : rootDur;
      const isDb = i > 0 && rnd() < 0.3;
      const route = pick(HTTP_ROUTES);
      const status = i === failing ? 500 : pick([200, 200, 200, 200, 201, 204, 304, 404]);
      const id = (rnd() * 1_000_000) | 0;
      const attributes = isDb
        ? attrs({
            'db.system': 'postgresql',
            'db.name': 'shop',
            'db.statement': pick(DB_STATEMENTS),
            'db.operation': pick(['SELECT', 'UPDATE', 'INSERT']),
            'net.peer.name': `db-${svc % 3}.internal`,
            'net.peer.port': 5432,
            'db.rows_affected': (rnd() * 100) | 0,
            'user.id': userId,
            'thread.id': (rnd() * 16) | 0,
            'db.duration_ratio': Math.round(rnd() * 10000) / 10000 + 0.00001,
          })
        : attrs({
            'http.method': pick(['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE']),
            'http.route': route,
            'http.target': route.replace(':id', String(id)),
            'http.url': `http://service-${svc}:8080${route.replace(':id', String(id))}`,
            'http.status_code': status,
            'http.user_agent': pick(['Mozilla/5.0 (X11; Linux x86_64)', 'okhttp/4.9.3', 'Go-http-client/1.1']),
            'net.peer.ip': `10.0.${(rnd() * 8) | 0}.${(rnd() * 255) | 0}`,
            'user.id': userId,
            'http.response_content_length': (rnd() * 20_000) | 0,
            'sampling.priority': 0.5,
          });
      const events: SpanEvent[] =
        i === failing
          ? [{ timeUnixNano: s + d / 2n, name: 'exception', attributes: attrs({ 'exception.type': 'Error', 'exception.message': `upstream failed for ${userId}` }), droppedAttributesCount: 0 }]
          : [];
      spans.push({
        traceId,
        spanId: hex(8),
        parentSpanId: parent?.spanId ?? '',
        traceState: '',
        flags: 1,
        name: isDb ? `pg.query ${attributes[3]!.value.stringValue}` : `${i === 0 ? 'GET' : pick(['GET', 'POST'])} ${route}`,
        kind: i === 0 ? SpanKind.SERVER : isDb ? SpanKind.CLIENT : pick([SpanKind.SERVER, SpanKind.CLIENT, SpanKind.INTERNAL]),
        startTimeUnixNano: s,
        endTimeUnixNano: s + d,
        attributes,
        droppedAttributesCount: 0,
        events,
        droppedEventsCount: 0,
        links: [],
        droppedLinksCount: 0,
        status: i === failing ? { code: StatusCode.ERROR, message: 'upstream failed' } : { code: StatusCode.UNSET, message: '' },
        resource,
        scope: isDb ? scopes[1]! : i === 0 ? scopes[0]! : pick(scopes),
        service: serviceOf(resource),
      });
    }
    yield spans;
  }
}

// --- comparing spans -------------------------------------------------------------------

const SPAN_FIELDS: (keyof Span)[] = [
  'traceId',
  'spanId',
  'parentSpanId',
  'traceState',
  'flags',
  'name',
  'kind',
  'startTimeUnixNano',
  'endTimeUnixNano',
  'attributes',
  'droppedAttributesCount',
  'events',
  'droppedEventsCount',
  'links',
  'droppedLinksCount',
  'status',
  'resource',
  'scope',
  'service',
];

/** Asserts two spans are equal field by field, naming the first field that differs. */
export function assertSameSpan(actual: Span, expected: Span, context = ''): void {
  const where = `${context ? context + ': ' : ''}span ${expected.spanId}`;
  for (const field of SPAN_FIELDS) {
    if (field === 'attributes') {
      assert.equal(actual.attributes.length, expected.attributes.length, `${where}: attribute count`);
      expected.attributes.forEach((kv, i) => assert.deepStrictEqual(actual.attributes[i], kv, `${where}: attribute #${i} (${JSON.stringify(kv.key)})`));
      continue;
    }
    assert.deepStrictEqual(actual[field], expected[field], `${where}: field ${field}`);
  }
  assert.deepStrictEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `${where}: field names`);
}

/** Asserts the same spans, in any order, each once. */
export function assertSameSpans(actual: readonly Span[], expected: readonly Span[], context = ''): void {
  const bySpanId = (a: Span, b: Span) => (a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0);
  const a = [...actual].sort(bySpanId);
  const e = [...expected].sort(bySpanId);
  assert.deepStrictEqual(
    a.map((s) => s.spanId),
    e.map((s) => s.spanId),
    `${context ? context + ': ' : ''}span ids`,
  );
  for (let i = 0; i < e.length; i++) assertSameSpan(a[i]!, e[i]!, context);
}
