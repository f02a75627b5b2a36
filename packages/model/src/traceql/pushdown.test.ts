/// <reference types="node" />
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Span } from '../span.js';
import type { TraceQuery } from '../query.js';
import { spanDurationNanos } from '../span.js';
import { attributeText } from '../attributes.js';
import { parseTraceQL } from './parser.js';
import { formatTraceQL } from './format.js';
import { evaluateTraceQL } from './evaluate.js';
import { traceQLPushdown } from './pushdown.js';
import { smallQuery, smallTrace } from './fixtures.js';

const pushdown = (q: string) => traceQLPushdown(parseTraceQL(q));

/** TraceQuery's contract (query.ts): every condition on one span; attributes by text, on the span or its resource. */
function spanMatches(s: Span, q: TraceQuery): boolean {
  if (q.service !== undefined && s.service !== q.service) return false;
  if (q.operation !== undefined && s.name !== q.operation) return false;
  if (q.status !== undefined && ['unset', 'ok', 'error'][s.status.code] !== q.status) return false;
  const d = spanDurationNanos(s);
  if (q.minDurationNanos !== undefined && d < BigInt(Math.ceil(q.minDurationNanos))) return false;
  if (q.maxDurationNanos !== undefined && d > BigInt(Math.floor(q.maxDurationNanos))) return false;
  for (const { key, value } of q.attributes ?? []) {
    const has = (kvs: Span['attributes']) => kvs.some((kv) => kv.key === key && attributeText(kv.value) === value);
    if (!has(s.attributes) && !has(s.resource.attributes)) return false;
  }
  return true;
}

