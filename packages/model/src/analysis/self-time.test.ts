/// <reference types="node" />
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Span } from '../span.js';
import { selfTimes } from './self-time.js';
import type { SelfTimeResult } from './self-time.js';
import { asyncTrace, fanOut, generateTrace, idOf, mkTrace, ms, outliving, sequential } from './fixtures.js';

/** selfTimes keyed by readable name, in ms. */
function byName(spans: Span[], r: SelfTimeResult): Record<string, number> {
  return Object.fromEntries(spans.map((s) => [s.name, r.selfTimes[s.spanId]! / 1e6]));
}
const inMs = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v / 1e6]));
const bottlenecks = (spans: Span[], r: SelfTimeResult) => {
  const names = new Map(spans.map((s) => [s.spanId, s.name]));
  return r.bottlenecks.map((b) => [names.get(b.spanId), b.selfTimeNanos / 1e6, b.percentage]);
};

test('the header example: overlapping children count once, an outliving one is clipped', () => {
  const spans = mkTrace([
    { id: 'span', service: 's', start: 0, end: 30 },
    { id: 'a', parent: 'span', service: 's', start: 3, end: 10 },
    { id: 'b', parent: 'span', service: 's', start: 8, end: 17 },
    { id: 'c', parent: 'span', service: 's', start: 28, end: 35 },
  ]);
  assert.equal(selfTimes(spans).selfTimes[idOf('span')], ms(14));
});

test('fan-out: self times, bottlenecks, breakdown and the wall-time split', () => {
  const spans = fanOut();
  const r = selfTimes(spans);
  assert.deepEqual(byName(spans, r), { root: 40, a: 30, b: 60, c: 35 });
  assert.deepEqual(bottlenecks(spans, r), [
    ['b', 60, 60],
    ['root', 40, 40],
    ['c', 35, 35],
    ['a', 30, 30],
  ]);
  assert.deepEqual(inMs(r.serviceBreakdown), { gateway: 40, users: 30, orders: 60, inventory: 35 });
  // 10..40 is shared three ways, 40..45 two ways: parallel work counts once in wall time.
  assert.deepEqual(inMs(r.wallTime), { gateway: 40, inventory: 12.5, orders: 37.5, users: 10 });
  assert.equal(r.totalDurationNanos, ms(100));
  assert.equal(r.coveredTimeNanos, ms(100));
});

test('sequential: the breakdown sums to the trace; exactly 10% is not a bottleneck', () => {
  const spans = sequential();
  const r = selfTimes(spans);
  assert.deepEqual(byName(spans, r), { 'GET /checkout': 18, auth: 22, load: 20, query: 30, get: 10 });
  assert.deepEqual(bottlenecks(spans, r), [
    ['query', 30, 30],
    ['auth', 22, 22],
    ['load', 20, 20],
    ['GET /checkout', 18, 18],
  ]);
  assert.deepEqual(inMs(r.serviceBreakdown), { api: 18, auth: 22, data: 20, database: 30, cache: 10 });
  assert.deepEqual(r.wallTime, Object.fromEntries(Object.entries(r.serviceBreakdown).sort()));
  assert.equal(sum(r.serviceBreakdown), r.coveredTimeNanos);
});

test('a child outliving its parent keeps its full self time and stretches the trace', () => {
  const spans = outliving();
  const r = selfTimes(spans);
  assert.deepEqual(byName(spans, r), { root: 40, a: 20, flush: 90 });
  assert.equal(r.totalDurationNanos, ms(150));
  assert.deepEqual(bottlenecks(spans, r), [
    ['flush', 90, 60],
    ['root', 40, 26.67],
    ['a', 20, 13.33],
  ]);
  assert.deepEqual(inMs(r.serviceBreakdown), { api: 150 });
});

test('async work after the request: gaps are not covered time', () => {
  const spans = asyncTrace();
  const r = selfTimes(spans);
  assert.deepEqual(byName(spans, r), { root: 40, publish: 10, consume: 50, audit: 30 });
  assert.equal(r.totalDurationNanos, ms(130));
  assert.equal(r.coveredTimeNanos, ms(120)); // nothing runs 50..60
  assert.deepEqual(inMs(r.serviceBreakdown), { web: 50, worker: 50, audit: 30 });
  assert.deepEqual(inMs(r.wallTime), { audit: 25, web: 50, worker: 45 });
  assert.deepEqual(bottlenecks(spans, r), [
    ['consume', 50, 38.46],
    ['root', 40, 30.77],
    ['audit', 30, 23.08],
  ]);
});

