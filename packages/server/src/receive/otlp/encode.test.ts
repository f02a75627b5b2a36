import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import type { InstrumentationScope, Resource, Span } from '@ariadne/model';
import { emptyResource, emptyScope } from '@ariadne/model';
import { decodeTraceRequestProto } from './decode-proto.js';
import { encodeExportResponseProto, encodeTraceRequestProto, exportResponseJson } from './encode.js';
import { referenceDecode, referenceDecodeResponse } from './reference.js';
import { arbModelSpans, INT64_EXTREMES, referenceToSpans } from './testing.js';

function decodeOk(wire: Uint8Array): Span[] {
  const r = decodeTraceRequestProto(wire);
  if (!r.ok) assert.fail(r.error);
  assert.equal(r.result.rejectedSpans, 0);
  return r.result.spans;
}

function span(name: string, resource: Resource, scope: InstrumentationScope, extra: Partial<Span> = {}): Span {
  return {
    traceId: '0102030405060708090a0b0c0d0e0f10',
    spanId: 'a0a1a2a3a4a5a6a7',
    parentSpanId: '',
    traceState: '',
    flags: 0,
    name,
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: 0, message: '' },
    resource,
    scope,
    service: 'unknown_service',
    ...extra,
  };
}

describe('encodeTraceRequestProto', () => {
  it('round-trips random spans through protobufjs and through our decoder', () => {
    fc.assert(
      fc.property(arbModelSpans, (spans) => {
        const wire = Buffer.from(encodeTraceRequestProto(spans));
        assert.deepStrictEqual(referenceToSpans(referenceDecode(wire)), { spans, rejected: 0 });
        assert.deepStrictEqual(decodeOk(wire), spans);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps resource and scope sharing, grouping interleaved spans by identity', () => {
    const r1 = { ...emptyResource(), attributes: [{ key: 'service.name', value: { stringValue: 'one' } }] };
    const r2 = { ...emptyResource(), attributes: [{ key: 'service.name', value: { stringValue: 'two' } }] };
    const sA = { ...emptyScope(), name: 'a' };
    const sB = { ...emptyScope(), name: 'b' };
    const input = [span('1', r1, sA), span('2', r2, sA), span('3', r1, sB), span('4', r1, sA), span('5', r2, sA)];
    const out = decodeOk(encodeTraceRequestProto(input));
    assert.deepEqual(
      out.map((s) => s.name),
      ['1', '4', '3', '2', '5'],
    );
    const [o1, o4, o3, o2, o5] = out as [Span, Span, Span, Span, Span];
    assert.equal(o1.resource, o4.resource);
    assert.equal(o1.resource, o3.resource);
    assert.equal(o1.scope, o4.scope);
    assert.notEqual(o1.scope, o3.scope);
    assert.equal(o2.resource, o5.resource);
    assert.notEqual(o1.resource, o2.resource);
    assert.deepEqual([o1.service, o2.service], ['one', 'two']);
  });

  it('writes int64 text exactly, including the extremes and non-canonical text', () => {
    const r = emptyResource();
    const s = emptyScope();
    const values = [...INT64_EXTREMES, '-0', '007', '-42'];
    const out = decodeOk(encodeTraceRequestProto([span('x', r, s, { attributes: values.map((intValue, i) => ({ key: `${i}`, value: { intValue } })) })]));
    assert.deepEqual(
      out[0]!.attributes.map((kv) => kv.value.intValue),
      [...INT64_EXTREMES, '0', '7', '-42'],
    );
  });

  it('writes long and non-ASCII strings, large messages and big counts', () => {
    const r = emptyResource();
    const s = emptyScope();
    const long = 'é'.repeat(100_000) + '😀'.repeat(1000);
    const attrs = Array.from({ length: 2000 }, (_, i) => ({ key: `key-${i}`, value: { stringValue: 'v'.repeat(i % 300) } }));
    const input = [span(long, r, s, { attributes: attrs, droppedAttributesCount: 0xffffffff, flags: 0xffffffff, kind: 5, status: { code: 2, message: long } })];
    const out = decodeOk(encodeTraceRequestProto(input));
    assert.deepStrictEqual(out, input);
  });

  it('replaces lone surrogates with U+FFFD, as any UTF-8 encoder must', () => {
    const out = decodeOk(encodeTraceRequestProto([span('a\uD800b', emptyResource(), emptyScope())]));
    assert.equal(out[0]!.name, 'a\uFFFDb');
  });

  it('drops AnyValues nested deeper than the decoder accepts, keeping the request decodable', () => {
    let value = {};
    for (let i = 0; i < 40; i++) value = { arrayValue: { values: [value] } };
    const out = decodeOk(encodeTraceRequestProto([span('deep', emptyResource(), emptyScope(), { attributes: [{ key: 'k', value }] })]));
    let v = out[0]!.attributes[0]!.value;
    let depth = 0;
    while (v.arrayValue) {
      v = v.arrayValue.values[0]!;
      depth++;
    }
    assert.equal(depth, 32);
  });

  it('an empty span list is an empty request', () => {
    assert.equal(encodeTraceRequestProto([]).length, 0);
  });

  it('returns independent buffers across calls', () => {
    const a = encodeTraceRequestProto([span('first', emptyResource(), emptyScope())]);
    const copy = Buffer.from(a);
    encodeTraceRequestProto([span('second', emptyResource(), emptyScope())]);
    assert.deepEqual(Buffer.from(a), copy);
  });
});

describe('export responses', () => {
  it('protobuf: empty message on full success', () => {
    assert.equal(encodeExportResponseProto(0, '').length, 0);
  });

  it('protobuf: partial_success with count and message', () => {
    assert.deepEqual(referenceDecodeResponse(encodeExportResponseProto(2, "2 spans rejected: span 'x': ...")), {
      partialSuccess: { rejectedSpans: '2', errorMessage: "2 spans rejected: span 'x': ..." },
    });
    assert.deepEqual(referenceDecodeResponse(encodeExportResponseProto(0, 'a warning')), { partialSuccess: { errorMessage: 'a warning' } });
    assert.deepEqual(referenceDecodeResponse(encodeExportResponseProto(5_000_000_000, '')), { partialSuccess: { rejectedSpans: '5000000000' } });
    const long = 'ü'.repeat(300);
    assert.deepEqual(referenceDecodeResponse(encodeExportResponseProto(1, long)), { partialSuccess: { rejectedSpans: '1', errorMessage: long } });
  });

  it('JSON: {} on full success, int64 count as a string otherwise', () => {
    assert.deepEqual(exportResponseJson(0, ''), {});
    assert.deepEqual(exportResponseJson(3, 'why'), { partialSuccess: { rejectedSpans: '3', errorMessage: 'why' } });
    assert.deepEqual(exportResponseJson(0, 'warning'), { partialSuccess: { rejectedSpans: '0', errorMessage: 'warning' } });
  });
});
