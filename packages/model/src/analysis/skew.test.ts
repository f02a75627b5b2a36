/// <reference types="node" />
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind } from '../span.js';
import { adjustClockSkew } from './skew.js';
import { at, idOf, mkTrace, ms, skewedTrace } from './fixtures.js';

test('a server span starting before its client call is centred in it, with its same-clock subtree', () => {
  const input = skewedTrace();
  const before = structuredClone(input);
  const { spans, skewAdjustments } = adjustClockSkew(input);
  assert.deepEqual(skewAdjustments, [
    { spanId: idOf('server'), service: 'backend', deltaNanos: ms(40), reason: 'starts-before-parent', shiftedSpans: 2 },
  ]);
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const times = (id: string) => [byId.get(idOf(id))!.startTimeUnixNano, byId.get(idOf(id))!.endTimeUnixNano];
  assert.deepEqual(times('server'), [at(20), at(80)]); // 10ms of latency each way
  assert.deepEqual(times('query'), [at(30), at(70)]);
  assert.deepEqual(times('pg'), [at(31), at(69)]);
  assert.equal(byId.get(idOf('server'))!.events[0]!.timeUnixNano, at(25));
  // Pure: the input is untouched, unchanged spans are passed through.
  assert.deepEqual(input, before);
  assert.equal(byId.get(idOf('pg')), input[4]);
});

test('a child ending after its parent is pulled back in', () => {
  const { spans, skewAdjustments } = adjustClockSkew(
    mkTrace([
      { id: 'call', service: 'a', start: 0, end: 50, kind: SpanKind.CLIENT },
      { id: 'srv', parent: 'call', service: 'b', start: 30, end: 70, kind: SpanKind.SERVER },
    ]),
  );
  assert.deepEqual(
    skewAdjustments.map((a) => [a.reason, a.deltaNanos]),
    [['ends-after-parent', ms(5) - ms(30)]],
  );
  assert.equal(spans[1]!.startTimeUnixNano, at(5));
  assert.equal(spans[1]!.endTimeUnixNano, at(45));
});

test('never adjusts within one service, nor between services on one declared host', () => {
  const { skewAdjustments } = adjustClockSkew(
    mkTrace([
      { id: 'p', service: 'a', start: 0, end: 50 },
      { id: 'early', parent: 'p', service: 'a', start: -10, end: 20 },
      { id: 'p2', parent: 'p', service: 'b', start: 0, end: 40, resource: { 'host.name': 'h1' } },
      { id: 'c2', parent: 'p2', service: 'c', start: -5, end: 10, resource: { 'host.name': 'h1' } },
    ]),
  );
  assert.deepEqual(skewAdjustments, []);
});

test('a child longer than its parent only stops starting before it; async children keep their own time', () => {
  const { spans, skewAdjustments } = adjustClockSkew(
    mkTrace([
      { id: 'p', service: 'a', start: 0, end: 50, kind: SpanKind.CLIENT },
      { id: 'long', parent: 'p', service: 'b', start: -10, end: 90 },
      { id: 'late', parent: 'p', service: 'c', start: 20, end: 120 },
      { id: 'pub', parent: 'p', service: 'a', start: 5, end: 6, kind: SpanKind.PRODUCER },
      { id: 'consume', parent: 'pub', service: 'd', start: 200, end: 210, kind: SpanKind.CONSUMER },
      { id: 'early-consume', parent: 'pub', service: 'e', start: 1, end: 2, kind: SpanKind.CONSUMER },
      { id: 'ff', parent: 'p', service: 'f', start: 45, end: 55, followsFrom: true },
    ]),
  );
  assert.deepEqual(
    skewAdjustments.map((a) => [a.spanId, a.reason, a.deltaNanos]),
    [
      [idOf('long'), 'longer-than-parent', ms(10)],
      [idOf('early-consume'), 'async-starts-before-parent', ms(4)],
    ],
  );
  assert.equal(spans.find((s) => s.spanId === idOf('consume'))!.startTimeUnixNano, at(200));
  assert.equal(spans.find((s) => s.spanId === idOf('ff'))!.endTimeUnixNano, at(55));
});

test('skew is measured against the parent as adjusted, hop by hop', () => {
  // b is 100ms behind a; c is 100ms behind b's raw clock (so 200ms behind a).
  const { spans, skewAdjustments } = adjustClockSkew(
    mkTrace([
      { id: 'a', service: 'a', start: 0, end: 100, kind: SpanKind.CLIENT },
      { id: 'b', parent: 'a', service: 'b', start: -90, end: -10 },
      { id: 'c', parent: 'b', service: 'c', start: -180, end: -120 },
    ]),
  );
  assert.deepEqual(
    skewAdjustments.map((a) => [a.spanId, a.deltaNanos]),
    [
      [idOf('b'), ms(100)],
      [idOf('c'), ms(200)],
    ],
  );
  assert.deepEqual([spans[2]!.startTimeUnixNano, spans[2]!.endTimeUnixNano], [at(20), at(80)]);
});
