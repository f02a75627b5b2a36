/// <reference types="node" />
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Span } from '../span.js';
import { SpanKind } from '../span.js';
import { criticalPath } from './critical-path.js';
import { T0, at, idOf, mkSpan, mkTrace, outliving, sequential } from './fixtures.js';
import type { SpanSpec } from './fixtures.js';

/** The path as [name, startMs, endMs] triples. */
function path(spans: Span[]): [string, number, number][] {
  const names = new Map(spans.map((s) => [s.spanId, s.name]));
  return criticalPath(spans).map((s) => [
    names.get(s.spanId)!,
    Number(s.startTimeUnixNano - T0) / 1e6,
    Number(s.endTimeUnixNano - T0) / 1e6,
  ]);
}

test('fan-out: the parallel child that finishes last carries the path', () => {
  const spans = mkTrace([
    { id: 'root', service: 'gateway', start: 0, end: 100 },
    { id: 'a', parent: 'root', service: 'users', start: 10, end: 40 },
    { id: 'b', parent: 'root', service: 'orders', start: 10, end: 70 },
    { id: 'c', parent: 'root', service: 'inventory', start: 10, end: 45 },
  ]);
  assert.deepEqual(path(spans), [
    ['root', 0, 10],
    ['b', 10, 70],
    ['root', 70, 100],
  ]);
});

test('the header diagram', () => {
  const spans = mkTrace([
    { id: 'root', service: 's', start: 0, end: 50 },
    { id: 'A', parent: 'root', service: 's', start: 2, end: 8 },
    { id: 'B', parent: 'root', service: 's', start: 2, end: 17 },
    { id: 'C', parent: 'root', service: 's', start: 19, end: 34 },
    { id: 'C.1', parent: 'C', service: 's', start: 21, end: 28 },
  ]);
  assert.deepEqual(path(spans), [
    ['root', 0, 2],
    ['B', 2, 17],
    ['root', 17, 19],
    ['C', 19, 21],
    ['C.1', 21, 28],
    ['C', 28, 34],
    ['root', 34, 50],
  ]);
});

test('sequential children are all on the path, nested ones too', () => {
  assert.deepEqual(path(sequential()), [
    ['GET /checkout', 0, 5],
    ['auth', 5, 27],
    ['GET /checkout', 27, 30],
    ['load', 30, 40],
    ['query', 40, 70],
    ['load', 70, 80],
    ['GET /checkout', 80, 85],
    ['get', 85, 95],
    ['GET /checkout', 95, 100],
  ]);
});

test('back-to-back children meet exactly (a child ending at the next one\'s start is not skipped)', () => {
  const spans = mkTrace([
    { id: 'root', service: 's', start: 0, end: 30 },
    { id: 'a', parent: 'root', service: 's', start: 0, end: 10 },
    { id: 'b', parent: 'root', service: 's', start: 10, end: 20 },
    { id: 'z', parent: 'root', service: 's', start: 20, end: 20 },
    { id: 'c', parent: 'root', service: 's', start: 20, end: 30 },
  ]);
  assert.deepEqual(path(spans), [
    ['a', 0, 10],
    ['b', 10, 20],
    ['c', 20, 30],
  ]);
});

test('async children (consumer, follows-from) are not waited for; a child after its parent is dropped', () => {
  const spans = mkTrace([
    { id: 'root', service: 'web', start: 0, end: 50, kind: SpanKind.SERVER },
    { id: 'publish', parent: 'root', service: 'web', start: 10, end: 20, kind: SpanKind.PRODUCER },
    { id: 'consume', parent: 'publish', service: 'worker', start: 80, end: 130, kind: SpanKind.CONSUMER },
    { id: 'audit', parent: 'root', service: 'audit', start: 30, end: 45, followsFrom: true },
    { id: 'after', parent: 'root', service: 'web', start: 60, end: 70 },
  ]);
  assert.deepEqual(path(spans), [
    ['root', 0, 10],
    ['publish', 10, 20],
    ['root', 20, 50],
  ]);
});

test('a child outliving its parent counts only up to the parent\'s end', () => {
  assert.deepEqual(path(outliving()), [
    ['root', 0, 10],
    ['a', 10, 30],
    ['root', 30, 60],
    ['flush', 60, 100],
  ]);
});

test('a child starting before its parent is clipped to the parent\'s start', () => {
  const spans = mkTrace([
    { id: 'root', service: 's', start: 0, end: 100 },
    { id: 'early', parent: 'root', service: 's', start: -20, end: 30 },
  ]);
  assert.deepEqual(path(spans), [
    ['early', 0, 30],
    ['root', 30, 100],
  ]);
});

test('several roots hang under a virtual root: its time is a gap', () => {
  const spans = mkTrace([
    { id: 'r1', rawParent: idOf('missing'), service: 's', start: 0, end: 20 },
    { id: 'r2', rawParent: idOf('missing'), service: 's', start: 10, end: 50 },
    { id: 'r3', rawParent: idOf('gone'), service: 's', start: 60, end: 90 },
  ]);
  assert.deepEqual(path(spans), [
    ['r2', 10, 50],
    ['r3', 60, 90],
  ]);
});

test('a parent cycle neither hangs nor loses spans', () => {
  const spans = mkTrace([
    { id: 'a', parent: 'b', service: 's', start: 0, end: 10 },
    { id: 'b', parent: 'a', service: 's', start: 2, end: 8 },
  ]);
  assert.deepEqual(path(spans), [
    ['a', 0, 2],
    ['b', 2, 8],
    ['a', 8, 10],
  ]);
});

