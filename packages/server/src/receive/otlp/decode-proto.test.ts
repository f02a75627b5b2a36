import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import type { Span } from '@ariadne/model';
import { decodeTraceRequestProto, MAX_ANY_VALUE_DEPTH } from './decode-proto.js';
import { encodeTraceRequestProto } from './encode.js';
import { referenceDecode, referenceEncode } from './reference.js';
import { arbRefRequest, INT64_EXTREMES, referenceToSpans } from './testing.js';
import type { DecodeOutcome } from './result.js';
import { buf, bytes, fixed32, fixed64, key, msg, str, vint, varint, PARENT, SPAN, TRACE, type Bytes, truncationPayload } from './wire-fuzz.js';

// hand-made payloads: the tiny protobuf writer of wire-fuzz.ts

const TRACE_HEX = Buffer.from(TRACE).toString('hex');
const SPAN_HEX = Buffer.from(SPAN).toString('hex');

/** request { resource_spans { scope_spans { spans... } } } */
const request = (...spans: Bytes[]): Uint8Array => buf(msg(1, msg(2, ...spans.map((s) => msg(2, s)))));
const spanBody = (name: string, traceId: Bytes = TRACE, spanId: Bytes = SPAN, ...rest: Bytes[]): Bytes =>
  [bytes(1, traceId), bytes(2, spanId), str(5, name), ...rest].flat();

function ok(outcome: DecodeOutcome) {
  if (!outcome.ok) assert.fail(`expected ok, got error: ${outcome.error}`);
  return outcome.result;
}
function err(outcome: DecodeOutcome): string {
  if (outcome.ok) assert.fail('expected a decode error');
  return outcome.error;
}

describe('decodeTraceRequestProto: agrees with protobufjs', () => {
  it('on random requests, including invalid ids, unknown enum values and lone surrogates', () => {
    fc.assert(
      fc.property(arbRefRequest, (obj) => {
        const wire = Buffer.from(referenceEncode(obj));
        const expected = referenceToSpans(referenceDecode(wire));
        const r = ok(decodeTraceRequestProto(wire));
        assert.deepStrictEqual(r.spans, expected.spans);
        assert.equal(r.rejectedSpans, expected.rejected);
        assert.equal(r.errorMessage === '', expected.rejected === 0);
      }),
      { numRuns: 400 },
    );
  });

  it('on int64 extremes, unicode, NaN/Infinity, bytes and nested values', () => {
    const values = [
      ...INT64_EXTREMES.map((intValue) => ({ intValue })),
      { stringValue: '' },
      { stringValue: 'héllo wörld, 日本語のテキスト, emoji 😀🎉👩‍👩‍👧' },
      { stringValue: 'ascii but longer than the short-string fast path' },
      { stringValue: 'lone \uD800 high and \uDC00 low' },
      { doubleValue: NaN },
      { doubleValue: Infinity },
      { doubleValue: -Infinity },
      { doubleValue: -0 },
      { doubleValue: 5e-324 },
      { boolValue: false },
      { boolValue: true },
      { bytesValue: new Uint8Array([0, 255, 1, 254]) },
      { bytesValue: new Uint8Array(0) },
      { arrayValue: { values: [] } },
      { arrayValue: { values: [{ intValue: '-1' }, { arrayValue: { values: [{ kvlistValue: { values: [{ key: 'k', value: { boolValue: true } }] } }] } }] } },
      { kvlistValue: { values: [{ key: '', value: {} }, { key: 'n', value: { doubleValue: 1.5 } }] } },
      {},
    ];
    const obj = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }], droppedAttributesCount: 3 },
          schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
          scopeSpans: [
            {
              scope: { name: 'lib', version: '1.0', attributes: [{ key: 'a', value: { intValue: '1' } }], droppedAttributesCount: 1 },
              schemaUrl: 'scope-schema',
              spans: [
                {
                  traceId: Uint8Array.from(TRACE),
                  spanId: Uint8Array.from(SPAN),
                  parentSpanId: Uint8Array.from(PARENT),
                  traceState: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
                  flags: 0x301,
                  name: 'GET /x',
                  kind: 2,
                  startTimeUnixNano: '18446744073709551615',
                  endTimeUnixNano: '1731000000123456789',
                  attributes: values.map((value, i) => ({ key: `k${i}`, value })),
                  droppedAttributesCount: 4,
                  events: [{ timeUnixNano: '9223372036854775808', name: 'ev', attributes: [{ key: 'e', value: { stringValue: 'x' } }], droppedAttributesCount: 5 }],
                  droppedEventsCount: 6,
                  links: [{ traceId: Uint8Array.from(TRACE), spanId: Uint8Array.from(PARENT), traceState: 'ts', flags: 0x100, droppedAttributesCount: 7 }],
                  droppedLinksCount: 8,
                  status: { code: 2, message: 'boom' },
                },
              ],
            },
          ],
        },
      ],
    };
    const wire = Buffer.from(referenceEncode(obj));
    const r = ok(decodeTraceRequestProto(wire));
    assert.deepStrictEqual(r.spans, referenceToSpans(referenceDecode(wire)).spans);
    const s = r.spans[0]!;
    assert.deepStrictEqual(
      s.attributes.slice(0, INT64_EXTREMES.length).map((kv) => kv.value.intValue),
      INT64_EXTREMES,
    );
    assert.equal(s.startTimeUnixNano, 2n ** 64n - 1n);
    assert.equal(s.events[0]!.timeUnixNano, 2n ** 63n);
    assert.equal(s.parentSpanId, Buffer.from(PARENT).toString('hex'));
    assert.equal(s.flags, 0x301);
    assert.equal(s.service, 'svc');
    assert.equal(s.resource.schemaUrl, 'https://opentelemetry.io/schemas/1.26.0');
    assert.equal(s.scope.schemaUrl, 'scope-schema');
    const byKey = new Map(s.attributes.map((kv) => [kv.key, kv.value]));
    assert.ok(Object.is(byKey.get(`k${INT64_EXTREMES.length + 7}`)!.doubleValue, -0));
    assert.equal(byKey.get(`k${INT64_EXTREMES.length + 11}`)!.bytesValue, 'AP8B/g==');
  });
});

