/// <reference types="node" />
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { CompareOp, Condition, Field, SpansetExpr, Static } from './ast.js';
import { parseTraceQL } from './parser.js';
import { formatTraceQL } from './format.js';
import { TraceQLError } from './lexer.js';
import { anyAggregate, anyCompare, anySelect, spansetTree } from './fixtures.js';

const attr = (scope: 'span' | 'resource' | 'unscoped', key: string): Field => ({ type: 'attribute', scope, key });
const intr = (name: (Field & { type: 'intrinsic' })['name']): Field => ({ type: 'intrinsic', name });
const cmp = (field: Field, op: CompareOp, value: Static): Condition => ({ type: 'compare', field, op, value });
const s = (value: string): Static => ({ type: 'string', value });
const i = (value: bigint): Static => ({ type: 'int', value });
const f = (value: number): Static => ({ type: 'float', value });
const d = (nanos: bigint): Static => ({ type: 'duration', nanos });
const and = (left: Condition, right: Condition): Condition => ({ type: 'and', left, right });
const or = (left: Condition, right: Condition): Condition => ({ type: 'or', left, right });
const filter = (condition: Condition): SpansetExpr => ({ type: 'filter', condition });
const all = filter({ type: 'const', value: true });
const op = (o: '&&' | '||' | '>' | '>>' | '<' | '<<' | '~', left: SpansetExpr, right: SpansetExpr): SpansetExpr => ({ type: 'spansetOp', op: o, left, right });
const A = filter(cmp(attr('unscoped', 'a'), '=', i(1n)));
const B = filter(cmp(attr('unscoped', 'b'), '=', i(2n)));
const C = filter(cmp(attr('unscoped', 'c'), '=', i(3n)));