describe('traceQLPushdown', () => {
  // plain numbers for the Nanos bounds
  const table: [string, { alternatives: Record<string, unknown>[]; covers: boolean }][] = [
    ['{ }', { alternatives: [{}], covers: true }],
    ['{ false }', { alternatives: [], covers: true }],
    [
      '{ resource.service.name = "frontend" && span.http.status_code = 500 && duration > 100ms }',
      { alternatives: [{ service: 'frontend', attributes: [{ key: 'http.status_code', value: '500' }], minDurationNanos: 100_000_001 }], covers: true },
    ],
    ['{ name = "GET /" && status = error }', { alternatives: [{ operation: 'GET /', status: 'error' }], covers: true }],
    ['{ .service.name = "x" }', { alternatives: [{ attributes: [{ key: 'service.name', value: 'x' }] }], covers: true }],
    ['{ span.service.name = "x" }', { alternatives: [{ attributes: [{ key: 'service.name', value: 'x' }] }], covers: true }],
    ['{ resource.host = "n1" && .flag && .ratio = 0.5 && .n = -3 }', { alternatives: [{ attributes: [{ key: 'host', value: 'n1' }, { key: 'flag', value: 'true' }, { key: 'ratio', value: '0.5' }, { key: 'n', value: '-3' }] }], covers: true }],
    ['{ .n = 500.0 }', { alternatives: [{ attributes: [{ key: 'n', value: '500' }] }], covers: true }],
    ['{ .n = 9007199254740993 }', { alternatives: [{}], covers: true }], // beyond 2^53: a double equal to it prints otherwise
    ['{ .n = 1e300 }', { alternatives: [{}], covers: true }],
    ['{ duration >= 1ms && duration < 2ms }', { alternatives: [{ minDurationNanos: 1_000_000, maxDurationNanos: 1_999_999 }], covers: true }],
    ['{ duration > 1.5 && duration <= 3.5 }', { alternatives: [{ minDurationNanos: 2, maxDurationNanos: 3 }], covers: true }],
    ['{ duration = 5ms }', { alternatives: [{ minDurationNanos: 5_000_000, maxDurationNanos: 5_000_000 }], covers: true }],
    ['{ duration = 2.5 }', { alternatives: [], covers: true }],
    ['{ duration < 0 }', { alternatives: [], covers: true }],
    ['{ duration >= 0 }', { alternatives: [{}], covers: true }],
    ['{ duration > 2ms && duration < 1ms }', { alternatives: [], covers: true }],
    ['{ duration > 200d }', { alternatives: [{}], covers: true }],
    ['{ name = "a" && name = "b" }', { alternatives: [], covers: true }],
    ['{ name = "a" || name = "b" }', { alternatives: [{ operation: 'a' }, { operation: 'b' }], covers: true }],
    ['{ (name = "a" || name = "b") && status = error }', { alternatives: [{ operation: 'a', status: 'error' }, { operation: 'b', status: 'error' }], covers: true }],
    ['{ name = "a" || kind = server }', { alternatives: [{}], covers: true }],
    // nothing that can be negated, pattern-matched, or is not a span column
    ['{ name != "a" && .x != 1 && .y =~ "a.*" && kind = server && statusMessage = "m" && rootName = "r" && traceDuration > 1s && .z > 1 }', { alternatives: [{}], covers: true }],
    ['{ !(name = "a") }', { alternatives: [{}], covers: true }],
    ['{ .x = nil }', { alternatives: [{}], covers: true }],
    ['{ resource.service.name = 5 }', { alternatives: [{}], covers: true }],
    // between spansets
    ['{ name = "a" } || { status = error }', { alternatives: [{ operation: 'a' }, { status: 'error' }], covers: true }],
    ['{ name = "a" } || { }', { alternatives: [{}], covers: true }],
    ['{ resource.service.name = "fe" } && { status = error && .code = 500 }', { alternatives: [{ status: 'error', attributes: [{ key: 'code', value: '500' }] }], covers: false }],
    ['{ status = error && .code = 500 } && { resource.service.name = "fe" }', { alternatives: [{ status: 'error', attributes: [{ key: 'code', value: '500' }] }], covers: false }],
    ['{ name = "a" } && { false }', { alternatives: [], covers: true }],
    ['{ resource.service.name = "fe" } >> { name = "b" }', { alternatives: [{ operation: 'b' }], covers: true }],
    ['{ name = "b" && .code = 1 } > { resource.service.name = "fe" }', { alternatives: [{ operation: 'b', attributes: [{ key: 'code', value: '1' }] }], covers: false }],
    ['{ name = "a" } | count() > 2 | select(.x)', { alternatives: [{ operation: 'a' }], covers: true }],
  ];
  for (const [q, want] of table) it(q, () => assert.deepEqual(pushdown(q), want));

  it('gives up past MAX_ALTERNATIVES instead of multiplying searches', () => {
    const q = '{ (name = "a" || name = "b" || name = "c") && (.k = "1" || .k = "2" || .k = "3") }';
    assert.deepEqual(pushdown(q).alternatives, [{ operation: 'a' }, { operation: 'b' }, { operation: 'c' }]);
    const many = `{ ${Array.from({ length: 9 }, (_, i) => `name = "n${i}"`).join(' || ')} }`;
    assert.deepEqual(pushdown(many).alternatives, [{}]);
  });

  it('never excludes a matching trace, and covers every selected span when it says so (generated traces and queries)', () => {
    fc.assert(
      fc.property(smallTrace, smallQuery, (trace, root) => {
        const query = { source: formatTraceQL(root), root };
        const selected = evaluateTraceQL(query, trace);
        const { alternatives, covers } = traceQLPushdown(query);
        if (!selected.length) return;
        assert.ok(
          trace.some((s) => alternatives.some((a) => spanMatches(s, a))),
          `${query.source} matches but no span matches ${JSON.stringify(alternatives)}`,
        );
        if (covers) {
          for (const s of selected) assert.ok(alternatives.some((a) => spanMatches(s, a)), `${query.source}: selected span ${s.name} matches none of ${JSON.stringify(alternatives)}`);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('the generated queries do match some generated traces, and the pushdown narrows some of them', () => {
    let matched = 0;
    let narrowed = 0;
    fc.assert(
      fc.property(smallTrace, smallQuery, (trace, root) => {
        const query = { source: '', root };
        if (evaluateTraceQL(query, trace).length) matched++;
        if (traceQLPushdown(query).alternatives.some((a) => Object.keys(a).length > 0)) narrowed++;
      }),
      { numRuns: 2000 },
    );
    assert.ok(matched > 200, `only ${matched} of 2000 matched`);
    assert.ok(narrowed > 200, `only ${narrowed} of 2000 pushed a condition down`);
  });
});
