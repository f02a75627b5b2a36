// Unit tests of the seed API's pieces: exact millisecond conversion, strict
// traceparent parsing, and the bounded store of open spans.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeSpan, randomSpanId, randomTraceId } from '../../testing/fixtures.js';
import { millisToNanosExact, nanosToMillis, unixNanosToMillis, tagsToAttributes, attributesToTags } from './convert.js';
import { incomingContext, parseTraceparent } from './propagation.js';
import { OpenSpans } from './open-spans.js';

describe('milliseconds <-> nanoseconds', () => {
  it('converts the decimal digits exactly', () => {
    const cases: [number, bigint][] = [
      [0, 0n],
      [45, 45_000_000n],
      [0.1, 100_000n],
      [0.3, 300_000n],
      [45.123456, 45_123_456n],
      [1e-6, 1n],
      [1e-7, 0n],
      [5e-7, 1n], // half up
      [1.4e-6, 1n],
      [1700000000123.456, 1_700_000_000_123_456_000n],
      [8.64e9, 8_640_000_000_000_000n],
    ];
    for (const [ms, ns] of cases) assert.equal(millisToNanosExact(ms), ns, String(ms));
  });

  it('round-trips: what goes in as ms comes back as the same ms', () => {
    for (const ms of [45, 0.1, 12.345678, 999999.999999, 23]) assert.equal(nanosToMillis(millisToNanosExact(ms)), ms);
    assert.equal(unixNanosToMillis(1_700_000_000_123_456_789n), 1700000000123.456);
  });

  it('refuses negative and non-finite input', () => {
    assert.throws(() => millisToNanosExact(-1), RangeError);
    assert.throws(() => millisToNanosExact(NaN), RangeError);
  });

  it('tags become typed attributes and back', () => {
    const attrs = tagsToAttributes({ s: 'x', i: 200, d: 0.5, b: true, big: 2 ** 60, a: [1, 'two', false] });
    assert.deepEqual(attrs, [
      { key: 's', value: { stringValue: 'x' } },
      { key: 'i', value: { intValue: '200' } },
      { key: 'd', value: { doubleValue: 0.5 } },
      { key: 'b', value: { boolValue: true } },
      { key: 'big', value: { doubleValue: 2 ** 60 } },
      { key: 'a', value: { arrayValue: { values: [{ intValue: '1' }, { stringValue: 'two' }, { boolValue: false }] } } },
    ]);
    assert.deepEqual(attributesToTags(attrs), { s: 'x', i: 200, d: 0.5, b: true, big: 2 ** 60, a: [1, 'two', false] });
    assert.deepEqual(attributesToTags([{ key: 'n', value: { intValue: '9223372036854775807' } }]), { n: '9223372036854775807' });
    const proto = attributesToTags([{ key: '__proto__', value: { stringValue: 'x' } }]);
    assert.equal(Object.getPrototypeOf(proto), Object.prototype);
    assert.equal(JSON.stringify(proto), '{"__proto__":"x"}');
  });
});

