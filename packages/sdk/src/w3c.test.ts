// W3C Trace Context parsing, table-driven: what the official
// W3CTraceContextPropagator does, and what our extract path (the strict
// subclass inside the composite propagator) does where the spec asks for more.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultTextMapGetter, ROOT_CONTEXT, trace, type Context, type TextMapPropagator } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { extract } from './propagation.js';
import { isValidTraceState, StrictW3CTraceContextPropagator } from './w3c.js';

const TID = '0af7651916cd43dd8448eb211c80319c';
const SID = 'b7ad6b7169203331';
const VALID = `00-${TID}-${SID}-01`;

type Carrier = Record<string, string | string[]>;

interface Parsed {
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState: string | undefined;
}

function parsed(ctx: Context): Parsed | undefined {
  const sc = trace.getSpanContext(ctx);
  if (sc === undefined) return undefined;
  return { traceId: sc.traceId, spanId: sc.spanId, traceFlags: sc.traceFlags, traceState: sc.traceState?.serialize() };
}

const official: TextMapPropagator = new W3CTraceContextPropagator();
const strict: TextMapPropagator = new StrictW3CTraceContextPropagator();
const viaOfficial = (c: Carrier) => parsed(official.extract(ROOT_CONTEXT, c, defaultTextMapGetter));
const viaStrict = (c: Carrier) => parsed(strict.extract(ROOT_CONTEXT, c, defaultTextMapGetter));
/** Our public extract(): the composite (strict W3C + baggage + clock), as job consumers use it. */
const viaExtract = (c: Carrier) => parsed(extract(c, ROOT_CONTEXT));

// [description, traceparent value(s), accepted by the official propagator, accepted per spec (ours)]
const traceparents: Array<[string, string | string[], boolean, boolean]> = [
  ['valid, sampled', VALID, true, true],
  ['valid, not sampled', `00-${TID}-${SID}-00`, true, true],
  ['valid, unknown flag bits kept', `00-${TID}-${SID}-09`, true, true],
  ['version ff is invalid', `ff-${TID}-${SID}-01`, false, false],
  ['future version cc', `cc-${TID}-${SID}-01`, true, true],
  ['future version with extra fields', `cc-${TID}-${SID}-01-what-the-future-will-be-like`, true, true],
  ['future version: extra data must follow a dash', `cc-${TID}-${SID}-01.what-the-future-will-be-like`, false, false],
  ['future version still needs flags', `cc-${TID}-${SID}`, false, false],
  ['version 00 with extra fields', `00-${TID}-${SID}-01-what-the-future-will-be-like`, false, false],
  ['version 00 with a trailing dash', `00-${TID}-${SID}-01-`, false, false],
  ['version too short', `0-${TID}-${SID}-01`, false, false],
  ['version too long', `000-${TID}-${SID}-01`, false, false],
  ['version with illegal characters', `.0-${TID}-${SID}-01`, false, false],
  ['uppercase version', `0A-${TID}-${SID}-01`, false, false],
  ['all-zero trace id', `00-${'0'.repeat(32)}-${SID}-01`, false, false],
  ['all-zero parent id', `00-${TID}-${'0'.repeat(16)}-01`, false, false],
  ['uppercase trace id', `00-${TID.toUpperCase()}-${SID}-01`, false, false],
  ['uppercase parent id', `00-${TID}-${SID.toUpperCase()}-01`, false, false],
  ['uppercase flags', `00-${TID}-${SID}-0A`, false, false],
  ['trace id 31 chars', `00-${TID.slice(1)}-${SID}-01`, false, false],
  ['trace id 33 chars', `00-${TID}0-${SID}-01`, false, false],
  ['parent id 15 chars', `00-${TID}-${SID.slice(1)}-01`, false, false],
  ['parent id 17 chars', `00-${TID}-${SID}0-01`, false, false],
  ['flags 1 char', `00-${TID}-${SID}-1`, false, false],
  ['flags 3 chars', `00-${TID}-${SID}-001`, false, false],
  ['non-hex trace id', `00-${TID.slice(0, 31)}g-${SID}-01`, false, false],
  ['non-hex flags', `00-${TID}-${SID}-0x`, false, false],
  ['wrong delimiter', `00_${TID}_${SID}_01`, false, false],
  ['empty', '', false, false],
  ['one leading space (OWS)', ` ${VALID}`, true, true],
  ['one trailing tab (OWS)', `${VALID}\t`, true, true],
  ['more optional whitespace (OWS) around the value', `\t ${VALID} \t`, false, true],
  ['duplicated traceparent header', [VALID, `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`], true, false],
];

describe('traceparent', () => {
  for (const [what, header, officialAccepts, specAccepts] of traceparents) {
    test(what, () => {
      const carrier: Carrier = { traceparent: header };
      const o = viaOfficial(carrier);
      const s = viaStrict(carrier);
      const e = viaExtract(carrier);
      assert.equal(o !== undefined, officialAccepts, `official W3CTraceContextPropagator on ${JSON.stringify(header)}`);
      assert.equal(s !== undefined, specAccepts, `strict propagator on ${JSON.stringify(header)}`);
      assert.equal(e !== undefined, specAccepts, `extract() on ${JSON.stringify(header)}`);
      if (specAccepts) {
        assert.equal(s!.traceId, TID);
        assert.equal(s!.spanId, SID);
        assert.deepEqual(e, s);
      }
    });
  }

  test('flags are parsed', () => {
    assert.equal(viaStrict({ traceparent: `00-${TID}-${SID}-00` })!.traceFlags, 0);
    assert.equal(viaStrict({ traceparent: `00-${TID}-${SID}-01` })!.traceFlags, 1);
  });

  test('a remote span context is marked remote', () => {
    const sc = trace.getSpanContext(strict.extract(ROOT_CONTEXT, { traceparent: VALID }, defaultTextMapGetter));
    assert.equal(sc?.isRemote, true);
  });

  test('no traceparent leaves the context unchanged', () => {
    assert.equal(strict.extract(ROOT_CONTEXT, {}, defaultTextMapGetter), ROOT_CONTEXT);
    assert.equal(strict.extract(ROOT_CONTEXT, { tracestate: 'foo=1' }, defaultTextMapGetter), ROOT_CONTEXT);
  });
});

