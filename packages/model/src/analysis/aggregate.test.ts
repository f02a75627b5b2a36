/// <reference types="node" />
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Span } from '../span.js';
import { SpanKind } from '../span.js';
import { RedAggregator, dependencyGraph, exactQuantiles, redMetrics } from './aggregate.js';
import { mkSpan, mkTrace, ms, rng } from './fixtures.js';
import type { SpanSpec } from './fixtures.js';

/** Nearest rank by integer arithmetic: q = perMille / 1000. */
function bruteQuantiles(values: number[], perMille: number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  return perMille.map((p) => sorted[Math.max(1, Math.ceil((p * sorted.length) / 1000)) - 1]!);
}

test('exactQuantiles equals a sort, for any data and quantile', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 1e9 }), { minLength: 1, maxLength: 400 }),
      fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 5 }),
      (values, perMille) => {
        const got = exactQuantiles(Float64Array.from(values), perMille.map((p) => p / 1000));
        assert.deepEqual(got, bruteQuantiles(values, perMille));
      },
    ),
    { numRuns: 500 },
  );
});

test('exactQuantiles on big and hostile inputs', () => {
  const rand = rng(9);
  const n = 200_000;
  const shapes: Record<string, (i: number) => number> = {
    random: () => Math.floor(rand() * 1e9),
    sorted: (i) => i,
    reversed: (i) => n - i,
    constant: () => 42,
    'few distinct': (i) => i % 3,
    'organ pipe': (i) => (i < n / 2 ? i : n - i),
  };
  for (const [name, f] of Object.entries(shapes)) {
    const values = Array.from({ length: n }, (_, i) => f(i));
    const got = exactQuantiles(Float64Array.from(values), [0.5, 0.95, 0.99, 0, 1]);
    assert.deepEqual(got, bruteQuantiles(values, [500, 950, 990, 0, 1000]), name);
  }
  assert.deepEqual(exactQuantiles(new Float64Array(0), [0.5]), [NaN]);
});

function redSpans(): Span[] {
  const specs: SpanSpec[] = [];
  // api: 10 SERVER spans of 1..10 ms, 2 errors; 5 INTERNAL spans of 100ms
  for (let i = 1; i <= 10; i++) specs.push({ id: `api${i}`, service: 'api', name: 'GET /', start: i * 10, end: i * 10 + i, kind: SpanKind.SERVER, error: i <= 2 });
  for (let i = 1; i <= 5; i++) specs.push({ id: `apiint${i}`, service: 'api', name: 'render', start: i, end: i + 100 });
  // db: 4 spans of 5ms
  for (let i = 1; i <= 4; i++) specs.push({ id: `db${i}`, service: 'db', name: 'SELECT', start: i, end: i + 5, kind: SpanKind.SERVER });
  return mkTrace(specs);
}

test('redMetrics by service: rate over the window, error rate, nearest-rank quantiles', () => {
  const rows = redMetrics(redSpans(), { groupBy: 'service', windowNanos: 5e9 });
  assert.deepEqual(
    rows.map((r) => ({ ...r })),
    [
      {
        service: 'api',
        count: 15,
        errorCount: 2,
        rate: 3,
        errorRate: 2 / 15,
        p50Nanos: ms(8), // sorted 1..10, 100 x5: rank 8
        p95Nanos: ms(100),
        p99Nanos: ms(100),
        avgNanos: Math.round((ms(55) + ms(500)) / 15),
      },
      { service: 'db', count: 4, errorCount: 0, rate: 0.8, errorRate: 0, p50Nanos: ms(5), p95Nanos: ms(5), p99Nanos: ms(5), avgNanos: ms(5) },
    ],
  );
});

test('redMetrics by operation, and only SERVER spans', () => {
  const rows = redMetrics(redSpans(), { groupBy: 'operation', windowNanos: 1e9, kinds: [SpanKind.SERVER] });
  assert.deepEqual(
    rows.map((r) => [r.service, r.operation, r.count, r.errorRate, r.p50Nanos, r.p95Nanos, r.p99Nanos]),
    [
      ['api', 'GET /', 10, 0.2, ms(5), ms(10), ms(10)],
      ['db', 'SELECT', 4, 0, ms(5), ms(5), ms(5)],
    ],
  );
  assert.throws(() => redMetrics(redSpans(), { groupBy: 'service', windowNanos: 0 }), RangeError);
});

