/// <reference types="node" />
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileSafeRegex, RegexSyntaxError } from './regex.js';

describe('compileSafeRegex', () => {
  const cases: [string, string, boolean][] = [
    ['GET', 'GET', true],
    ['GET', 'GET /', false], // anchored, as Tempo's are
    ['GET.*', 'GET /api', true],
    ['.*api.*', 'GET /api/cart', true],
    ['(?i)get /API', 'GET /api', true],
    ['(?i:a)b', 'Ab', true],
    ['(?i:a)b', 'AB', false],
    ['a(?i)b|c', 'C', true],
    ['[a-c]+', 'abcabc', true],
    ['[^a-c]+', 'xyz', true],
    ['[^a-c]+', 'xaz', false],
    ['(?i)[^a]', 'A', false],
    ['[]a]+', ']a]', true],
    ['[a-]+', 'a-a', true],
    ['[\\d.]+', '3.14', true],
    ['[[:alpha:]]+[[:digit:]]', 'abc1', true],
    ['[[:^digit:]]', '5', false],
    ['\\d{3}-\\d{4}', '555-1234', true],
    ['\\w+@\\w+\\.com', 'me@example.com', true],
    ['\\W', '-', true],
    ['\\s', '\t', true],
    ['\\S+', 'ab', true],
    ['a{2,3}', 'aaa', true],
    ['a{2,3}', 'aaaa', false],
    ['a{2}', 'aa', true],
    ['a{2,}', 'aaaaa', true],
    ['a{,2}', 'a{,2}', true], // not a repetition: literal, as in RE2
    ['a{', 'a{', true],
    ['x*?y+?z??', 'xxyy', true],
    ['(a|ab)(c|bcd)', 'abcd', true],
    ['(?:ab)*', '', true],
    ['(?P<x>a)(?<y>b)', 'ab', true],
    ['^abc$', 'abc', true],
    ['\\Aabc\\z', 'abc', true],
    ['(?m)a$\\n^b', 'a\nb', true],
    ['a$\\nb', 'a\nb', false],
    ['.', '\n', false],
    ['(?s).', '\n', true],
    ['\\bfoo\\b.*', 'foo bar', true],
    ['.*\\Bfoo', 'xfoo', true],
    ['\\x41\\x{1F600}', 'A😀', true],
    ['.', '😀', true],
    ['h.llo', 'hällo', true],
    ['\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\\\/', '.*+?()[]{}|^$\\/', true],
    ['\\t\\n\\r\\f\\v\\a', '\t\n\r\f\v\x07', true],
    ['\\012', '\n', true],
    ['', '', true],
    ['', 'x', false],
    ['a||b', '', true],
    ['(a*)*b', 'aaab', true],
  ];
  for (const [pattern, text, want] of cases) {
    it(`${JSON.stringify(pattern)} ${want ? 'matches' : 'does not match'} ${JSON.stringify(text)}`, () => assert.equal(compileSafeRegex(pattern).test(text), want));
  }

  const rejected: [string, RegExp][] = [
    ['(a)\\1', /backreferences/],
    ['(?=a)', /lookaround/],
    ['(?!a)', /lookaround/],
    ['(?<=a)b', /lookaround/],
    ['(?<!a)b', /lookaround/],
    ['\\p{L}', /Unicode classes/],
    ['\\Qa.b\\E', /\\Q/],
    ['a**', /nested repetition/],
    ['a+*', /nested repetition/],
    ['a{2}{3}', /nested repetition/],
    ['*a', /missing argument/],
    ['{2}', /missing argument/],
    ['(a', /missing '\)'/],
    ['a)', /unmatched '\)'/],
    ['[a', /missing '\]'/],
    ['[z-a]', /range/],
    ['a{3,2}', /range/],
    ['a{1001}', /above 1000/],
    ['(?x)a', /flag 'x'/],
    ['\\', /trailing backslash/],
    ['\\e', /invalid escape/],
    ['[[:nope:]]', /unknown class/],
    ['(a{100}){100}', /too large/],
    ['a'.repeat(1001), /longer than 1000/],
  ];
  for (const [pattern, reason] of rejected) {
    it(`rejects ${JSON.stringify(pattern.length > 30 ? pattern.slice(0, 30) + '…' : pattern)}`, () => {
      assert.throws(() => compileSafeRegex(pattern), (e: unknown) => e instanceof RegexSyntaxError && reason.test(e.message));
    });
  }

  it('stays linear on patterns that make a backtracking engine explode', () => {
    const long = 'a'.repeat(50_000);
    for (const p of ['(a+)+b', '(a|aa)*b', '(a*)*b', '.*a.*a.*a.*a.*b', '(\\w+\\s?)+$x', '(x+x+)+y']) {
      const t = performance.now();
      assert.equal(compileSafeRegex(p).test(long), false, p);
      const ms = performance.now() - t;
      // a backtracking engine needs far longer than a minute for any of these
      assert.ok(ms < 5000, `${p}: ${ms.toFixed(0)} ms`);
    }
  });

  it('agrees with RegExp on generated patterns (where the two syntaxes mean the same)', () => {
    const pattern = fc.letrec<{ re: string }>((tie) => ({
      re: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constantFrom('a', 'b', '.', '[ab]', '[^a]', '\\w', '\\W', '^', '$', '\\b', '\\B', ''),
        fc.tuple(tie('re'), tie('re')).map(([x, y]) => x + y),
        fc.tuple(tie('re'), tie('re')).map(([x, y]) => `${x}|${y}`),
        fc.tuple(tie('re'), fc.constantFrom('*', '+', '?', '{2}', '{1,2}', '{0,}', '*?', '+?')).map(([x, q]) => `(?:${x})${q}`),
        tie('re').map((x) => `(${x})`),
      ),
    })).re;
    const text = fc.string({ unit: fc.constantFrom('a', 'b', ' '), maxLength: 8 });
    fc.assert(
      fc.property(pattern, text, (p, t) => {
        assert.equal(compileSafeRegex(p).test(t), new RegExp(`^(?:${p})$`, 'u').test(t), `${JSON.stringify(p)} on ${JSON.stringify(t)}`);
      }),
      { numRuns: 3000 },
    );
  });
});
