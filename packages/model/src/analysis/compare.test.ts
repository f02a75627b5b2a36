/// <reference types="node" />
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Span } from '../span.js';
import { changePath, compareTraces } from './compare.js';
import { T0, idOf, mkSpan, mkTrace, ms } from './fixtures.js';

const baseline = () =>
  mkTrace([
    { id: 'front', name: 'GET', service: 'front', start: 0, end: 100 },
    { id: 'cart', name: 'get', parent: 'front', service: 'cart', start: 10, end: 40 },
    { id: 'q', name: 'query', parent: 'cart', service: 'db', start: 15, end: 35 },
    { id: 'pay', name: 'charge', parent: 'front', service: 'pay', start: 50, end: 90 },
  ]);
const current = () =>
  mkTrace([
    { id: 'front2', name: 'GET', service: 'front', start: 0, end: 120 },
    { id: 'cart2', name: 'get', parent: 'front2', service: 'cart', start: 10, end: 80 },
    { id: 'q2', name: 'query', parent: 'cart2', service: 'db', start: 15, end: 75 },
    { id: 'q3', name: 'query', parent: 'cart2', service: 'db', start: 76, end: 79 },
  ]);

test('added, removed and slower spans, matched by path, with deltas and a summary', () => {
  const c = compareTraces(baseline(), current());
  assert.deepEqual(
    c.changes.map((x) => [x.kind, `${x.service}:${x.operation}`, x.depth, x.parentIndex, x.deltaNanos / 1e6]),
    [
      ['slower', 'front:GET', 0, -1, 20],
      ['slower', 'cart:get', 1, 0, 40],
      ['slower', 'db:query', 2, 1, 40],
      ['added', 'db:query', 2, 1, 3],
      ['removed', 'pay:charge', 1, 0, -40],
    ],
  );
  assert.deepEqual(c.changes[2]!.a, { spanId: idOf('q'), durationNanos: ms(20) });
  assert.deepEqual(c.changes[2]!.b, { spanId: idOf('q2'), durationNanos: ms(60) });
  assert.equal(c.changes[3]!.a, undefined);
  assert.deepEqual(c.summary, { added: 1, removed: 1, slower: 3, faster: 0, same: 0, durationANanos: ms(100), durationBNanos: ms(120), deltaNanos: ms(20) });
  assert.deepEqual(changePath(c, 3), ['front:GET', 'cart:get', 'db:query']);
});

test('the tolerance decides same versus faster', () => {
  const c = compareTraces(current(), baseline(), { tolerance: 0.25 });
  assert.deepEqual(
    c.changes.map((x) => x.kind),
    ['same', 'faster', 'faster', 'removed', 'added'],
  );
  const strict = compareTraces(baseline(), baseline(), { tolerance: 0 });
  assert.ok(strict.changes.every((x) => x.kind === 'same' && x.deltaNanos === 0));
  const loose = compareTraces(baseline(), current(), { minDeltaNanos: ms(40) });
  assert.deepEqual(loose.changes.map((x) => x.kind), ['same', 'same', 'same', 'added', 'removed']);
});

test('repeated siblings pair up in start order; a removed subtree is removed whole', () => {
  const a = mkTrace([
    { id: 'r', service: 's', start: 0, end: 100 },
    { id: 'x1', name: 'x', parent: 'r', service: 's', start: 10, end: 20 },
    { id: 'x2', name: 'x', parent: 'r', service: 's', start: 30, end: 40 },
    { id: 'x2c', name: 'inner', parent: 'x2', service: 't', start: 31, end: 39 },
  ]);
  const b = mkTrace([
    { id: 'r', service: 's', start: 0, end: 100 },
    { id: 'y1', name: 'x', parent: 'r', service: 's', start: 10, end: 20 },
  ]);
  const c = compareTraces(a, b);
  assert.deepEqual(
    c.changes.map((x) => [x.kind, x.operation, x.a?.spanId, x.b?.spanId]),
    [
      ['same', 'r', idOf('r'), idOf('r')],
      ['same', 'x', idOf('x1'), idOf('y1')],
      ['removed', 'x', idOf('x2'), undefined],
      ['removed', 'inner', idOf('x2c'), undefined],
    ],
  );
});

test('deep chains compare without recursion', () => {
  const chain = (n: number, stretch: number): Span[] =>
    Array.from({ length: n }, (_, i) => ({
      ...mkSpan({ id: `c${i}`, parent: i ? `c${i - 1}` : undefined, service: 's', start: 0, end: 0 }),
      startTimeUnixNano: T0 + BigInt(i),
      endTimeUnixNano: T0 + BigInt(2 * n - i + (i === n - 1 ? stretch : 0)),
    }));
  const c = compareTraces(chain(10_000, 0), chain(10_000, 100));
  assert.equal(c.changes.length, 10_000);
  assert.equal(c.summary.slower, 1);
  assert.equal(c.changes[9_999]!.depth, 9_999);
});

test('empty traces', () => {
  const c = compareTraces([], baseline());
  assert.equal(c.summary.added, 4);
  assert.equal(c.summary.durationANanos, 0);
});