describe('decodeTraceRequestProto: shape of the result', () => {
  it('shares one resource per ResourceSpans and one scope per ScopeSpans', () => {
    const wire = buf(
      msg(
        1,
        msg(2, msg(1, str(1, 'scope-a')), msg(2, spanBody('a1')), msg(2, spanBody('a2'))),
        msg(2, msg(1, str(1, 'scope-b')), msg(2, spanBody('b1'))),
      ),
      msg(1, msg(2, msg(2, spanBody('c1')))),
    );
    const [a1, a2, b1, c1] = ok(decodeTraceRequestProto(wire)).spans as [Span, Span, Span, Span];
    assert.equal(a1.resource, a2.resource);
    assert.equal(a1.resource, b1.resource);
    assert.notEqual(a1.resource, c1.resource);
    assert.equal(a1.scope, a2.scope);
    assert.notEqual(a1.scope, b1.scope);
    assert.equal(a1.scope.name, 'scope-a');
    assert.equal(b1.scope.name, 'scope-b');
    assert.equal(c1.scope.name, '');
  });

  it('takes the service from a resource sent after the spans, and defaults it', () => {
    // Field order on the wire is free: schema_url, scope_spans, then resource.
    const wire = buf(
      msg(1, str(3, 'schema'), msg(2, msg(2, spanBody('late'))), msg(1, msg(1, str(1, 'service.name'), msg(2, str(1, 'late-svc'))))),
      msg(1, msg(2, msg(2, spanBody('none')))),
    );
    const [late, none] = ok(decodeTraceRequestProto(wire)).spans as [Span, Span];
    assert.equal(late.service, 'late-svc');
    assert.equal(late.resource.schemaUrl, 'schema');
    assert.equal(none.service, 'unknown_service');
  });

  it('merges a repeated resource message, and the last scalar wins', () => {
    const attr = (k: string) => msg(1, str(1, k), msg(2, str(1, 'v')));
    const wire = buf(msg(1, msg(1, attr('a'), vint(2, 1)), msg(1, attr('b'), vint(2, 2)), msg(2, msg(2, spanBody('s', TRACE, SPAN, str(5, 'renamed'))))));
    const [s] = ok(decodeTraceRequestProto(wire)).spans as [Span];
    assert.deepEqual(s.resource.attributes.map((kv) => kv.key), ['a', 'b']);
    assert.equal(s.resource.droppedAttributesCount, 2);
    assert.equal(s.name, 'renamed');
  });

  it('decodes a Uint8Array view with an offset into a larger buffer', () => {
    const wire = request(spanBody('offset'));
    const big = new Uint8Array(wire.length + 10);
    big.set(wire, 7);
    const r = ok(decodeTraceRequestProto(big.subarray(7, 7 + wire.length)));
    assert.equal(r.spans[0]!.name, 'offset');
    assert.equal(r.spans[0]!.traceId, TRACE_HEX);
  });

  it('empty input is an empty request', () => {
    assert.deepEqual(ok(decodeTraceRequestProto(new Uint8Array(0))), { spans: [], rejectedSpans: 0, errorMessage: '' });
  });

  it('skips unknown fields of every wire type at every level', () => {
    const unknown = [...vint(99, 123456789n), ...fixed64(98, 1n), ...str(97, 'skip me'), ...fixed32(96, 7)];
    const kvWith = (extra: Bytes) => msg(9, str(1, 'k'), msg(2, str(1, 'v'), extra), extra);
    const plain = buf(msg(1, msg(1, msg(1, str(1, 'service.name'), msg(2, str(1, 's')))), msg(2, msg(1, str(1, 'scope')), msg(2, spanBody('x', TRACE, SPAN, kvWith([]), msg(15, vint(3, 2)), msg(11, str(2, 'ev')), msg(13, bytes(1, TRACE)))))));
    const noisy = buf(
      unknown,
      msg(
        1,
        unknown,
        msg(1, unknown, msg(1, str(1, 'service.name'), msg(2, str(1, 's'), unknown), unknown), msg(3, str(1, 'entity ref, skipped'))),
        msg(2, unknown, msg(1, str(1, 'scope'), unknown), msg(2, spanBody('x', TRACE, SPAN, kvWith(unknown), msg(15, vint(3, 2), unknown), msg(11, str(2, 'ev'), unknown), msg(13, bytes(1, TRACE), unknown), unknown))),
      ),
    );
    assert.deepStrictEqual(ok(decodeTraceRequestProto(noisy)), ok(decodeTraceRequestProto(plain)));
  });

  it('reads varints padded with redundant continuation bytes', () => {
    // kind = 2 written as a 3-byte varint; dropped_events_count as 10 bytes
    const wire = request(spanBody('pad', TRACE, SPAN, [...key(6, 0), 0x82, 0x80, 0x00], [...key(12, 0), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]));
    const [s] = ok(decodeTraceRequestProto(wire)).spans as [Span];
    assert.equal(s.kind, 2);
    assert.equal(s.droppedEventsCount, 0xffffffff); // uint32: the low 32 bits
  });
});