test('the threshold is an option', () => {
  assert.equal(selfTimes(sequential(), { threshold: 0.25 }).bottlenecks.length, 1);
});

test('empty trace', () => {
  assert.deepEqual(selfTimes([]), {
    selfTimes: {},
    bottlenecks: [],
    serviceBreakdown: {},
    wallTime: {},
    totalDurationNanos: 0,
    coveredTimeNanos: 0,
  });
});

// Brute force: per span, paint a unit grid (times are small integers of ms).
function bruteForce(spans: Span[]) {
  const t = (x: bigint) => Number(x - spans.reduce((m, s) => (s.startTimeUnixNano < m ? s.startTimeUnixNano : m), spans[0]!.startTimeUnixNano)) / 1e6;
  const self: Record<string, number> = {};
  const covered = new Set<number>();
  for (const s of spans) {
    const a = t(s.startTimeUnixNano);
    const b = Math.max(a, t(s.endTimeUnixNano));
    const busy = new Set<number>();
    for (const c of spans) {
      if (c.parentSpanId !== s.spanId || c === s) continue;
      for (let u = t(c.startTimeUnixNano); u < t(c.endTimeUnixNano); u++) if (u >= a && u < b) busy.add(u);
    }
    for (let u = a; u < b; u++) covered.add(u);
    self[s.spanId] = ms(b - a - busy.size);
  }
  return { self, covered: ms(covered.size) };
}

test('property: self times and covered time match a brute-force painting; wall time sums to covered', () => {
  const trace = fc
    .array(fc.record({ parent: fc.nat(), start: fc.integer({ min: -10, max: 60 }), len: fc.integer({ min: 0, max: 40 }), svc: fc.integer({ min: 0, max: 3 }) }), { maxLength: 20 })
    .map((nodes) =>
      mkTrace([
        { id: 'n0', service: 's0', start: 0, end: 50 },
        ...nodes.map((n, i) => ({ id: `n${i + 1}`, parent: `n${n.parent % (i + 1)}`, service: `s${n.svc}`, start: n.start, end: n.start + n.len })),
      ]),
    );
  fc.assert(
    fc.property(trace, (spans) => {
      const r = selfTimes(spans);
      const bf = bruteForce(spans);
      assert.deepEqual(r.selfTimes, bf.self);
      assert.equal(r.coveredTimeNanos, bf.covered);
      assert.equal(sum(r.wallTime), r.coveredTimeNanos);
      assert.equal(sum(r.serviceBreakdown), sum(r.selfTimes));
    }),
    { numRuns: 300 },
  );
});

test('10k spans: self times match a per-span union, wall time sums to covered time', () => {
  const spans = generateTrace(10_000, 7);
  const r = selfTimes(spans);
  const kids = new Map<string, Span[]>();
  for (const s of spans) kids.set(s.parentSpanId, [...(kids.get(s.parentSpanId) ?? []), s]);
  for (const s of spans) {
    const iv = (kids.get(s.spanId) ?? [])
      .map((c) => [c.startTimeUnixNano > s.startTimeUnixNano ? c.startTimeUnixNano : s.startTimeUnixNano, c.endTimeUnixNano < s.endTimeUnixNano ? c.endTimeUnixNano : s.endTimeUnixNano] as const)
      .filter(([a, b]) => b > a)
      .sort((x, y) => (x[0] < y[0] ? -1 : 1));
    let busy = 0n;
    let cur = s.startTimeUnixNano;
    for (const [a, b] of iv) {
      const from = a > cur ? a : cur;
      if (b > from) busy += b - from;
      if (b > cur) cur = b;
    }
    assert.equal(r.selfTimes[s.spanId], Number(s.endTimeUnixNano - s.startTimeUnixNano - busy));
  }
  assert.equal(sum(r.wallTime), r.coveredTimeNanos);
});

function sum(o: Record<string, number>): number {
  return Object.values(o).reduce((a, b) => a + b, 0);
}
