/// <reference types="node" />
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Span } from '../span.js';
import { analyzeTrace, renderAnalyzedTree, traceAnalysisToJson } from './analyze.js';
import type { TraceAnalysis } from './analyze.js';
import { T0, asyncTrace, fanOut, generateTrace, idOf, ms, outliving, sequential, skewedTrace } from './fixtures.js';

const names = (spans: Span[]) => new Map(spans.map((s) => [s.spanId, s.name]));
function pathOf(spans: Span[], a: TraceAnalysis): [string, number, number][] {
  const n = names(spans);
  return a.criticalPath.map((s) => [n.get(s.spanId)!, Number(s.startTimeUnixNano - T0) / 1e6, Number(s.endTimeUnixNano - T0) / 1e6]);
}
const inMs = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v / 1e6]));

test('fan-out: the whole analysis', () => {
  const spans = fanOut();
  const a = analyzeTrace(spans);
  assert.deepEqual(pathOf(spans, a), [
    ['root', 0, 10],
    ['b', 10, 70],
    ['root', 70, 100],
  ]);
  assert.deepEqual(a.criticalPath[1], {
    spanId: idOf('b'),
    service: 'orders',
    operation: 'b',
    startTimeUnixNano: T0 + BigInt(ms(10)),
    endTimeUnixNano: T0 + BigInt(ms(70)),
  });
  assert.deepEqual(
    a.bottlenecks.map((b) => [b.operation, b.service, b.percentage]),
    [
      ['b', 'orders', 60],
      ['root', 'gateway', 40],
      ['c', 'inventory', 35],
      ['a', 'users', 30],
    ],
  );
  assert.deepEqual(a.selfTimes, { [idOf('root')]: ms(40), [idOf('a')]: ms(30), [idOf('b')]: ms(60), [idOf('c')]: ms(35) });
  assert.deepEqual(inMs(a.serviceBreakdown), { gateway: 40, users: 30, orders: 60, inventory: 35 });
  assert.deepEqual(inMs(a.wallTimeBreakdown), { gateway: 40, inventory: 12.5, orders: 37.5, users: 10 });
  assert.equal(a.totalDurationNanos, ms(100));
  assert.equal(a.coveredTimeNanos, ms(100));
  assert.deepEqual(a.skewAdjustments, []);
  assert.deepEqual(a.serviceCalls, [
    { from: 'gateway', to: 'inventory', count: 1 },
    { from: 'gateway', to: 'orders', count: 1 },
    { from: 'gateway', to: 'users', count: 1 },
  ]);
});

test('sequential: the whole analysis', () => {
  const spans = sequential();
  const a = analyzeTrace(spans);
  assert.equal(a.criticalPath.length, 9);
  assert.deepEqual(inMs(a.serviceBreakdown), { api: 18, auth: 22, data: 20, database: 30, cache: 10 });
  assert.deepEqual(
    a.bottlenecks.map((b) => [b.operation, b.percentage]),
    [
      ['query', 30],
      ['auth', 22],
      ['load', 20],
      ['GET /checkout', 18],
    ],
  );
  assert.deepEqual(a.serviceCalls.map((c) => `${c.from}->${c.to}:${c.count}`), ['api->auth:1', 'api->cache:1', 'api->data:1', 'data->database:1']);
});

test('skewed clocks: analysed on adjusted spans, adjustment reported', () => {
  const spans = skewedTrace();
  const a = analyzeTrace(spans);
  assert.deepEqual(a.skewAdjustments, [
    { spanId: idOf('server'), service: 'backend', deltaNanos: ms(40), reason: 'starts-before-parent', shiftedSpans: 2 },
  ]);
  assert.deepEqual(pathOf(spans, a), [
    ['root', 0, 10],
    ['call', 10, 20],
    ['server', 20, 30],
    ['query', 30, 31],
    ['pg', 31, 69],
    ['query', 69, 70],
    ['server', 70, 80],
    ['call', 80, 90],
    ['root', 90, 100],
  ]);
  assert.deepEqual(inMs(a.serviceBreakdown), { frontend: 40, backend: 22, postgres: 38 });
  assert.equal(a.totalDurationNanos, ms(100)); // before adjustment the trace seemed to start 20ms earlier
  assert.equal(a.bottlenecks[0]!.spanId, idOf('pg'));
  assert.deepEqual(a.serviceCalls.map((c) => `${c.from}->${c.to}`), ['backend->postgres', 'frontend->backend']);
});

test('async follows-from work after the request ended', () => {
  const spans = asyncTrace();
  const a = analyzeTrace(spans);
  assert.deepEqual(pathOf(spans, a), [
    ['root', 0, 10],
    ['publish', 10, 20],
    ['root', 20, 50],
  ]);
  assert.deepEqual(a.skewAdjustments, []);
  assert.equal(a.totalDurationNanos, ms(130));
  assert.equal(a.coveredTimeNanos, ms(120));
  assert.deepEqual(a.serviceCalls.map((c) => `${c.from}->${c.to}`), ['web->audit', 'web->worker']);
});