describe('traceparent, strictly', () => {
  const t = '4bf92f3577b34da6a3ce929d0e0e4736';
  const p = '00f067aa0ba902b7';
  it('accepts valid values, with optional whitespace and future versions', () => {
    assert.deepEqual(parseTraceparent(`00-${t}-${p}-01`), { traceId: t, parentSpanId: p, flags: 1 });
    assert.deepEqual(parseTraceparent(` \t00-${t}-${p}-00 `), { traceId: t, parentSpanId: p, flags: 0 });
    assert.deepEqual(parseTraceparent(`cc-${t}-${p}-01-what-the-future-holds`), { traceId: t, parentSpanId: p, flags: 1 });
    assert.deepEqual(parseTraceparent(`cc-${t}-${p}-01`), { traceId: t, parentSpanId: p, flags: 1 });
  });
  it('refuses everything else', () => {
    for (const bad of [
      undefined,
      '',
      `ff-${t}-${p}-01`,
      `00-${t.toUpperCase()}-${p}-01`,
      `00-${t}-${p}-01-extra`,
      `cc-${t}-${p}-01extra`,
      `00-${'0'.repeat(32)}-${p}-01`,
      `00-${t}-${'0'.repeat(16)}-01`,
      `00-${t.slice(1)}-${p}-01`,
      `0-${t}-${p}-01`,
      `00-${t}-${p}-1`,
      `00_${t}_${p}_01`,
      `00-${t}-${p}-01, 00-${t}-${p}-01`, // a repeated header, as node joins it
      `00-${t}-${p}-0g`,
    ]) {
      assert.equal(parseTraceparent(bad), undefined, String(bad));
    }
  });
  it('X-Trace-ID wins over traceparent', () => {
    const other = randomTraceId();
    const h: Record<string, string> = { 'x-trace-id': other, traceparent: `00-${t}-${p}-01` };
    assert.deepEqual(incomingContext((n) => h[n]), { ok: true, context: { traceId: other, source: 'X-Trace-ID' } });
    assert.deepEqual(incomingContext((n) => (n === 'traceparent' ? h[n] : undefined)), { ok: true, context: { traceId: t, parentSpanId: p, source: 'traceparent' } });
    assert.deepEqual(incomingContext(() => undefined), { ok: true });
  });
});

describe('OpenSpans', () => {
  const span = (traceId = randomTraceId()) => makeSpan({ traceId, spanId: randomSpanId() });

  it('holds spans by id and by trace', () => {
    const o = new OpenSpans();
    const trace = randomTraceId();
    const a = span(trace);
    const b = span(trace);
    assert.equal(o.open(a, 10).ok, true);
    assert.equal(o.open(b, 10).ok, true);
    assert.equal(o.open(a, 10).ok, false, 'an id already open is refused');
    assert.equal(o.size, 2);
    assert.equal(o.activeTraces, 1);
    assert.equal(o.bytes, 20);
    assert.deepEqual(o.ofTrace(trace).map((x) => x.span.spanId).sort(), [a.spanId, b.spanId].sort());
    assert.equal(o.take(a.spanId)!.span, a);
    assert.equal(o.take(a.spanId), undefined);
    assert.equal(o.take(b.spanId)!.span, b);
    assert.equal(o.activeTraces, 0);
    assert.equal(o.bytes, 0);
  });

  it('evicts the oldest beyond the span count or the byte budget', () => {
    const o = new OpenSpans({ maxSpans: 3, maxBytes: 100 });
    const s = [span(), span(), span(), span(), span()];
    for (const x of s.slice(0, 3)) assert.deepEqual(o.open(x, 10).evicted, []);
    assert.deepEqual(o.open(s[3]!, 10).evicted.map((x) => x.span), [s[0]]);
    assert.deepEqual(o.open(s[4]!, 85).evicted.map((x) => x.span), [s[1], s[2]]);
    assert.equal(o.size, 2);
    assert.equal(o.bytes, 95);
  });

  it('expires spans open longer than the timeout, and a restored span keeps its age', () => {
    let now = 0;
    const o = new OpenSpans({ timeoutMs: 100, clock: () => now });
    const a = span();
    const b = span();
    o.open(a, 1);
    now = 60;
    o.open(b, 1);
    now = 100;
    const taken = o.take(a.spanId)!;
    o.restore(taken);
    assert.deepEqual(o.expire().map((x) => x.span), [a]);
    now = 159;
    assert.deepEqual(o.expire(), []);
    now = 160;
    assert.deepEqual(o.expire().map((x) => x.span), [b]);
    assert.equal(o.size, 0);
  });

  it('drains everything', () => {
    const o = new OpenSpans();
    o.open(span(), 1);
    o.open(span(), 1);
    assert.equal(o.drain().length, 2);
    assert.equal(o.size, 0);
    assert.equal(o.activeTraces, 0);
  });
});
