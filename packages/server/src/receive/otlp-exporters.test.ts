// Real OpenTelemetry SDK exporters (OTLP/HTTP protobuf, OTLP/HTTP JSON,
// OTLP/gRPC) against a real server; every field read back through the API.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind as ApiSpanKind, SpanStatusCode, context, trace, type Attributes } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import type { AnyValue, KeyValue, SpanJson } from '@ariadne/model';
import { startTestServer, type TestServer } from '../testing/server.js';

const hrToNanos = (t: [number, number]) => (BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])).toString();

/** What the OTLP transformer sends for a JS attribute value. */
function expectedValue(v: unknown): AnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(expectedValue) } };
  throw new Error(`unexpected attribute value ${String(v)}`);
}

function expectedAttrs(attrs: Attributes): KeyValue[] {
  return Object.entries(attrs).map(([key, value]) => ({ key, value: expectedValue(value) }));
}

function sortKv(kvs: KeyValue[]): KeyValue[] {
  return [...kvs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function assertSpanEqual(got: SpanJson, want: ReadableSpan, label: string): void {
  const ctx = want.spanContext();
  assert.equal(got.traceId, ctx.traceId, `${label}: traceId`);
  assert.equal(got.spanId, ctx.spanId, `${label}: spanId`);
  assert.equal(got.parentSpanId, want.parentSpanContext?.spanId ?? '', `${label}: parentSpanId`);
  assert.equal(got.traceState, ctx.traceState?.serialize() ?? '', `${label}: traceState`);
  assert.equal(got.name, want.name, `${label}: name`);
  assert.equal(got.kind, want.kind + 1, `${label}: kind`);
  assert.equal(got.startTimeUnixNano, hrToNanos(want.startTime), `${label}: start`);
  assert.equal(got.endTimeUnixNano, hrToNanos(want.endTime), `${label}: end`);
  assert.deepEqual(sortKv(got.attributes), sortKv(expectedAttrs(want.attributes)), `${label}: attributes`);
  assert.equal(got.droppedAttributesCount, want.droppedAttributesCount, `${label}: droppedAttributesCount`);
  assert.equal(got.events.length, want.events.length, `${label}: events`);
  want.events.forEach((e, i) => {
    assert.equal(got.events[i]!.name, e.name);
    assert.equal(got.events[i]!.timeUnixNano, hrToNanos(e.time));
    assert.deepEqual(sortKv(got.events[i]!.attributes), sortKv(expectedAttrs(e.attributes ?? {})));
  });
  assert.equal(got.droppedEventsCount, want.droppedEventsCount, `${label}: droppedEventsCount`);
  assert.equal(got.links.length, want.links.length, `${label}: links`);
  want.links.forEach((l, i) => {
    assert.equal(got.links[i]!.traceId, l.context.traceId);
    assert.equal(got.links[i]!.spanId, l.context.spanId);
    assert.deepEqual(sortKv(got.links[i]!.attributes), sortKv(expectedAttrs(l.attributes ?? {})));
  });
  assert.equal(got.status.code, want.status.code, `${label}: status code`);
  assert.equal(got.status.message, want.status.message ?? '', `${label}: status message`);
  assert.deepEqual(sortKv(got.resource.attributes), sortKv(expectedAttrs(want.resource.attributes as Attributes)), `${label}: resource`);
  assert.equal(got.scope.name, want.instrumentationScope.name, `${label}: scope name`);
  assert.equal(got.scope.version, want.instrumentationScope.version ?? '', `${label}: scope version`);
  assert.equal(got.service, want.resource.attributes['service.name'], `${label}: service`);
}

async function waitForTrace(url: string, traceId: string, count: number): Promise<SpanJson[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const res = await fetch(`${url}/api/v1/traces/${traceId}`);
    if (res.status === 200) {
      const body = (await res.json()) as { spans: SpanJson[] };
      if (body.spans.length >= count) return body.spans;
    }
    if (Date.now() > deadline) throw new Error(`trace ${traceId} did not arrive with ${count} spans (last status ${res.status})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Emits a small but field-rich trace and returns what the SDK recorded. */
async function emit(exporter: SpanExporter, service: string): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'service.version': '1.2.3', 'host.cores': 2, 'deployment.canary': false }),
    spanProcessors: [new SimpleSpanProcessor(exporter), new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('exporter-test', '0.0.1');
  const linked = tracer.startSpan('linked-root');
  linked.end();
  tracer.startActiveSpan('GET /checkout', { kind: ApiSpanKind.SERVER, attributes: { 'http.method': 'GET', 'http.status_code': 200 } }, (root) => {
    root.setAttribute('ratio', 0.25);
    root.setAttribute('big', 9007199254740991);
    root.setAttribute('negative', -42);
    root.setAttribute('tags', ['a', 'b', 'ünïcødé ✓']);
    root.setAttribute('flags', [true, false]);
    root.setAttribute('nums', [1, 2, 3]);
    root.addEvent('cache miss', { key: 'user:1', attempt: 2 });
    root.addEvent('plain');
    const child = tracer.startSpan(
      'SELECT orders',
      { kind: ApiSpanKind.CLIENT, links: [{ context: linked.spanContext(), attributes: { 'link.reason': 'retry' } }] },
      trace.setSpan(context.active(), root),
    );
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'deadlock detected' });
    child.recordException(new Error('deadlock'));
    child.end();
    root.setStatus({ code: SpanStatusCode.OK });
    root.end();
  });
  await provider.forceFlush();
  const finished = [...memory.getFinishedSpans()];
  await provider.shutdown();
  return finished;
}

describe('OTLP from the real OpenTelemetry exporters', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  const cases: [string, () => SpanExporter][] = [
    ['http/protobuf on the OTLP port', () => new ProtoExporter({ url: `${server.otlpHttpUrl}/v1/traces` })],
    ['http/protobuf gzip on the main port', () => new ProtoExporter({ url: `${server.url}/v1/traces`, compression: 'gzip' as never })],
    ['http/json', () => new JsonExporter({ url: `${server.otlpHttpUrl}/v1/traces` })],
    ['http/json gzip', () => new JsonExporter({ url: `${server.otlpHttpUrl}/v1/traces`, compression: 'gzip' as never })],
    ['grpc', () => new GrpcExporter({ url: `http://127.0.0.1:${server.ports.otlpGrpc}` })],
    ['grpc gzip', () => new GrpcExporter({ url: `http://127.0.0.1:${server.ports.otlpGrpc}`, compression: 'gzip' as never })],
  ];

  for (const [name, make] of cases) {
    it(`${name}: every field round-trips`, async () => {
      const service = `svc-${name.replace(/\W+/g, '-')}`;
      const sent = await emit(make(), service);
      assert.equal(sent.length, 3);
      for (const s of sent) {
        const spans = await waitForTrace(server.url, s.spanContext().traceId, sent.filter((x) => x.spanContext().traceId === s.spanContext().traceId).length);
        const got = spans.find((g) => g.spanId === s.spanContext().spanId);
        assert.ok(got, `span ${s.name} stored`);
        assertSpanEqual(got, s, `${name} ${s.name}`);
      }
      const services = (await (await fetch(`${server.url}/api/v1/services`)).json()) as { services: string[] };
      assert.ok(services.services.includes(service));
      const ops = (await (await fetch(`${server.url}/api/v1/services/${service}/operations`)).json()) as { operations: { name: string; spanKind: number }[] };
      assert.deepEqual(
        ops.operations.map((o) => `${o.name}:${o.spanKind}`).sort(),
        ['GET /checkout:2', 'SELECT orders:3', 'linked-root:1'],
      );
    });
  }
});
