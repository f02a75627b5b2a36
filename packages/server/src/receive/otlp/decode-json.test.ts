import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import type { Span } from '@ariadne/model';
import { decodeTraceRequestJson } from './decode-json.js';
import type { DecodeOutcome, DecodeResult } from './result.js';
import { arbModelSpans, spansToOtlpJson } from './testing.js';

const TRACE = '5b8efff798038103d269b633813fc60c';
const SPAN = 'eee19b7ec3c1b174';
const PARENT = 'eee19b7ec3c1b173';

function ok(outcome: DecodeOutcome): DecodeResult {
  if (!outcome.ok) assert.fail(`expected ok, got error: ${outcome.error}`);
  return outcome.result;
}
function err(outcome: DecodeOutcome): string {
  if (outcome.ok) assert.fail('expected a decode error');
  return outcome.error;
}
/** A request with one resource and one scope holding `spans`. */
const req = (...spans: object[]) => JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] });
const one = (span: object): Span => {
  const r = ok(decodeTraceRequestJson(req({ traceId: TRACE, spanId: SPAN, name: 'x', ...span })));
  assert.equal(r.rejectedSpans, 0, r.errorMessage);
  return r.spans[0]!;
};
const attr = (value: unknown): Span['attributes'][number]['value'] => one({ attributes: [{ key: 'k', value }] }).attributes[0]!.value;