const members = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=v${i}`).join(',');


// [description, tracestate, serialized by the official propagator, serialized per spec (undefined = discarded)]
const tracestates: Array<[string, string | string[], string | undefined, string | undefined]> = [
  ['one member', 'foo=1', 'foo=1', 'foo=1'],
  ['two members keep their order', 'foo=1,bar=2', 'foo=1,bar=2', 'foo=1,bar=2'],
  ['empty header: no tracestate', '', undefined, undefined],
  ['empty members are allowed', 'foo=1,,bar=2', 'foo=1,bar=2', 'foo=1,bar=2'],
  ['optional whitespace around members', ' foo=1 ,\tbar=2\t', 'foo=1,bar=2', 'foo=1,bar=2'],
  ['several tracestate headers are one list', ['foo=1', 'bar=2'], 'foo=1,bar=2', 'foo=1,bar=2'],
  ['32 members: the limit', members(32), members(32), members(32)],
  ['33 members: over the limit, discarded', members(33), members(32), undefined],
  ['duplicated key', 'foo=1,foo=2', 'foo=2', undefined],
  ['uppercase key', 'Foo=1,bar=2', 'bar=2', undefined],
  ['key starting with a digit', '1foo=1', undefined, undefined],
  ['key with allowed punctuation', 'a_b-c*d/e=1', 'a_b-c*d/e=1', 'a_b-c*d/e=1'],
  ['multi-tenant key', 'tenant@system=1', 'tenant@system=1', 'tenant@system=1'],
  ['multi-tenant key, tenant may start with a digit', '1tenant@system=1', '1tenant@system=1', '1tenant@system=1'],
  ['multi-tenant key, system id over 14 chars', 'tenant@abcdefghijklmno=1', undefined, undefined],
  ['multi-tenant key, system id must start with a letter', 'tenant@1sys=1', undefined, undefined],
  ['key of 256 chars', `a${'b'.repeat(255)}=1`, `a${'b'.repeat(255)}=1`, `a${'b'.repeat(255)}=1`],
  ['key of 257 chars', `a${'b'.repeat(256)}=1`, undefined, undefined],
  ['key with an illegal character', 'fo.o=1', undefined, undefined],
  ['member without =', 'foo', undefined, undefined],
  ['empty value', 'foo=', undefined, undefined],
  ['value containing =', 'foo=bar=baz', undefined, undefined],
  ['value with inner space', 'foo=b ar', 'foo=b ar', 'foo=b ar'],
  ['value of 256 chars', `foo=${'v'.repeat(256)}`, `foo=${'v'.repeat(256)}`, `foo=${'v'.repeat(256)}`],
  ['value of 257 chars', `foo=${'v'.repeat(257)}`, undefined, undefined],
  ['value with a non-ASCII character', 'foo=bär', undefined, undefined],
  ['one bad member among good ones', 'foo=1,BAD=2,bar=3', 'foo=1,bar=3', undefined],
];

describe('tracestate', () => {
  for (const [what, header, officialResult, specResult] of tracestates) {
    test(what, () => {
      const carrier: Carrier = { traceparent: VALID, tracestate: header };
      const o = viaOfficial(carrier);
      const s = viaStrict(carrier);
      const e = viaExtract(carrier);
      assert.ok(o && s && e, 'a valid traceparent is kept whatever the tracestate');
      assert.equal(o.traceState || undefined, officialResult, 'official W3CTraceContextPropagator');
      assert.equal(s.traceState || undefined, specResult, 'strict propagator');
      assert.equal(e.traceState || undefined, specResult, 'extract()');
      const joined = Array.isArray(header) ? header.join(',') : header;
      assert.equal(isValidTraceState(joined), specResult !== undefined || joined.trim() === '');
    });
  }

  test('tracestate is ignored when traceparent is invalid', () => {
    assert.equal(viaStrict({ traceparent: `ff-${TID}-${SID}-01`, tracestate: 'foo=1' }), undefined);
    assert.equal(viaExtract({ traceparent: `00-${TID.toUpperCase()}-${SID}-01`, tracestate: 'foo=1' }), undefined);
  });
});

describe('inject', () => {
  test('round trip through the strict propagator', () => {
    const ctx = strict.extract(ROOT_CONTEXT, { traceparent: VALID, tracestate: 'foo=1,bar=2' }, defaultTextMapGetter);
    const out: Record<string, string> = {};
    strict.inject(ctx, out, { set: (c, k, v) => ((c as Record<string, string>)[k] = v) });
    assert.equal(out.traceparent, VALID);
    assert.equal(out.tracestate, 'foo=1,bar=2');
  });
});