const valid: [string, SpansetExpr][] = [
  ['{}', all],
  ['  {\n}\t', all],
  ['{ true }', all],
  ['{ false }', filter({ type: 'const', value: false })],
  ['{ name = "GET /" }', filter(cmp(intr('name'), '=', s('GET /')))],
  ['{ span.http.status_code >= 500 }', filter(cmp(attr('span', 'http.status_code'), '>=', i(500n)))],
  ['{span.http.status_code>=500}', filter(cmp(attr('span', 'http.status_code'), '>=', i(500n)))],
  [
    '{ resource.service.name = "frontend" && duration > 100ms }',
    filter(and(cmp(attr('resource', 'service.name'), '=', s('frontend')), cmp(intr('duration'), '>', d(100_000_000n)))),
  ],
  ['{ .a = 1 || .b = 2 && .c = 3 }', filter(or(cmp(attr('unscoped', 'a'), '=', i(1n)), and(cmp(attr('unscoped', 'b'), '=', i(2n)), cmp(attr('unscoped', 'c'), '=', i(3n)))))],
  ['{ (.a = 1 || .b = 2) && .c = 3 }', filter(and(or(cmp(attr('unscoped', 'a'), '=', i(1n)), cmp(attr('unscoped', 'b'), '=', i(2n))), cmp(attr('unscoped', 'c'), '=', i(3n))))],
  ['{ !(status = error) }', filter({ type: 'not', operand: cmp(intr('status'), '=', { type: 'status', value: 'error' }) })],
  ['{ !span.flag }', filter({ type: 'not', operand: cmp(attr('span', 'flag'), '=', { type: 'bool', value: true }) })],
  ['{ kind = server && status != ok }', filter(and(cmp(intr('kind'), '=', { type: 'kind', value: 'server' }), cmp(intr('status'), '!=', { type: 'status', value: 'ok' })))],
  ['{ span."foo bar" = "x" }', filter(cmp(attr('span', 'foo bar'), '=', s('x')))],
  ['{ resource.k8s."pod name".x-y = 1 }', filter(cmp(attr('resource', 'k8s.pod name.x-y'), '=', i(1n)))],
  ['{ ."say \\"hi\\"" = 1 }', filter(cmp(attr('unscoped', 'say "hi"'), '=', i(1n)))],
  ['{ duration > 1.5s }', filter(cmp(intr('duration'), '>', d(1_500_000_000n)))],
  ['{ duration < 800us }', filter(cmp(intr('duration'), '<', d(800_000n)))],
  ['{ duration < 800µs }', filter(cmp(intr('duration'), '<', d(800_000n)))],
  ['{ duration >= 10ns }', filter(cmp(intr('duration'), '>=', d(10n)))],
  ['{ duration <= 2m }', filter(cmp(intr('duration'), '<=', d(120_000_000_000n)))],
  ['{ duration = 1h30m }', filter(cmp(intr('duration'), '=', d(5_400_000_000_000n)))],
  ['{ duration > 0.5ms }', filter(cmp(intr('duration'), '>', d(500_000n)))],
  ['{ duration > 100 }', filter(cmp(intr('duration'), '>', i(100n)))],
  ['{ .x = 1.5 }', filter(cmp(attr('unscoped', 'x'), '=', f(1.5)))],
  ['{ .x = 2e3 }', filter(cmp(attr('unscoped', 'x'), '=', f(2000)))],
  ['{ .x > -0.25 }', filter(cmp(attr('unscoped', 'x'), '>', f(-0.25)))],
  ['{ .x = -9223372036854775808 }', filter(cmp(attr('unscoped', 'x'), '=', i(-(2n ** 63n))))],
  ['{ .x = 9223372036854775807 }', filter(cmp(attr('unscoped', 'x'), '=', i(2n ** 63n - 1n)))],
  ['{ 500 <= span.code }', filter(cmp(attr('span', 'code'), '>=', i(500n)))],
  ['{ "x" != .a }', filter(cmp(attr('unscoped', 'a'), '!=', s('x')))],
  ['{ .x = nil }', filter(cmp(attr('unscoped', 'x'), '=', { type: 'nil' }))],
  ['{ .x != nil }', filter(cmp(attr('unscoped', 'x'), '!=', { type: 'nil' }))],
  ['{ span.flag }', filter(cmp(attr('span', 'flag'), '=', { type: 'bool', value: true }))],
  ['{ .ok = false }', filter(cmp(attr('unscoped', 'ok'), '=', { type: 'bool', value: false }))],
  ['{ name =~ "GET .*" }', filter(cmp(intr('name'), '=~', s('GET .*')))],
  ['{ .a !~ `^\\d+$` }', filter(cmp(attr('unscoped', 'a'), '!~', s('^\\d+$')))],
  ['{ .a = "\\u00e9\\n\\"\\\\\\x41\\101" }', filter(cmp(attr('unscoped', 'a'), '=', s('é\n"\\AA')))],
  ['{ span:name = "x" && trace:duration > 1s && trace:rootService = "f" }', filter(and(and(cmp(intr('name'), '=', s('x')), cmp(intr('traceDuration'), '>', d(1_000_000_000n))), cmp(intr('rootServiceName'), '=', s('f'))))],
  ['{ rootName = "GET /" && rootServiceName = "fe" && traceDuration > 2s && statusMessage =~ "time.*" }', filter(and(and(and(cmp(intr('rootName'), '=', s('GET /')), cmp(intr('rootServiceName'), '=', s('fe'))), cmp(intr('traceDuration'), '>', d(2_000_000_000n))), cmp(intr('statusMessage'), '=~', s('time.*'))))],
  ['{ .a = 1 } && { .b = 2 }', op('&&', A, B)],
  ['{ .a = 1 } || { .b = 2 } && { .c = 3 }', op('||', A, op('&&', B, C))],
  ['{ .a = 1 } > { .b = 2 } && { .c = 3 }', op('&&', op('>', A, B), C)],
  ['{ .a = 1 } >> { .b = 2 } << { .c = 3 }', op('<<', op('>>', A, B), C)],
  ['{ .a = 1 } ~ ({ .b = 2 } < { .c = 3 })', op('~', A, op('<', B, C))],
  ['{ } | count() > 2', { type: 'pipeline', input: all, stages: [{ type: 'aggregate', fn: 'count', op: '>', value: i(2n) }] }],
  [
    '{ } | avg(duration) > 1s | select(span.a, name) | { .b = 2 }',
    {
      type: 'pipeline',
      input: all,
      stages: [
        { type: 'aggregate', fn: 'avg', field: intr('duration'), op: '>', value: d(1_000_000_000n) },
        { type: 'select', fields: [attr('span', 'a'), intr('name')] },
        { type: 'spanset', expr: B },
      ],
    },
  ],
  ['({ .a = 1 } | count() > 1) && { .b = 2 }', op('&&', { type: 'pipeline', input: A, stages: [{ type: 'aggregate', fn: 'count', op: '>', value: i(1n) }] }, B)],
  ['{ .a = 1 } && { .b = 2 } | max(span.size) <= 1.5', { type: 'pipeline', input: op('&&', A, B), stages: [{ type: 'aggregate', fn: 'max', field: attr('span', 'size'), op: '<=', value: f(1.5) }] }],
];