describe('decodeTraceRequestJson: the OTLP/JSON mapping', () => {
  it('decodes every field of a full request', () => {
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }], droppedAttributesCount: 1 },
          schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
          scopeSpans: [
            {
              scope: { name: 'lib', version: '1.2', attributes: [{ key: 'a', value: { boolValue: true } }], droppedAttributesCount: 2 },
              schemaUrl: 'scope-schema',
              spans: [
                {
                  traceId: TRACE,
                  spanId: SPAN,
                  parentSpanId: PARENT,
                  traceState: 'rojo=00f067aa0ba902b7',
                  flags: 769,
                  name: 'GET /orders',
                  kind: 2,
                  startTimeUnixNano: '1731000000000000001',
                  endTimeUnixNano: '18446744073709551615',
                  attributes: [
                    { key: 's', value: { stringValue: 'héllo 😀' } },
                    { key: 'i', value: { intValue: '-9223372036854775808' } },
                    { key: 'd', value: { doubleValue: 1.5 } },
                    { key: 'b', value: { bytesValue: 'AP8B/g==' } },
                    { key: 'a', value: { arrayValue: { values: [{ intValue: '1' }, { kvlistValue: { values: [{ key: 'n', value: {} }] } }] } } },
                  ],
                  droppedAttributesCount: 3,
                  events: [{ timeUnixNano: '1731000000000000002', name: 'ev', attributes: [{ key: 'e', value: { stringValue: 'v' } }], droppedAttributesCount: 4 }],
                  droppedEventsCount: 5,
                  links: [{ traceId: TRACE, spanId: PARENT, traceState: 'ts', attributes: [], droppedAttributesCount: 6, flags: 256 }],
                  droppedLinksCount: 7,
                  status: { code: 2, message: 'boom' },
                },
              ],
            },
          ],
        },
      ],
    };
    const r = ok(decodeTraceRequestJson(JSON.stringify(body)));
    const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }], droppedAttributesCount: 1, schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' };
    const scope = { name: 'lib', version: '1.2', attributes: [{ key: 'a', value: { boolValue: true } }], droppedAttributesCount: 2, schemaUrl: 'scope-schema' };
    assert.deepStrictEqual(r, {
      spans: [
        {
          traceId: TRACE,
          spanId: SPAN,
          parentSpanId: PARENT,
          traceState: 'rojo=00f067aa0ba902b7',
          flags: 769,
          name: 'GET /orders',
          kind: 2,
          startTimeUnixNano: 1731000000000000001n,
          endTimeUnixNano: 18446744073709551615n,
          attributes: [
            { key: 's', value: { stringValue: 'héllo 😀' } },
            { key: 'i', value: { intValue: '-9223372036854775808' } },
            { key: 'd', value: { doubleValue: 1.5 } },
            { key: 'b', value: { bytesValue: 'AP8B/g==' } },
            { key: 'a', value: { arrayValue: { values: [{ intValue: '1' }, { kvlistValue: { values: [{ key: 'n', value: {} }] } }] } } },
          ],
          droppedAttributesCount: 3,
          events: [{ timeUnixNano: 1731000000000000002n, name: 'ev', attributes: [{ key: 'e', value: { stringValue: 'v' } }], droppedAttributesCount: 4 }],
          droppedEventsCount: 5,
          links: [{ traceId: TRACE, spanId: PARENT, traceState: 'ts', attributes: [], droppedAttributesCount: 6, flags: 256 }],
          droppedLinksCount: 7,
          status: { code: 2, message: 'boom' },
          resource,
          scope,
          service: 'checkout',
        },
      ],
      rejectedSpans: 0,
      errorMessage: '',
    });
  });

  it('accepts uppercase hex ids and stores them lowercase', () => {
    const s = one({ traceId: TRACE.toUpperCase(), spanId: SPAN.toUpperCase(), parentSpanId: 'EEE19B7EC3C1B173', links: [{ traceId: 'ABCDEF', spanId: 'AB' }] });
    assert.deepEqual([s.traceId, s.spanId, s.parentSpanId, s.links[0]!.traceId, s.links[0]!.spanId], [TRACE, SPAN, PARENT, 'abcdef', 'ab']);
  });

  it('accepts the proto (snake_case) field names', () => {
    const body = {
      resource_spans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { string_value: 'snake' } }], dropped_attributes_count: 1 },
          schema_url: 'r',
          scope_spans: [
            {
              scope: { name: 'lib', dropped_attributes_count: 2 },
              schema_url: 's',
              spans: [
                {
                  trace_id: TRACE,
                  span_id: SPAN,
                  parent_span_id: PARENT,
                  trace_state: 'ts',
                  start_time_unix_nano: '1',
                  end_time_unix_nano: '2',
                  attributes: [
                    { key: 'i', value: { int_value: '5' } },
                    { key: 'b', value: { bool_value: false } },
                    { key: 'd', value: { double_value: 2.5 } },
                    { key: 'y', value: { bytes_value: 'AQ==' } },
                    { key: 'a', value: { array_value: { values: [{ string_value: 'x' }] } } },
                    { key: 'k', value: { kvlist_value: { values: [{ key: 'z', value: { int_value: 1 } }] } } },
                  ],
                  dropped_attributes_count: 3,
                  events: [{ time_unix_nano: '3', name: 'e', dropped_attributes_count: 4 }],
                  dropped_events_count: 5,
                  links: [{ trace_id: TRACE, span_id: SPAN, trace_state: 'lt', dropped_attributes_count: 6 }],
                  dropped_links_count: 7,
                },
              ],
            },
          ],
        },
      ],
    };
    const [s] = ok(decodeTraceRequestJson(JSON.stringify(body))).spans as [Span];
    assert.equal(s.service, 'snake');
    assert.deepEqual([s.resource.droppedAttributesCount, s.resource.schemaUrl, s.scope.droppedAttributesCount, s.scope.schemaUrl], [1, 'r', 2, 's']);
    assert.deepEqual([s.traceId, s.spanId, s.parentSpanId, s.traceState], [TRACE, SPAN, PARENT, 'ts']);
    assert.deepEqual([s.startTimeUnixNano, s.endTimeUnixNano, s.droppedAttributesCount, s.droppedEventsCount, s.droppedLinksCount], [1n, 2n, 3, 5, 7]);
    assert.deepEqual(s.attributes, [
      { key: 'i', value: { intValue: '5' } },
      { key: 'b', value: { boolValue: false } },
      { key: 'd', value: { doubleValue: 2.5 } },
      { key: 'y', value: { bytesValue: 'AQ==' } },
      { key: 'a', value: { arrayValue: { values: [{ stringValue: 'x' }] } } },
      { key: 'k', value: { kvlistValue: { values: [{ key: 'z', value: { intValue: '1' } }] } } },
    ]);
    assert.deepEqual(s.events, [{ timeUnixNano: 3n, name: 'e', attributes: [], droppedAttributesCount: 4 }]);
    assert.deepEqual(s.links, [{ traceId: TRACE, spanId: SPAN, traceState: 'lt', attributes: [], droppedAttributesCount: 6, flags: 0 }]);
  });

  const enums: [object, number, number][] = [
    [{ kind: 'SPAN_KIND_UNSPECIFIED' }, 0, 0],
    [{ kind: 'SPAN_KIND_INTERNAL' }, 1, 0],
    [{ kind: 'SPAN_KIND_SERVER', status: { code: 'STATUS_CODE_ERROR' } }, 2, 2],
    [{ kind: 'SPAN_KIND_CLIENT', status: { code: 'STATUS_CODE_OK' } }, 3, 1],
    [{ kind: 'SPAN_KIND_PRODUCER', status: { code: 'STATUS_CODE_UNSET' } }, 4, 0],
    [{ kind: 'SPAN_KIND_CONSUMER', status: { code: 1 } }, 5, 1],
    [{ kind: 9, status: { code: 7 } }, 9, 7], // open enums: unknown numbers pass through
  ];
  for (const [fields, kind, code] of enums) {
    it(`enum ${JSON.stringify(fields)}`, () => {
      const s = one(fields);
      assert.deepEqual([s.kind, s.status.code], [kind, code]);
    });
  }

  const ints: [unknown, string][] = [
    ['123', '123'],
    [123, '123'],
    [-5, '-5'],
    ['-9223372036854775808', '-9223372036854775808'],
    ['9223372036854775807', '9223372036854775807'],
    [9007199254740991, '9007199254740991'],
    [2 ** 62, '4611686018427387904'],
    ['007', '7'],
    ['-0', '0'],
    ['+12', '12'],
    [-0, '0'],
  ];
  for (const [input, expected] of ints) {
    it(`intValue ${JSON.stringify(input)} -> "${expected}"`, () => assert.deepEqual(attr({ intValue: input }), { intValue: expected }));
  }

  it('timestamps as strings or numbers', () => {
    const s = one({ startTimeUnixNano: 1731000000000, endTimeUnixNano: '1731000000000000000', events: [{ timeUnixNano: 0 }] });
    assert.deepEqual([s.startTimeUnixNano, s.endTimeUnixNano, s.events[0]!.timeUnixNano], [1731000000000n, 1731000000000000000n, 0n]);
  });

  it('doubles as numbers or the special strings', () => {
    assert.ok(Number.isNaN(attr({ doubleValue: 'NaN' }).doubleValue));
    assert.equal(attr({ doubleValue: 'Infinity' }).doubleValue, Infinity);
    assert.equal(attr({ doubleValue: '-Infinity' }).doubleValue, -Infinity);
    assert.equal(attr({ doubleValue: '2.5e3' }).doubleValue, 2500);
    assert.equal(attr({ doubleValue: 0.1 }).doubleValue, 0.1);
    assert.equal(attr({ doubleValue: 7 }).doubleValue, 7);
  });

  it('bytes: standard, URL-safe or unpadded base64, normalised to standard padded', () => {
    assert.deepEqual(attr({ bytesValue: 'AP8B/g==' }), { bytesValue: 'AP8B/g==' });
    assert.deepEqual(attr({ bytesValue: 'AP8B_g' }), { bytesValue: 'AP8B/g==' });
    assert.deepEqual(attr({ bytesValue: '' }), { bytesValue: '' });
  });

  it('empty and null values', () => {
    assert.deepEqual(attr({}), {});
    assert.deepEqual(attr(null), {});
    assert.deepEqual(one({ attributes: [{ key: 'k' }] }).attributes, [{ key: 'k', value: {} }]);
    assert.deepEqual(attr({ stringValue: '' }), { stringValue: '' });
    assert.deepEqual(attr({ arrayValue: {} }), { arrayValue: { values: [] } });
    assert.deepEqual(attr({ arrayValue: { values: [null] } }), { arrayValue: { values: [{}] } });
    const s = one({ attributes: null, events: null, links: null, status: null, traceState: null, kind: null });
    assert.deepEqual([s.attributes, s.events, s.links, s.status, s.traceState, s.kind], [[], [], [], { code: 0, message: '' }, '', 0]);
  });

  it('ignores unknown fields at every level', () => {
    const x = { futureField: { deep: [1, 2] }, other: 'x' };
    const body = {
      ...x,
      resourceSpans: [
        { ...x, resource: { ...x, attributes: [{ ...x, key: 'service.name', value: { ...x, stringValue: 's' } }] }, scopeSpans: [{ ...x, scope: { ...x, name: 'n' }, spans: [{ ...x, traceId: TRACE, spanId: SPAN, status: { ...x, code: 1 }, events: [{ ...x, name: 'e' }], links: [{ ...x, traceId: TRACE }] }] }] },
      ],
    };
    const [s] = ok(decodeTraceRequestJson(JSON.stringify(body))).spans as [Span];
    assert.deepEqual([s.service, s.scope.name, s.status.code, s.events[0]!.name, s.links[0]!.traceId], ['s', 'n', 1, 'e', TRACE]);
  });

  it('takes UTF-8 bytes, with or without a BOM', () => {
    const text = req({ traceId: TRACE, spanId: SPAN, name: 'naïve 😀' });
    assert.equal(ok(decodeTraceRequestJson(Buffer.from(text))).spans[0]!.name, 'naïve 😀');
    assert.equal(ok(decodeTraceRequestJson(Buffer.from('\uFEFF' + text))).spans[0]!.name, 'naïve 😀');
    assert.equal(ok(decodeTraceRequestJson('\uFEFF' + text)).spans.length, 1);
  });

  it('empty requests', () => {
    for (const body of ['{}', '{"resourceSpans":[]}', '{"resourceSpans":null}', '{"resourceSpans":[{}]}', '{"resourceSpans":[{"scopeSpans":[{}]}]}']) {
      assert.deepEqual(ok(decodeTraceRequestJson(body)), { spans: [], rejectedSpans: 0, errorMessage: '' }, body);
    }
  });

  it('spans of one resource share it, and one scope per ScopeSpans', () => {
    const body = { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: TRACE, spanId: SPAN }, { traceId: TRACE, spanId: PARENT }] }, { spans: [{ traceId: TRACE, spanId: SPAN }] }] }] };
    const [a, b, c] = ok(decodeTraceRequestJson(JSON.stringify(body))).spans as [Span, Span, Span];
    assert.equal(a.resource, b.resource);
    assert.equal(a.resource, c.resource);
    assert.equal(a.scope, b.scope);
    assert.notEqual(a.scope, c.scope);
    assert.equal(a.service, 'unknown_service');
  });
});