describe('decodeTraceRequestProto: partial success', () => {
  it('keeps the valid spans, rejects and explains the invalid ones', () => {
    const zero16 = new Array(16).fill(0);
    const zero8 = new Array(8).fill(0);
    const wire = request(
      spanBody('good-1'),
      spanBody('no-trace-id', []),
      spanBody('zero-trace-id', zero16),
      spanBody('short-span-id', TRACE, [1, 2, 3]),
      spanBody('zero-span-id', TRACE, zero8),
      spanBody('bad-parent', TRACE, SPAN, bytes(4, [1, 2, 3, 4, 5])),
      spanBody('zero-parent', TRACE, SPAN, bytes(4, zero8)),
      spanBody('good-2', TRACE, SPAN, bytes(4, PARENT)),
    );
    const r = ok(decodeTraceRequestProto(wire));
    assert.deepEqual(
      r.spans.map((s) => [s.name, s.parentSpanId]),
      [
        ['good-1', ''],
        ['zero-parent', ''],
        ['good-2', Buffer.from(PARENT).toString('hex')],
      ],
    );
    assert.equal(r.rejectedSpans, 5);
    assert.equal(
      r.errorMessage,
      "5 spans rejected: span 'no-trace-id': trace_id must be 16 bytes and not all zero (got 0 bytes); " +
        "span 'zero-trace-id': trace_id must be 16 bytes and not all zero (got all zero bytes); " +
        "span 'short-span-id': span_id must be 8 bytes and not all zero (got 3 bytes); " +
        "span 'zero-span-id': span_id must be 8 bytes and not all zero (got all zero bytes); " +
        "span 'bad-parent': parent_span_id must be empty or 8 bytes (got 5 bytes)",
    );
  });

  it('caps the message at 10 reasons', () => {
    const spans = Array.from({ length: 15 }, (_, i) => spanBody(`bad-${i}`, []));
    const r = ok(decodeTraceRequestProto(request(spanBody('good'), ...spans)));
    assert.equal(r.spans.length, 1);
    assert.equal(r.rejectedSpans, 15);
    assert.match(r.errorMessage, /^15 spans rejected: span 'bad-0': .*span 'bad-9': [^;]*; and 5 more$/);
    assert.doesNotMatch(r.errorMessage, /bad-10/);
  });

  it('a later valid id overrides an earlier invalid one (last field wins)', () => {
    const r = ok(decodeTraceRequestProto(request([...bytes(1, []), ...spanBody('twice')])));
    assert.equal(r.rejectedSpans, 0);
    assert.equal(r.spans[0]!.traceId, TRACE_HEX);
  });
});

