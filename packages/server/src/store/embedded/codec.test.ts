import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { AnyValue, KeyValue } from '@ariadne/model';
import { attributeText } from '@ariadne/model';
import { makeRichSpan } from '../../testing/fixtures.js';
import {
  attributePattern,
  decodeAttributes,
  decodeEvents,
  decodeLinks,
  encodeAttributes,
  encodeEvents,
  encodeLinks,
  escapeText,
  unescapeText,
} from './codec.js';

// Strings drawn from all of UTF-16, separators and lone surrogates included.
const anyString = fc.string({ unit: fc.oneof(fc.constantFrom('\x00', '\x1b', '\x1c', '\x1d', '\x1e', '\x1f', '=', '\ud800', '\udc00'), fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))) });

const scalar: fc.Arbitrary<AnyValue> = fc.oneof(
  anyString.map((stringValue) => ({ stringValue })),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((i) => ({ intValue: i.toString() })),
  fc.boolean().map((boolValue) => ({ boolValue })),
  fc.double().map((doubleValue) => ({ doubleValue })),
  fc.uint8Array().map((b) => ({ bytesValue: Buffer.from(b).toString('base64') })),
  fc.constant({}),
);
const { value: anyValue } = fc.letrec<{ value: AnyValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }).map((values) => ({ arrayValue: { values } })),
    fc.array(fc.tuple(anyString, tie('value')).map(([key, value]) => ({ key, value })), { maxLength: 4 }).map((values) => ({ kvlistValue: { values } })),
  ),
}));
const keyValues: fc.Arbitrary<KeyValue[]> = fc.array(fc.tuple(anyString, anyValue).map(([key, value]) => ({ key, value })), { maxLength: 8 });

describe('embedded codec', () => {
  it('round-trips any text through escaping', () => {
    fc.assert(fc.property(anyString, (s) => {
      const e = escapeText(s);
      assert.ok(!/[\x00\x1c-\x1f]/.test(e));
      assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(e), 'no lone surrogate');
      assert.equal(unescapeText(e), s);
    }));
  });

  it('round-trips any attribute list exactly', () => {
    fc.assert(fc.property(keyValues, (kvs) => {
      assert.deepStrictEqual(decodeAttributes(encodeAttributes(kvs)), kvs);
    }), { numRuns: 500 });
  });

  it('finds an attribute by key and text form, and nothing across attribute boundaries', () => {
    fc.assert(fc.property(keyValues, anyString, anyString, (kvs, k, v) => {
      const enc = encodeAttributes(kvs);
      for (const kv of kvs) assert.ok(enc.includes(attributePattern(kv.key, attributeText(kv.value))));
      const expected = kvs.some((kv) => kv.key === k && attributeText(kv.value) === v);
      assert.equal(enc.includes(attributePattern(k, v)), expected);
    }), { numRuns: 500 });
  });

  it('does not confuse a key holding "=" with a value holding it', () => {
    const enc = encodeAttributes([{ key: 'a=b', value: { stringValue: 'c' } }]);
    assert.ok(enc.includes(attributePattern('a=b', 'c')));
    assert.ok(!enc.includes(attributePattern('a', 'b=c')));
  });

  it('round-trips events and links of the rich span', () => {
    const s = makeRichSpan();
    assert.deepStrictEqual(decodeEvents(encodeEvents(s.events)), s.events);
    assert.deepStrictEqual(decodeLinks(encodeLinks(s.links)), s.links);
    assert.deepStrictEqual(decodeEvents(''), []);
    assert.deepStrictEqual(decodeLinks(''), []);
  });
});