describe('decodeTraceRequestJson: partial success', () => {
  it('rejects spans with empty, malformed or all-zero ids; keeps the rest', () => {
    const r = ok(
      decodeTraceRequestJson(
        req(
          { traceId: TRACE, spanId: SPAN, name: 'good' },
          { traceId: '', spanId: SPAN, name: 'empty-trace' },
          { traceId: TRACE, spanId: '', name: 'empty-span' },
          { spanId: SPAN, name: 'missing-trace' },
          { traceId: '0'.repeat(32), spanId: SPAN, name: 'zero-trace' },
          { traceId: TRACE, spanId: '0'.repeat(16), name: 'zero-span' },
          { traceId: 'W46P95gDgQPSabYzgT/GDA==', spanId: SPAN, name: 'base64-trace' },
          { traceId: TRACE, spanId: SPAN, parentSpanId: 'abc', name: 'bad-parent' },
          { traceId: TRACE, spanId: SPAN, parentSpanId: '', name: 'empty-parent' },
          { traceId: TRACE, spanId: SPAN, parentSpanId: '0'.repeat(16), name: 'zero-parent' },
          { traceId: TRACE, spanId: SPAN, links: [{ traceId: 'xyz' }], name: 'bad-link' },
        ),
      ),
    );
    assert.deepEqual(
      r.spans.map((s) => [s.name, s.parentSpanId]),
      [
        ['good', ''],
        ['empty-parent', ''],
        ['zero-parent', ''],
      ],
    );
    assert.equal(r.rejectedSpans, 8);
    assert.equal(
      r.errorMessage,
      "8 spans rejected: span 'empty-trace': trace_id must be 32 hex characters and not all zero (got \"\"); " +
        "span 'empty-span': span_id must be 16 hex characters and not all zero (got \"\"); " +
        "span 'missing-trace': trace_id must be 32 hex characters and not all zero (got \"\"); " +
        "span 'zero-trace': trace_id must be 32 hex characters and not all zero (got \"00000000000000000000000000000000\"); " +
        "span 'zero-span': span_id must be 16 hex characters and not all zero (got \"0000000000000000\"); " +
        "span 'base64-trace': trace_id must be 32 hex characters and not all zero (got \"W46P95gDgQPSabYzgT/GDA==\"); " +
        "span 'bad-parent': parent_span_id must be empty or 16 hex characters (got \"abc\"); " +
        "span 'bad-link': links[0].trace_id must be hex (got \"xyz\")",
    );
  });
});

