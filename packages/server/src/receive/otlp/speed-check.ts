// Quick speed check, not a test: decodeTraceRequestProto against protobufjs
// (referenceDecode) on a realistic request of 100 spans x 10 attributes.
//   node packages/server/dist/receive/otlp/speed-check.js [seconds-per-round=1] [rounds=5]

import { Buffer } from 'node:buffer';
import { pathToFileURL } from 'node:url';
import type { KeyValue, Resource, Span, InstrumentationScope } from '@ariadne/model';
import { decodeTraceRequestProto } from './decode-proto.js';
import { decodeTraceRequestJson } from './decode-json.js';
import { encodeTraceRequestProto } from './encode.js';
import { referenceDecode } from './reference.js';

const SPANS = 100;

function hex(n: number, seed: number): string {
  let s = '';
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    s += ((x >>> 16) & 0xff).toString(16).padStart(2, '0');
  }
  return s;
}

const kv = (key: string, value: KeyValue['value']): KeyValue => ({ key, value });

export function samplePayloadSpans(): Span[] {
  const resource: Resource = {
    attributes: [
      kv('service.name', { stringValue: 'checkout-service' }),
      kv('service.version', { stringValue: '2.14.3' }),
      kv('service.instance.id', { stringValue: '7f9c2ba4-e88f-4a3c-9d2e-6b1f0c5d8a71' }),
      kv('host.name', { stringValue: 'ip-10-0-12-34.eu-west-1.compute.internal' }),
      kv('process.pid', { intValue: '48213' }),
      kv('telemetry.sdk.name', { stringValue: 'opentelemetry' }),
      kv('telemetry.sdk.language', { stringValue: 'nodejs' }),
      kv('telemetry.sdk.version', { stringValue: '2.2.0' }),
    ],
    droppedAttributesCount: 0,
    schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
  };
  const scope: InstrumentationScope = {
    name: '@opentelemetry/instrumentation-http',
    version: '0.57.1',
    attributes: [],
    droppedAttributesCount: 0,
    schemaUrl: '',
  };
  const spans: Span[] = [];
  const traceId = hex(16, 1);
  const start = 1_731_000_000_000_000_000n;
  for (let i = 0; i < SPANS; i++) {
    const t0 = start + BigInt(i) * 1_250_000n;
    spans.push({
      traceId: i % 10 === 0 ? hex(16, i + 2) : traceId,
      spanId: hex(8, i + 1000),
      parentSpanId: i % 10 === 0 ? '' : hex(8, i + 999),
      traceState: i % 3 === 0 ? 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' : '',
      flags: 0x101,
      name: i % 2 === 0 ? 'GET /api/v1/orders/:id' : 'SELECT orders',
      kind: i % 2 === 0 ? 2 : 3,
      startTimeUnixNano: t0,
      endTimeUnixNano: t0 + 987_654n + BigInt(i),
      attributes: [
        kv('http.request.method', { stringValue: 'GET' }),
        kv('url.full', { stringValue: `https://shop.example.com/api/v1/orders/${100000 + i}?include=items,customer&currency=EUR` }),
        kv('http.response.status_code', { intValue: i % 17 === 0 ? '500' : '200' }),
        kv('http.route', { stringValue: '/api/v1/orders/:id' }),
        kv('server.address', { stringValue: 'shop.example.com' }),
        kv('user_agent.original', {
          stringValue: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
        }),
        kv('db.statement', {
          stringValue: `SELECT o.id, o.total, o.currency FROM orders o WHERE o.customer_id = $1 AND o.id = ${i} LIMIT 50`,
        }),
        kv('cache.hit', { boolValue: i % 4 === 0 }),
        kv('queue.wait_ms', { doubleValue: 12.5 + i / 7 }),
        kv('app.feature_flags', { arrayValue: { values: [{ stringValue: 'new-checkout' }, { stringValue: 'eu-pricing' }] } }),
      ],
      droppedAttributesCount: 0,
      events:
        i % 17 === 0
          ? [
              {
                timeUnixNano: t0 + 5000n,
                name: 'exception',
                attributes: [
                  kv('exception.type', { stringValue: 'TimeoutError' }),
                  kv('exception.message', { stringValue: 'upstream inventory-service timed out after 800ms' }),
                ],
                droppedAttributesCount: 0,
              },
            ]
          : [],
      droppedEventsCount: 0,
      links: [],
      droppedLinksCount: 0,
      status: i % 17 === 0 ? { code: 2, message: 'upstream timeout' } : { code: 0, message: '' },
      resource,
      scope,
      service: 'checkout-service',
    });
  }
  return spans;
}

function rate(seconds: number, f: () => void): number {
  let n = 0;
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  let now = t0;
  while (now < until) {
    for (let i = 0; i < 20; i++) f();
    n += 20;
    now = performance.now();
  }
  return (n * SPANS) / ((now - t0) / 1000);
}

function main(): void {
  const seconds = Number(process.argv[2] ?? 1);
  const rounds = Number(process.argv[3] ?? 5);
  const spans = samplePayloadSpans();
  const payload = Buffer.from(encodeTraceRequestProto(spans));
  const check = decodeTraceRequestProto(payload);
  if (!check.ok || check.result.spans.length !== SPANS) throw new Error('payload does not decode');
  const jsonText = JSON.stringify(referenceJson(payload));
  const jsonCheck = decodeTraceRequestJson(jsonText);
  if (!jsonCheck.ok || jsonCheck.result.spans.length !== SPANS) throw new Error(`JSON payload does not decode: ${JSON.stringify(jsonCheck).slice(0, 300)}`);
  console.log(`payload: ${SPANS} spans x 10 attributes, ${payload.length} bytes protobuf, ${jsonText.length} bytes JSON`);

  let ours = 0;
  let ref = 0;
  let json = 0;
  for (let r = 0; r < rounds; r++) {
    ours = Math.max(ours, rate(seconds, () => decodeTraceRequestProto(payload)));
    ref = Math.max(ref, rate(seconds, () => referenceDecode(payload)));
    json = Math.max(json, rate(seconds, () => decodeTraceRequestJson(jsonText)));
  }
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  console.log(`decodeTraceRequestProto: ${fmt(ours)} spans/s`);
  console.log(`referenceDecode (protobufjs decode+toObject): ${fmt(ref)} spans/s`);
  console.log(`ratio: ${(ours / ref).toFixed(2)}x`);
  console.log(`decodeTraceRequestJson (incl. JSON.parse): ${fmt(json)} spans/s`);
  const enc = rate(seconds, () => encodeTraceRequestProto(spans));
  console.log(`encodeTraceRequestProto: ${fmt(enc)} spans/s`);
}

/** The payload as OTLP/JSON, via the reference decoder (hex ids, string int64). */
function referenceJson(payload: Uint8Array): unknown {
  return JSON.parse(
    JSON.stringify(referenceDecode(payload), function (key, value: unknown) {
      if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer') {
        const bytes = Buffer.from((value as { data: number[] }).data);
        return key === 'bytesValue' ? bytes.toString('base64') : bytes.toString('hex');
      }
      return value;
    }),
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
