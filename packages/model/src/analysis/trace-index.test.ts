/// <reference types="node" />
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind } from '../span.js';
import type { Span } from '../span.js';
import { buildIndex, spanRecord } from './trace-index.js';
import { analyzeTrace } from './analyze.js';
import { at, idOf, mkTrace, ms } from './fixtures.js';

/** A span with its id and parent id written out as given. */
const withIds = (s: Span, spanId: string, parentSpanId = ''): Span => ({ ...s, spanId, parentSpanId });

test('of duplicate span ids the first wins, in the tree and in the selfTimes record', () => {
  const [root, a, b, dup] = mkTrace([
    { id: 'root', service: 'api', start: 0, end: 100 },
    { id: 'a', parent: 'root', service: 'api', start: 10, end: 40 },
    { id: 'b', parent: 'a', service: 'db', start: 20, end: 30 },
    { id: 'a', parent: 'root', service: 'api', start: 50, end: 90 }, // same id as a
  ]);
  const ix = buildIndex([root!, a!, b!, dup!]);
  assert.equal(ix.n, 3);
  assert.deepEqual([...ix.parent], [-1, 0, 1]);
  const { selfTimes } = analyzeTrace([root!, a!, b!, dup!]);
  assert.deepEqual(Object.keys(selfTimes), [idOf('root'), idOf('a'), idOf('b')]);
  assert.equal(selfTimes[idOf('a')], ms(20));
});

test('span ids named like Object.prototype members are ordinary ids', () => {
  const [root, a, b, c] = mkTrace([
    { id: 'root', service: 'api', start: 0, end: 100 },
    { id: 'a', service: 'api', start: 10, end: 40 },
    { id: 'b', service: 'api', start: 20, end: 30 },
    { id: 'c', service: 'api', start: 50, end: 60 },
  ]);
  for (const rootId of ['root', '__proto__']) {
    const spans = [
      withIds(root!, rootId),
      withIds(a!, 'constructor', rootId),
      withIds(b!, 'b', 'constructor'),
      withIds(c!, 'c', 'toString'), // no span has this id: c is a root
    ];
    assert.deepEqual([...buildIndex(spans).parent], [-1, 0, 1, -1], rootId);
    const { selfTimes } = analyzeTrace(spans);
    assert.ok(Object.hasOwn(selfTimes, 'constructor'), rootId);
    assert.equal(selfTimes['constructor'], ms(20), rootId);
    assert.ok(!Object.hasOwn(selfTimes, 'toString'), rootId);
  }
});

test('times are exact offsets from the earliest start, which need not come first', () => {
  const [late, early] = mkTrace([
    { id: 'late', service: 'api', start: 5, end: 4 }, // ends before it starts: lasts 0
    { id: 'early', service: 'api', start: -3, end: 7 },
  ]);
  const odd = { ...early!, startTimeUnixNano: early!.startTimeUnixNano + 1n }; // 1 ns off a millisecond
  const ix = buildIndex([late!, odd]);
  assert.equal(ix.base, at(-3) + 1n);
  assert.deepEqual([...ix.start], [ms(8) - 1, 0]);
  assert.deepEqual([...ix.end], [ms(8) - 1, ms(10) - 1]);
});

test('async children: consumers, children of producers, follows-from links', () => {
  const ix = buildIndex(
    mkTrace([
      { id: 'root', service: 'web', start: 0, end: 50 },
      { id: 'pub', parent: 'root', service: 'web', start: 1, end: 2, kind: SpanKind.PRODUCER },
      { id: 'after-pub', parent: 'pub', service: 'worker', start: 3, end: 4 },
      { id: 'consume', parent: 'root', service: 'worker', start: 5, end: 6, kind: SpanKind.CONSUMER },
      { id: 'follows', parent: 'root', service: 'worker', start: 7, end: 8, followsFrom: true },
      { id: 'sync', parent: 'root', service: 'db', start: 9, end: 10, kind: SpanKind.SERVER },
    ]),
  );
  assert.deepEqual([...ix.async], [0, 0, 1, 1, 1, 0]);
});

test('spanRecord hands on the id lookup once, then builds fresh records with the same keys', () => {
  const ix = buildIndex(
    mkTrace([
      { id: 'root', service: 'api', start: 0, end: 10 },
      { id: 'x', parent: 'root', service: 'api', start: 1, end: 2 },
    ]),
  );
  const first = spanRecord(ix);
  const second = spanRecord(ix);
  assert.notEqual(first, second);
  assert.deepEqual(first, { [idOf('root')]: 0, [idOf('x')]: 1 });
  assert.deepEqual(second, first);
});