describe('decodeTraceRequestProto: malformed input', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['tag without its length', buf([0x0a]), /^truncated varint at offset 1$/],
    ['length beyond the input', buf([0x0a, 0x05, 1, 2]), /^length 5 at offset 1 runs past the end of the input \(2 bytes left\)$/],
    ['length beyond the enclosing message', buf(msg(1, [...key(2, 2), 50, 1, 2]), msg(1, [])), /^length 50 at offset 3 runs past the end of the enclosing message \(2 bytes left\)$/],
    ['length too large for 31 bits', buf([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), /^length at offset 1 is too large$/],
    ['varint longer than 10 bytes', buf([...key(20, 0), ...new Array(10).fill(0xff), 0x01]), /^malformed varint at offset 2: longer than 10 bytes$/],
    ['start group wire type', buf([0x0b]), /unsupported group \(wire type 3\) in field 1 of ExportTraceServiceRequest at offset 0/],
    ['end group wire type', buf([0x7c]), /unsupported group \(wire type 4\) in field 15/],
    ['wire type 6', buf([0x0e]), /^invalid wire type 6 in field 1 of ExportTraceServiceRequest at offset 0$/],
    ['field number 0', buf([0x02, 0x00]), /^invalid field number 0 in ExportTraceServiceRequest at offset 0$/],
    ['known field with the wrong wire type', buf([0x08, 0x01]), /^ExportTraceServiceRequest\.resource_spans \(field 1\) at offset 0 has wire type 0 \(VARINT\), expected 2 \(LEN\)$/],
    ['span time as a varint', request(spanBody('x', TRACE, SPAN, vint(7, 5))), /^Span\.start_time_unix_nano \(field 7\) at offset \d+ has wire type 0 \(VARINT\), expected 1 \(I64\)$/],
    ['truncated fixed64 inside a span', request([...spanBody('x'), ...key(7, 1), 1, 2, 3]), /^truncated fixed64 start_time_unix_nano at offset \d+$/],
    ['truncated fixed32 flags', request([...spanBody('x'), ...key(16, 5), 1, 2]), /^truncated fixed32 flags at offset \d+$/],
    ['varint running past its message', buf(msg(1, msg(2, msg(2, [...key(6, 0)]), [0x01]))), /runs past the end of its Span message/],
    ['unknown fixed64 truncated', buf([...key(20, 1), 1, 2]), /^truncated fixed64 field 20 of ExportTraceServiceRequest at offset 2$/],
    ['text', buf([...Buffer.from('this is not protobuf at all')]), /wire type|group|length|truncated/],
  ];
  for (const [name, wire, expected] of cases) {
    it(name, () => assert.match(err(decodeTraceRequestProto(wire)), expected));
  }

  it('refuses a non-byte input without throwing', () => {
    assert.match(err(decodeTraceRequestProto('abc' as unknown as Uint8Array)), /not a byte array/);
    assert.match(err(decodeTraceRequestProto(null as unknown as Uint8Array)), /not a byte array/);
  });

  function nested(levels: number): Uint8Array {
    // attribute value: array_value { values: array_value { ... { string_value } } }
    let value: Bytes = str(1, 'leaf');
    for (let i = 0; i < levels; i++) value = msg(5, msg(1, value));
    return request(spanBody('deep', TRACE, SPAN, msg(9, str(1, 'k'), msg(2, value))));
  }

  it(`accepts AnyValue nesting up to ${MAX_ANY_VALUE_DEPTH} levels, refuses deeper`, () => {
    const r = ok(decodeTraceRequestProto(nested(MAX_ANY_VALUE_DEPTH)));
    let v = r.spans[0]!.attributes[0]!.value;
    for (let i = 0; i < MAX_ANY_VALUE_DEPTH; i++) v = v.arrayValue!.values[0]!;
    assert.deepEqual(v, { stringValue: 'leaf' });
    assert.match(err(decodeTraceRequestProto(nested(MAX_ANY_VALUE_DEPTH + 1))), /^AnyValue nested deeper than 32 levels at offset \d+$/);
  });

  it('survives hostile nesting (100k levels of kvlists) without a stack overflow', () => {
    // Built back to front into one buffer: each level is kvlist_value{ values{ key, value{ ... } } }.
    const levels = 100_000;
    const parts: Bytes[] = [];
    let inner: Bytes = str(1, 'x');
    for (let i = 0; i < 200; i++) inner = msg(6, msg(1, str(1, 'k'), msg(2, inner)));
    parts.push(inner);
    // Past a few hundred levels the exact structure no longer matters: the
    // decoder must stop at level 33. Pad the rest with more of the same prefix.
    const prefix = [...key(6, 2), 0xff, 0xff, 0x7f];
    const deep = buf(...new Array(levels).fill(prefix), ...parts);
    const e = err(decodeTraceRequestProto(buf(msg(1, msg(2, msg(2, spanBody('x', TRACE, SPAN, [...key(9, 2), ...varint(deep.length), ...deep])))))));
    assert.match(e, /nested deeper|runs past|wire type/);
  });

  it('truncation at every offset: an error or a prefix of the spans, never a throw', () => {
    const wire = Buffer.from(truncationPayload());
    const full = ok(decodeTraceRequestProto(wire)).spans;
    assert.equal(full.length, 4);
    let prefixes = 0;
    for (let cut = 0; cut < wire.length; cut++) {
      const outcome = decodeTraceRequestProto(wire.subarray(0, cut));
      if (outcome.ok) {
        prefixes++;
        assert.deepStrictEqual(outcome.result.spans, full.slice(0, outcome.result.spans.length), `cut at ${cut}`);
      } else {
        assert.ok(outcome.error.length > 0);
      }
    }
    assert.equal(prefixes, 2); // at 0 and between the two ResourceSpans
  });

  it('random corruption never throws and never yields an invalid span', () => {
    const original = request(spanBody('a'), spanBody('b', TRACE, SPAN, msg(9, str(1, 'k'), msg(2, vint(3, -1)))));
    const base = Buffer.from(encodeTraceRequestProto(ok(decodeTraceRequestProto(original)).spans));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), { minLength: 1, maxLength: 4 }),
        (edits) => {
          const b = [...base];
          for (const [at, v, op] of edits) {
            const i = Math.min(at, b.length);
            if (op === 'set') b[i] = v;
            else if (op === 'insert') b.splice(i, 0, v);
            else b.splice(i, 1);
          }
          const outcome = decodeTraceRequestProto(Uint8Array.from(b));
          if (outcome.ok) {
            for (const s of outcome.result.spans) {
              assert.match(s.traceId, /^[0-9a-f]{32}$/);
              assert.match(s.spanId, /^[0-9a-f]{16}$/);
              assert.match(s.parentSpanId, /^([0-9a-f]{16})?$/);
            }
          } else assert.equal(typeof outcome.error, 'string');
        },
      ),
      { numRuns: 2000 },
    );
  });
});