const invalid: [string, RegExp, number][] = [
  ['', /query is empty/, 0],
  ['   ', /query is empty/, 0],
  ['{', /expected a field or a value, found the end of the query/, 1],
  ['{ name = "x"', /expected '}' or a condition operator/, 12],
  ['{ name = "x" }}', /unexpected '}'/, 14],
  ['{ } )', /unexpected '\)' \(no '\(' to close\)/, 4],
  ['{ name = x }', /unknown name 'x'.*span\.x/, 9],
  ['{ status = "error" }', /status compares with error, ok or unset, not a string/, 11],
  ['{ kind > server }', /'>' does not apply to kind/, 7],
  ['{ duration > "1s" }', /duration compares with a duration such as 250ms, not a string/, 13],
  ['{ name = 5 }', /name compares with a string, not an integer/, 9],
  ['{ .a = error }', /a status compares only with status/, 7],
  ['{ .a > true }', /'>' does not apply to \.a/, 5],
  ['{ .a =~ 5 }', /'=~' needs a string pattern/, 8],
  ['{ .a =~ "(a" }', /invalid regular expression: missing '\)'/, 8],
  ['{ .a =~ `(a)\\1` }', /invalid regular expression: backreferences are not supported/, 8],
  ['{ .a =~ "(?=x)" }', /lookaround is not supported/, 8],
  ['{ .a =~ "a**" }', /nested repetition/, 8],
  ['{ "x" =~ .a }', /the pattern goes on the right/, 2],
  ['{ .a = "unterminated }', /unterminated string/, 7],
  ['{ .a = "\\q" }', /invalid escape '\\q'/, 8],
  ['{ .a = "\\d" }', /invalid escape '\\d'.*raw/, 8],
  ['{ .a + 1 = 2 }', /arithmetic \('\+'\) is not supported/, 5],
  ['{ .a = 1 } | by(.a)', /grouping \('by\(\)'\) is not supported/, 13],
  ['{ } | rate()', /metrics queries/, 6],
  ['{ } | coalesce()', /coalesce/, 6],
  ['{ parent.a = 1 }', /the 'parent\.' scope is not supported/, 2],
  ['{ event.name = "x" }', /the 'event\.' scope is not supported/, 2],
  ['{ childCount > 1 }', /the intrinsic 'childCount' is not supported/, 2],
  ['{ span:id = "x" }', /the intrinsic 'span:id' is not supported/, 2],
  ['{ .a = 1 } !> { .b = 1 }', /negated structural operators/, 11],
  ['{ .a = 1 } &> { }', /union structural operators/, 11],
  ['{ .a = 1 } & { }', /expected '&&'/, 11],
  ['{ 1 = 1 }', /a comparison needs a field/, 2],
  ['{ .a = .b }', /comparing two fields is not supported/, 5],
  ['{ duration > 1.5ns }', /a duration is a whole number of nanoseconds/, 13],
  ['{ duration > 5min }', /unknown duration unit/, 13],
  ['{ duration > 1e3ms }', /unexpected 'm' after a number/, 16],
  ['{ .a = 9223372036854775808 }', /out of the int64 range/, 7],
  ['{ .a = 99999999999999999999 }', /out of the int64 range/, 7],
  ['{ name }', /expected a comparison .* after 'name', found '}'/, 7],
  ['name = "x"', /expected '\{' to start a spanset, found 'name'/, 0],
  ['{ .a = 1 } >= { }', /'>=' cannot join spansets/, 11],
  ['{ . = 1 }', /expected an attribute name after '\.'/, 3],
  ['{ span. = 1 }', /expected an attribute name after 'span\.'/, 7],
  ['{ } | count(duration) > 1', /expected '\)' \(count\(\) takes no argument\), found 'duration'/, 12],
  ['{ } | avg(name) > 1', /avg\(\) needs a numeric field/, 10],
  ['{ } | count() > 1s', /count\(\) compares with a number, not a duration/, 16],
  ['{ } | count() =~ 1', /expected a comparison .* after count\(\)/, 14],
  ['{ } | .a', /expected a spanset/, 6],
  ['{ .a = 1 )', /expected '}' or a condition operator.*found '\)'/, 9],
  ['{ .a = - "x" }', /'-' goes only before a number/, 7],
  ['{ .a = 1 } ; { }', /unexpected character ';'/, 11],
  ['('.repeat(100) + '{}' + ')'.repeat(100), /nests more than 64 levels/, 64],
  ['{ ' + '!'.repeat(100) + '.a }', /nests more than 64 levels/, 65],
  ['{ .a = "' + 'x'.repeat(20_000) + '" }', /longer than 16384 characters/, 16384],
];