test('a child outliving its parent', () => {
  const spans = outliving();
  const a = analyzeTrace(spans);
  assert.deepEqual(pathOf(spans, a), [
    ['root', 0, 10],
    ['a', 10, 30],
    ['root', 30, 60],
    ['flush', 60, 100],
  ]);
  assert.deepEqual(a.bottlenecks.map((b) => [b.operation, b.percentage]), [
    ['flush', 60],
    ['root', 26.67],
    ['a', 13.33],
  ]);
});

test('renderAnalyzedTree: seed 002 form with critical path and bottleneck marks', () => {
  assert.deepEqual(renderAnalyzedTree(sequential()), [
    '└─ GET /checkout (api) - 100ms ◆ critical ⚠ bottleneck 18.0%',
    '   ├─ auth (auth) - 22ms ◆ critical ⚠ bottleneck 22.0%',
    '   ├─ load (data) - 50ms ◆ critical ⚠ bottleneck 20.0%',
    '   │  └─ query (database) - 30ms ◆ critical ⚠ bottleneck 30.0%',
    '   └─ get (cache) - 10ms ◆ critical',
  ]);
  assert.deepEqual(renderAnalyzedTree(fanOut(), { criticalPath: false, bottleneckThreshold: 0.5 }), [
    '└─ root (gateway) - 100ms',
    '   ├─ a (users) - 30ms',
    '   ├─ b (orders) - 60ms ⚠ bottleneck 60.0%',
    '   └─ c (inventory) - 35ms',
  ]);
});

test('renderAnalyzedTree orders children by their adjusted start', () => {
  const lines = renderAnalyzedTree(skewedTrace());
  assert.deepEqual(lines.map((l) => l.replace(/ [◆⚠].*$/, '')), [
    '└─ root (frontend) - 100ms',
    '   └─ call (frontend) - 80ms',
    '      └─ server (backend) - 60ms',
    '         └─ query (backend) - 40ms',
    '            └─ pg (postgres) - 38ms',
  ]);
});

test('traceAnalysisToJson survives JSON.stringify with exact timestamps', () => {
  const json = JSON.parse(JSON.stringify(traceAnalysisToJson(analyzeTrace(fanOut()))));
  assert.equal(json.criticalPath[0].startTimeUnixNano, T0.toString());
  assert.equal(json.selfTimes[idOf('b')], ms(60));
});

test('empty trace', () => {
  const a = analyzeTrace([]);
  assert.deepEqual(a.criticalPath, []);
  assert.equal(a.totalDurationNanos, 0);
  assert.deepEqual(renderAnalyzedTree([]), []);
});

function checkInvariants(spans: Span[], a: TraceAnalysis) {
  const root = spans.find((s) => !s.parentSpanId)!;
  const cp = a.criticalPath;
  assert.equal(cp[0]!.startTimeUnixNano, root.startTimeUnixNano);
  assert.equal(cp[cp.length - 1]!.endTimeUnixNano, root.endTimeUnixNano);
  for (let i = 1; i < cp.length; i++) assert.equal(cp[i]!.startTimeUnixNano, cp[i - 1]!.endTimeUnixNano);
  assert.equal(Object.keys(a.selfTimes).length, spans.length);
  assert.equal(
    Object.values(a.wallTimeBreakdown).reduce((x, y) => x + y, 0),
    a.coveredTimeNanos,
  );
}

test('10k spans: invariants hold', () => {
  const spans = generateTrace(10_000, 3);
  checkInvariants(spans, analyzeTrace(spans));
});

test('100k spans: analyzeTrace timing (reported, not asserted)', (t) => {
  const spans = generateTrace(100_000, 5);
  const runs: number[] = [];
  const cpu: number[] = [];
  let a: TraceAnalysis | undefined;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    a = analyzeTrace(spans);
    const c = process.cpuUsage(c0);
    runs.push(performance.now() - t0);
    cpu.push((c.user + c.system) / 1000);
  }
  checkInvariants(spans, a!);
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[2]!.toFixed(1);
  // Wall time suffers from other processes on a shared machine; CPU time (all threads, GC included) less so.
  t.diagnostic(
    `analyzeTrace 100k spans: wall first ${runs[0]!.toFixed(1)} ms, median ${median(runs)} ms, best ${Math.min(...runs).toFixed(1)} ms; ` +
      `cpu first ${cpu[0]!.toFixed(1)} ms, median ${median(cpu)} ms ` +
      `(${a!.criticalPath.length} path segments, ${a!.skewAdjustments.length} skew adjustments, ${a!.bottlenecks.length} bottlenecks)`,
  );
});