test('RedAggregator on random data agrees with brute force', () => {
  const rand = rng(4);
  const agg = new RedAggregator('operation');
  const raw = new Map<string, number[]>();
  for (let i = 0; i < 50_000; i++) {
    const op = `op${Math.floor(rand() * 7)}`;
    const d = Math.floor(rand() ** 3 * 1e9);
    agg.add('svc', op, d, false);
    if (!raw.has(op)) raw.set(op, []);
    raw.get(op)!.push(d);
  }
  for (const row of agg.result(60e9)) {
    const values = raw.get(row.operation!)!;
    assert.equal(row.count, values.length);
    assert.deepEqual([row.p50Nanos, row.p95Nanos, row.p99Nanos], bruteQuantiles(values, [500, 950, 990]));
  }
});

test('dependencyGraph: CLIENT→SERVER is one call; direct and virtual calls; errors; latency', () => {
  const trace = (t: string, clientMs: number, serverError: boolean): SpanSpec[] => [
    { traceId: t, id: `${t}gw`, service: 'gateway', start: 0, end: 100, kind: SpanKind.SERVER },
    { traceId: t, id: `${t}call`, parent: `${t}gw`, service: 'gateway', start: 10, end: 10 + clientMs, kind: SpanKind.CLIENT, attrs: { 'peer.service': 'users' } },
    { traceId: t, id: `${t}users`, parent: `${t}call`, service: 'users', start: 12, end: 8 + clientMs, kind: SpanKind.SERVER, error: serverError },
    // client span of an uninstrumented payment API
    { traceId: t, id: `${t}stripe`, parent: `${t}gw`, service: 'gateway', start: 50, end: 90, kind: SpanKind.CLIENT, attrs: { 'peer.service': 'stripe' } },
    // a server span called with no client span in between
    { traceId: t, id: `${t}orders`, parent: `${t}gw`, service: 'orders', start: 20, end: 30, kind: SpanKind.SERVER },
    // a database reached through an internal span under the client span: one call, not a virtual one too
    { traceId: t, id: `${t}q`, parent: `${t}orders`, service: 'orders', start: 21, end: 29, kind: SpanKind.CLIENT, attrs: { 'db.system': 'postgresql' } },
    { traceId: t, id: `${t}qi`, parent: `${t}q`, service: 'orders', start: 22, end: 28 },
    { traceId: t, id: `${t}pg`, parent: `${t}qi`, service: 'postgresql', start: 23, end: 27, kind: SpanKind.SERVER },
  ];
  const spans = mkTrace([...trace('1'.repeat(32), 20, true), ...trace('2'.repeat(32), 40, false)]);
  assert.deepEqual(dependencyGraph(spans), [
    { from: 'gateway', to: 'orders', virtual: false, callCount: 2, errorCount: 0, p50LatencyNanos: ms(10), avgLatencyNanos: ms(10) },
    { from: 'gateway', to: 'stripe', virtual: true, callCount: 2, errorCount: 0, p50LatencyNanos: ms(40), avgLatencyNanos: ms(40) },
    { from: 'gateway', to: 'users', virtual: false, callCount: 2, errorCount: 1, p50LatencyNanos: ms(20), avgLatencyNanos: ms(30) },
    { from: 'orders', to: 'postgresql', virtual: false, callCount: 2, errorCount: 0, p50LatencyNanos: ms(8), avgLatencyNanos: ms(8) },
  ]);
});

test('dependencyGraph keeps traces apart even when span ids repeat', () => {
  const a = mkSpan({ traceId: 'a'.repeat(32), id: 'root', service: 'x', start: 0, end: 1 });
  const b = mkSpan({ traceId: 'b'.repeat(32), id: 'child', parent: 'root', service: 'y', start: 0, end: 1 });
  assert.deepEqual(dependencyGraph([a, b]), []);
});