describe('decodeTraceRequestJson: refused requests name the path', () => {
  const deep = (levels: number) => {
    let v: object = { stringValue: 'leaf' };
    for (let i = 0; i < levels; i++) v = { arrayValue: { values: [v] } };
    return v;
  };
  const span = (fields: object) => req({ traceId: TRACE, spanId: SPAN, ...fields });
  const cases: [string, string, string | RegExp][] = [
    ['invalid JSON', '{"resourceSpans": [', /^invalid JSON: /],
    ['empty body', '', /^invalid JSON: /],
    ['top level array', '[]', '(root): expected an ExportTraceServiceRequest object, got an array'],
    ['top level null', 'null', '(root): expected an ExportTraceServiceRequest object, got null'],
    ['top level string', '"x"', '(root): expected an ExportTraceServiceRequest object, got string "x"'],
    ['resourceSpans not an array', '{"resourceSpans":{}}', 'resourceSpans: expected an array, got an object'],
    ['scopeSpans a number', '{"resourceSpans":[{"scopeSpans":5}]}', 'resourceSpans[0].scopeSpans: expected an array, got number 5'],
    ['resource a string', '{"resourceSpans":[{"resource":"x"}]}', 'resourceSpans[0].resource: expected a Resource object, got string "x"'],
    ['span not an object', '{"resourceSpans":[{"scopeSpans":[{"spans":[1]}]}]}', 'resourceSpans[0].scopeSpans[0].spans[0]: expected a Span object, got number 1'],
    [
      'bad start time deep in the request',
      JSON.stringify({ resourceSpans: [{ scopeSpans: [{}, { spans: [{}, {}, {}, { startTimeUnixNano: '12x' }] }] }] }),
      'resourceSpans[0].scopeSpans[1].spans[3].startTimeUnixNano: expected an unsigned integer string (uint64), got string "12x"',
    ],
    ['negative time', span({ endTimeUnixNano: '-1' }), 'resourceSpans[0].scopeSpans[0].spans[0].endTimeUnixNano: expected an unsigned integer string (uint64), got string "-1"'],
    ['time beyond 2^64', span({ endTimeUnixNano: '18446744073709551616' }), /endTimeUnixNano: expected an unsigned integer string \(uint64\)/],
    ['fractional time', span({ startTimeUnixNano: 1.5 }), /startTimeUnixNano: expected .*, got number 1.5$/],
    ['trace id as a number', span({ traceId: 5 }), 'resourceSpans[0].scopeSpans[0].spans[0].traceId: expected a string, got number 5'],
    ['name as an object', span({ name: {} }), 'resourceSpans[0].scopeSpans[0].spans[0].name: expected a string, got an object'],
    ['unknown kind name', span({ kind: 'SERVER' }), 'resourceSpans[0].scopeSpans[0].spans[0].kind: expected a span kind (integer or SPAN_KIND_* name), got string "SERVER"'],
    ['fractional kind', span({ kind: 1.5 }), /kind: expected a span kind/],
    ['unknown status name', span({ status: { code: 'ERROR' } }), 'resourceSpans[0].scopeSpans[0].spans[0].status.code: expected a status code (integer or STATUS_CODE_* name), got string "ERROR"'],
    ['negative flags', span({ flags: -1 }), 'resourceSpans[0].scopeSpans[0].spans[0].flags: expected an unsigned 32-bit integer, got number -1'],
    ['dropped count too big', span({ droppedAttributesCount: 2 ** 32 }), /droppedAttributesCount: expected an unsigned 32-bit integer/],
    ['attributes an object', span({ attributes: {} }), 'resourceSpans[0].scopeSpans[0].spans[0].attributes: expected an array, got an object'],
    ['attribute not an object', span({ attributes: ['k'] }), 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0]: expected a KeyValue object, got string "k"'],
    ['attribute key a number', span({ attributes: [{ key: 1, value: {} }] }), 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].key: expected a string, got number 1'],
    ['attribute value a string', span({ attributes: [{ key: 'k', value: 'v' }] }), 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value: expected an AnyValue object, got string "v"'],
    ['stringValue a number', span({ attributes: [{ key: 'k', value: { stringValue: 1 } }] }), 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.stringValue: expected a string, got number 1'],
    ['intValue fractional text', span({ attributes: [{}, {}, { key: 'k', value: { intValue: '1.5' } }] }), 'resourceSpans[0].scopeSpans[0].spans[0].attributes[2].value.intValue: expected an integer string (int64), got string "1.5"'],
    ['intValue beyond int64', span({ attributes: [{ key: 'k', value: { intValue: '9223372036854775808' } }] }), /attributes\[0\]\.value\.intValue: expected an integer string \(int64\)/],
    ['intValue fractional number', span({ attributes: [{ key: 'k', value: { intValue: 1.5 } }] }), /intValue: expected an integer string \(int64\), got number 1.5$/],
    ['boolValue a string', span({ attributes: [{ key: 'k', value: { arrayValue: { values: [{}, { boolValue: 'yes' }] } } }] }), 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.arrayValue.values[1].boolValue: expected a boolean, got string "yes"'],
    ['doubleValue text', span({ attributes: [{ key: 'k', value: { kvlistValue: { values: [{ key: 'n', value: { doubleValue: 'abc' } }] } } }] }), 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.kvlistValue.values[0].value.doubleValue: expected a number (or "NaN", "Infinity", "-Infinity"), got string "abc"'],
    ['bytesValue not base64', span({ attributes: [{ key: 'k', value: { bytesValue: 'a*b' } }] }), /attributes\[0\]\.value\.bytesValue: expected a base64 string, got string "a\*b"/],
    ['array values not an array', span({ attributes: [{ key: 'k', value: { arrayValue: { values: 1 } } }] }), 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.arrayValue.values: expected an array, got number 1'],
    ['array element not an object', span({ attributes: [{ key: 'k', value: { arrayValue: { values: [1] } } }] }), 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.arrayValue.values[0]: expected an AnyValue object, got number 1'],
    ['event time', span({ events: [{ timeUnixNano: true }] }), 'resourceSpans[0].scopeSpans[0].spans[0].events[0].timeUnixNano: expected an unsigned integer string (uint64), got boolean true'],
    ['link flags', span({ links: [{}, { flags: 'x' }] }), 'resourceSpans[0].scopeSpans[0].spans[0].links[1].flags: expected an unsigned 32-bit integer, got string "x"'],
    ['scope attributes', '{"resourceSpans":[{"scopeSpans":[{"scope":{"attributes":[{"key":"k","value":{"intValue":"x"}}]}}]}]}', 'resourceSpans[0].scopeSpans[0].scope.attributes[0].value.intValue: expected an integer string (int64), got string "x"'],
    ['resource attributes', '{"resourceSpans":[{"resource":{"attributes":[{"key":"k","value":{"boolValue":1}}]}}]}', 'resourceSpans[0].resource.attributes[0].value.boolValue: expected a boolean, got number 1'],
    ['nesting deeper than 32', span({ attributes: [{ key: 'k', value: deep(33) }] }), /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.attributes\[0\]\.value(\.arrayValue\.values\[0\]){32}\.arrayValue: AnyValue nested deeper than 32 levels$/],
  ];
  for (const [name, body, expected] of cases) {
    it(name, () => {
      const e = err(decodeTraceRequestJson(body));
      if (typeof expected === 'string') assert.equal(e, expected);
      else assert.match(e, expected);
    });
  }

  it('32 levels of nesting are fine', () => {
    let v = attr(deep(32));
    for (let i = 0; i < 32; i++) v = v.arrayValue!.values[0]!;
    assert.deepEqual(v, { stringValue: 'leaf' });
  });

  it('a 100k-deep JSON document is refused, not a stack overflow', () => {
    const body = span({ attributes: [{ key: 'k', value: JSON.parse('{"arrayValue":{"values":['.repeat(1) + '{}]}}') }] }).replace(
      '{}',
      '{"kvlistValue":{"values":[{"key":"k","value":'.repeat(100_000) + '{}' + '}]}}'.repeat(100_000),
    );
    assert.match(err(decodeTraceRequestJson(body)), /nested deeper than 32 levels|invalid JSON/);
  });

  it('refuses non-text input without throwing', () => {
    assert.match(err(decodeTraceRequestJson(42 as unknown as string)), /neither text nor bytes/);
  });
});

describe('decodeTraceRequestJson: agrees with the model', () => {
  const snake = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(snake)
      : x && typeof x === 'object'
        ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), snake(v)]))
        : x;
  const KIND_NAMES = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'];
  /** Rewrites spans the way other OTLP/JSON writers might: uppercase ids, enum names, numbers for int64. */
  const variants = (x: unknown, opts: { upper: boolean; names: boolean; numbers: boolean }): unknown => {
    if (Array.isArray(x)) return x.map((v) => variants(v, opts));
    if (!x || typeof x !== 'object') return x;
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) {
      if (opts.upper && /^(traceId|spanId|parentSpanId)$/.test(k) && typeof v === 'string') o[k] = v.toUpperCase();
      else if (opts.names && k === 'kind' && typeof v === 'number') o[k] = KIND_NAMES[v];
      else if (opts.numbers && k === 'intValue' && Number.isSafeInteger(Number(v))) o[k] = Number(v);
      else o[k] = variants(v, opts);
    }
    return o;
  };

  it('random spans as OTLP/JSON (camelCase or snake_case, assorted writer styles) decode to themselves', () => {
    fc.assert(
      fc.property(arbModelSpans, fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(), (spans, useSnake, upper, names, numbers) => {
        let body = variants(spansToOtlpJson(spans), { upper, names, numbers });
        if (useSnake) body = snake(body);
        const r = ok(decodeTraceRequestJson(JSON.stringify(body)));
        assert.equal(r.rejectedSpans, 0, r.errorMessage);
        assert.deepStrictEqual(r.spans, spans);
      }),
      { numRuns: 300 },
    );
  });
});
