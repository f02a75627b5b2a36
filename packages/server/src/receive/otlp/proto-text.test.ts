import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { OTLP_TRACE_PROTOS } from './proto-text.js';

// dist/receive/otlp/*.test.js -> src/receive/otlp/proto/
const PROTO_DIR = fileURLToPath(new URL('../../../src/receive/otlp/proto/', import.meta.url));

describe('OTLP proto text', () => {
  it('proto-text.ts embeds exactly the .proto files of proto/', (t) => {
    if (!existsSync(PROTO_DIR)) {
      t.skip('sources not present');
      return;
    }
    for (const [path, text] of OTLP_TRACE_PROTOS) {
      assert.equal(text, readFileSync(PROTO_DIR + path, 'utf8'), `${path} differs from proto-text.ts: regenerate it`);
    }
  });

  it('has the published field numbers and types', () => {
    const root = new protobuf.Root();
    for (const [, text] of OTLP_TRACE_PROTOS) protobuf.parse(text, root, { keepCase: true });
    root.resolveAll();
    const fields = (type: string) =>
      Object.fromEntries(root.lookupType(type).fieldsArray.map((f) => [f.name, `${f.id} ${f.repeated ? 'repeated ' : ''}${f.type}`]));
    assert.deepEqual(fields('opentelemetry.proto.trace.v1.Span'), {
      trace_id: '1 bytes',
      span_id: '2 bytes',
      trace_state: '3 string',
      parent_span_id: '4 bytes',
      flags: '16 fixed32',
      name: '5 string',
      kind: '6 SpanKind',
      start_time_unix_nano: '7 fixed64',
      end_time_unix_nano: '8 fixed64',
      attributes: '9 repeated opentelemetry.proto.common.v1.KeyValue',
      dropped_attributes_count: '10 uint32',
      events: '11 repeated Event',
      dropped_events_count: '12 uint32',
      links: '13 repeated Link',
      dropped_links_count: '14 uint32',
      status: '15 Status',
    });
    assert.deepEqual(fields('opentelemetry.proto.trace.v1.Span.Event'), {
      time_unix_nano: '1 fixed64',
      name: '2 string',
      attributes: '3 repeated opentelemetry.proto.common.v1.KeyValue',
      dropped_attributes_count: '4 uint32',
    });
    assert.deepEqual(fields('opentelemetry.proto.trace.v1.Span.Link'), {
      trace_id: '1 bytes',
      span_id: '2 bytes',
      trace_state: '3 string',
      attributes: '4 repeated opentelemetry.proto.common.v1.KeyValue',
      dropped_attributes_count: '5 uint32',
      flags: '6 fixed32',
    });
    assert.deepEqual(fields('opentelemetry.proto.trace.v1.Status'), { message: '2 string', code: '3 StatusCode' });
    assert.deepEqual(fields('opentelemetry.proto.trace.v1.ResourceSpans'), {
      resource: '1 opentelemetry.proto.resource.v1.Resource',
      scope_spans: '2 repeated ScopeSpans',
      schema_url: '3 string',
    });
    assert.deepEqual(fields('opentelemetry.proto.trace.v1.ScopeSpans'), {
      scope: '1 opentelemetry.proto.common.v1.InstrumentationScope',
      spans: '2 repeated Span',
      schema_url: '3 string',
    });
    assert.deepEqual(fields('opentelemetry.proto.resource.v1.Resource'), {
      attributes: '1 repeated opentelemetry.proto.common.v1.KeyValue',
      dropped_attributes_count: '2 uint32',
      entity_refs: '3 repeated opentelemetry.proto.common.v1.EntityRef',
    });
    assert.deepEqual(fields('opentelemetry.proto.common.v1.InstrumentationScope'), {
      name: '1 string',
      version: '2 string',
      attributes: '3 repeated KeyValue',
      dropped_attributes_count: '4 uint32',
    });
    assert.deepEqual(fields('opentelemetry.proto.common.v1.AnyValue'), {
      string_value: '1 string',
      bool_value: '2 bool',
      int_value: '3 int64',
      double_value: '4 double',
      array_value: '5 ArrayValue',
      kvlist_value: '6 KeyValueList',
      bytes_value: '7 bytes',
    });
    assert.deepEqual(fields('opentelemetry.proto.common.v1.KeyValue'), { key: '1 string', value: '2 AnyValue' });
    assert.deepEqual(fields('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'), {
      resource_spans: '1 repeated opentelemetry.proto.trace.v1.ResourceSpans',
    });
    assert.deepEqual(fields('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'), { partial_success: '1 ExportTracePartialSuccess' });
    assert.deepEqual(fields('opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess'), { rejected_spans: '1 int64', error_message: '2 string' });
    const service = root.lookupService('opentelemetry.proto.collector.trace.v1.TraceService');
    assert.deepEqual(Object.keys(service.methods), ['Export']);
  });
});
