// Payloads as the OpenTelemetry JS SDK really writes them (its own protobuf
// and JSON serializers, as used by the OTLP exporters) decode to the spans
// the SDK recorded, identically through both of our decoders.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { SpanKind as ApiSpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Span } from '@ariadne/model';
import { decodeTraceRequestJson } from './decode-json.js';
import { decodeTraceRequestProto } from './decode-proto.js';
import { referenceDecode } from './reference.js';
import { referenceToSpans } from './testing.js';
import type { DecodeOutcome } from './result.js';

function recordSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'sdk-svc', 'service.version': '1.0.0', 'host.cpus': 8, 'deployment.canary': false }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('interop-scope', '3.2.1');
  const other = provider.getTracer('other-scope');
  const root = tracer.startSpan('GET /orders/:id', {
    kind: ApiSpanKind.SERVER,
    attributes: {
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'queue.ratio': 0.25,
      'big.int': 2 ** 53 - 1,
      'negative.int': -42,
      'cache.hit': true,
      'tags': ['a', 'b', 'ü'],
      'ports': [80, 443],
      'flags': [true, false],
      'unicode': '日本語 😀',
      'empty': '',
    },
  });
  const ctx = trace.setSpan(context.active(), root);
  const child = tracer.startSpan('SELECT orders', { kind: ApiSpanKind.CLIENT, links: [{ context: root.spanContext(), attributes: { 'link.reason': 'retry' } }] }, ctx);
  child.addEvent('exception', { 'exception.type': 'TimeoutError', 'exception.message': 'took too long' });
  child.addEvent('plain');
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream timeout' });
  child.end();
  const producer = other.startSpan('publish', { kind: ApiSpanKind.PRODUCER }, ctx);
  producer.setStatus({ code: SpanStatusCode.OK });
  producer.end();
  root.end();
  return exporter.getFinishedSpans();
}

const nanos = ([s, ns]: [number, number]) => BigInt(s) * 1_000_000_000n + BigInt(ns);

function decoded(outcome: DecodeOutcome): Span[] {
  if (!outcome.ok) assert.fail(outcome.error);
  assert.equal(outcome.result.rejectedSpans, 0, outcome.result.errorMessage);
  return outcome.result.spans;
}

describe('OpenTelemetry JS SDK payloads', () => {
  const recorded = recordSpans();
  const proto = ProtobufTraceSerializer.serializeRequest(recorded)!;
  const json = JsonTraceSerializer.serializeRequest(recorded)!;

  it('protobuf and JSON decode to the same spans, and protobufjs agrees', () => {
    const fromProto = decoded(decodeTraceRequestProto(proto));
    const fromJson = decoded(decodeTraceRequestJson(json));
    assert.equal(fromProto.length, 3);
    assert.deepStrictEqual(fromJson, fromProto);
    assert.deepStrictEqual(fromProto, referenceToSpans(referenceDecode(Buffer.from(proto))).spans);
  });

  it('the decoded spans are what the SDK recorded', () => {
    const byId = new Map(decoded(decodeTraceRequestProto(proto)).map((s) => [s.spanId, s]));
    for (const r of recorded) {
      const s = byId.get(r.spanContext().spanId);
      assert.ok(s, r.name);
      assert.equal(s.traceId, r.spanContext().traceId);
      assert.equal(s.parentSpanId, r.parentSpanContext?.spanId ?? '');
      assert.equal(s.name, r.name);
      assert.equal(s.kind, r.kind + 1); // the API's enum has no UNSPECIFIED
      assert.equal(s.startTimeUnixNano, nanos(r.startTime));
      assert.equal(s.endTimeUnixNano, nanos(r.endTime));
      assert.equal(s.status.code, r.status.code);
      assert.equal(s.status.message, r.status.message ?? '');
      assert.equal(s.service, 'sdk-svc');
      assert.equal(s.scope.name, r.instrumentationScope.name);
      assert.equal(s.scope.version, r.instrumentationScope.version ?? '');
      assert.equal(s.flags & 0xff, r.spanContext().traceFlags);
      assert.equal(s.events.length, r.events.length);
      s.events.forEach((e, i) => assert.equal(e.timeUnixNano, nanos(r.events[i]!.time)));
      assert.equal(s.links.length, r.links.length);
    }
    const root = byId.get(recorded.find((r) => r.name === 'GET /orders/:id')!.spanContext().spanId)!;
    const attrs = Object.fromEntries(root.attributes.map((kv) => [kv.key, kv.value]));
    assert.deepEqual(attrs, {
      'http.request.method': { stringValue: 'GET' },
      'http.response.status_code': { intValue: '200' },
      'queue.ratio': { doubleValue: 0.25 },
      'big.int': { intValue: '9007199254740991' },
      'negative.int': { intValue: '-42' },
      'cache.hit': { boolValue: true },
      tags: { arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }, { stringValue: 'ü' }] } },
      ports: { arrayValue: { values: [{ intValue: '80' }, { intValue: '443' }] } },
      flags: { arrayValue: { values: [{ boolValue: true }, { boolValue: false }] } },
      unicode: { stringValue: '日本語 😀' },
      empty: { stringValue: '' },
    });
    const resourceAttrs = Object.fromEntries(root.resource.attributes.map((kv) => [kv.key, kv.value]));
    assert.deepEqual(resourceAttrs['host.cpus'], { intValue: '8' });
    assert.deepEqual(resourceAttrs['deployment.canary'], { boolValue: false });
  });
});