test('empty and single-span traces', () => {
  assert.deepEqual(criticalPath([]), []);
  assert.deepEqual(path(mkTrace([{ id: 'only', service: 's', start: 0, end: 5 }])), [['only', 0, 5]]);
});

test('a 10k-deep chain: no stack overflow, exact segments', () => {
  const N = 10_000;
  const spans: Span[] = [];
  for (let i = 0; i < N; i++) {
    const s = mkSpan({ id: `s${i}`, parent: i ? `s${i - 1}` : undefined, service: 's', start: 0, end: 0 });
    spans.push({ ...s, startTimeUnixNano: T0 + BigInt(i), endTimeUnixNano: T0 + BigInt(2 * N - i) });
  }
  const cp = criticalPath(spans);
  assert.equal(cp.length, 2 * N - 1);
  assert.deepEqual(cp[0], { spanId: idOf('s0'), service: 's', operation: 's0', startTimeUnixNano: T0, endTimeUnixNano: T0 + 1n });
  assert.deepEqual([cp[N - 1]!.spanId, cp[N - 1]!.startTimeUnixNano - T0, cp[N - 1]!.endTimeUnixNano - T0], [idOf(`s${N - 1}`), BigInt(N - 1), BigInt(N + 1)]);
  assertPartition(cp, T0, T0 + BigInt(2 * N));
});

function assertPartition(cp: { startTimeUnixNano: bigint; endTimeUnixNano: bigint }[], from: bigint, to: bigint) {
  assert.equal(cp[0]!.startTimeUnixNano, from);
  assert.equal(cp[cp.length - 1]!.endTimeUnixNano, to);
  for (let i = 1; i < cp.length; i++) assert.equal(cp[i]!.startTimeUnixNano, cp[i - 1]!.endTimeUnixNano);
}

// A plain recursive rendering of the same rule, for small random trees.
function referencePath(spans: Span[]): [string, bigint, bigint][] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const kids = new Map<string, Span[]>();
  for (const s of spans) if (s.parentSpanId) kids.set(s.parentSpanId, [...(kids.get(s.parentSpanId) ?? []), s]);
  const root = spans.find((s) => !byId.has(s.parentSpanId))!;
  const clipped = new Map<string, [bigint, bigint]>();
  const clip = (s: Span, lo: bigint, hi: bigint) => {
    const a = s.startTimeUnixNano > lo ? s.startTimeUnixNano : lo;
    const b0 = s.endTimeUnixNano < s.startTimeUnixNano ? s.startTimeUnixNano : s.endTimeUnixNano;
    const b = b0 < hi ? b0 : hi;
    if (b <= a) return;
    clipped.set(s.spanId, [a, b]);
    for (const c of kids.get(s.spanId) ?? []) if (c.kind !== SpanKind.CONSUMER) clip(c, a, b);
  };
  clip(root, root.startTimeUnixNano, root.endTimeUnixNano > root.startTimeUnixNano ? root.endTimeUnixNano : root.startTimeUnixNano);
  const out: [string, bigint, bigint][] = [];
  const walk = (s: Span, t: bigint) => {
    const [cs] = clipped.get(s.spanId)!;
    const order = (kids.get(s.spanId) ?? [])
      .filter((c) => clipped.has(c.spanId))
      .sort((x, y) => {
        const [xs, xe] = clipped.get(x.spanId)!;
        const [ys, ye] = clipped.get(y.spanId)!;
        return ye > xe ? 1 : ye < xe ? -1 : xs < ys ? -1 : xs > ys ? 1 : spans.indexOf(x) - spans.indexOf(y);
      });
    for (const c of order) {
      const [ccs, cce] = clipped.get(c.spanId)!;
      if (cce > t) continue;
      if (cce < t) out.push([s.spanId, cce, t]);
      walk(c, cce);
      t = ccs;
    }
    if (cs < t) out.push([s.spanId, cs, t]);
  };
  walk(root, clipped.get(root.spanId)![1]);
  // Merge neighbours of one span (a zero-length child splits nothing).
  const merged: [string, bigint, bigint][] = [];
  for (const seg of out) {
    const last = merged[merged.length - 1];
    if (last && last[0] === seg[0] && last[1] === seg[2]) last[1] = seg[1];
    else merged.push([...seg]);
  }
  return merged.reverse();
}

test('property: matches the recursive reference and partitions the root', () => {
  const tree = fc
    .array(fc.record({ parent: fc.nat(), start: fc.integer({ min: -20, max: 120 }), len: fc.integer({ min: 0, max: 80 }), consumer: fc.boolean() }), { maxLength: 25 })
    .map((nodes) => {
      const specs: SpanSpec[] = [{ id: 'n0', service: 's', start: 0, end: 100 }];
      nodes.forEach((n, i) =>
        specs.push({
          id: `n${i + 1}`,
          parent: `n${n.parent % (i + 1)}`,
          service: 's',
          start: n.start,
          end: n.start + n.len,
          kind: n.consumer && i % 3 === 0 ? SpanKind.CONSUMER : SpanKind.INTERNAL,
        }),
      );
      return mkTrace(specs);
    });
  fc.assert(
    fc.property(tree, (spans) => {
      const got = criticalPath(spans).map((s): [string, bigint, bigint] => [s.spanId, s.startTimeUnixNano, s.endTimeUnixNano]);
      assert.deepEqual(got, referencePath(spans));
      assertPartition(criticalPath(spans), at(0), at(100));
    }),
    { numRuns: 300 },
  );
});