describe('parseTraceQL', () => {
  for (const [q, root] of valid) {
    it(`parses ${JSON.stringify(q)}`, () => {
      const parsed = parseTraceQL(q);
      assert.equal(parsed.source, q);
      assert.deepEqual(parsed.root, root);
    });
  }

  for (const [q, reason, offset] of invalid) {
    it(`rejects ${JSON.stringify(q.length > 60 ? q.slice(0, 60) + '…' : q)} at ${offset}`, () => {
      assert.throws(
        () => parseTraceQL(q),
        (e: unknown) => {
          assert.ok(e instanceof TraceQLError, `not a TraceQLError: ${e}`);
          assert.match(e.reason, reason);
          assert.equal(e.offset, offset, `offset of: ${e.message}`);
          assert.equal(e.message, `${e.reason} at offset ${e.offset}`);
          return true;
        },
      );
    });
  }

  it('formats any tree to text that parses back to the same tree', () => {
    fc.assert(
      fc.property(spansetTree({ compare: anyCompare, aggregate: anyAggregate, select: anySelect }), (root) => {
        const text = formatTraceQL(root);
        assert.deepEqual(parseTraceQL(text).root, root, text);
      }),
      { numRuns: 500 },
    );
  });

  it('throws nothing but TraceQLError, with an offset inside the query, on any input', () => {
    const pieces = fc.constantFrom('{', '}', '(', ')', ' ', '.a', 'span.', 'name', '=', '!=', '=~', '>', '>>', '&&', '||', '!', '|', '"x"', '`y`', '"\\', '1', '1.5', '2ms', '-', 'count()', 'select(', ',', 'nil', 'error', '~', '&', 'µ', '\u{1F600}');
    const input = fc.oneof(fc.string({ unit: 'binary' }), fc.array(pieces, { maxLength: 20 }).map((p) => p.join('')));
    fc.assert(
      fc.property(input, (q) => {
        try {
          parseTraceQL(q);
        } catch (e) {
          assert.ok(e instanceof TraceQLError, `${JSON.stringify(q)}: ${e}`);
          assert.ok(e.offset >= 0 && e.offset <= q.length, `${JSON.stringify(q)}: offset ${e.offset}`);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
