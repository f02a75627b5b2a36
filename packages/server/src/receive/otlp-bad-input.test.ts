// Bad input to the OTLP receivers, table-driven: each case asserts the
// status, the message and what was (or was not) stored.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import type { SpanJson } from '@ariadne/model';
import { referenceDecodeResponse, referenceEncode, encodeTraceRequestProto } from './otlp/index.js';
import { traceServiceDefinition } from './otlp-grpc.js';
import { makeSpan, randomSpanId, randomTraceId } from '../testing/fixtures.js';
import { startTestServer, type TestServer } from '../testing/server.js';

const hexBytes = (hex: string) => Buffer.from(hex, 'hex');

/** A protobuf request with one span per given (traceId, spanId) hex pair. */
function protoRequest(ids: [string, string][], extraAttr?: { key: string; value: string }): Uint8Array {
  return referenceEncode({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bad-input' } }] },
        scopeSpans: [
          {
            scope: { name: 't' },
            spans: ids.map(([t, s], i) => ({
              traceId: hexBytes(t),
              spanId: hexBytes(s),
              name: `op-${i}`,
              kind: 2,
              startTimeUnixNano: '1700000000000000000',
              endTimeUnixNano: '1700000000001000000',
              attributes: extraAttr ? [{ key: extraAttr.key, value: { stringValue: extraAttr.value } }] : [],
            })),
          },
        ],
      },
    ],
  });
}

function jsonRequest(ids: [string, string][]): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bad-input-json' } }] },
        scopeSpans: [
          {
            spans: ids.map(([traceId, spanId], i) => ({
              traceId,
              spanId,
              name: `json-op-${i}`,
              startTimeUnixNano: '1700000000000000000',
              endTimeUnixNano: 1700000000002000000,
            })),
          },
        ],
      },
    ],
  });
}

interface Case {
  name: string;
  contentType: string;
  encoding?: string;
  body: () => Uint8Array | string;
  status: number;
  /** substring of the error or partial-success message */
  message?: RegExp;
  rejected?: number;
  /** traces that must exist afterwards, with their span counts */
  stored?: () => [string, number][];
  /** traces that must not exist */
  absent?: () => string[];
}

describe('OTLP/HTTP bad input', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  const t1 = randomTraceId();
  const t2 = randomTraceId();
  const t3 = randomTraceId();
  const tBig = randomTraceId();
  const tUpper = randomTraceId();
  const tZero = randomTraceId();
  const bigValue = 'x'.repeat(1024 * 1024);

  const cases: Case[] = [
    { name: 'empty protobuf body is a success', contentType: 'application/x-protobuf', body: () => new Uint8Array(0), status: 200 },
    { name: 'empty JSON object is a success', contentType: 'application/json', body: () => '{}', status: 200 },
    { name: 'garbage protobuf', contentType: 'application/x-protobuf', body: () => Buffer.from('this is not protobuf at all'), status: 400, message: /cannot decode OTLP protobuf/ },
    { name: 'invalid JSON', contentType: 'application/json', body: () => '{"resourceSpans": [', status: 400, message: /cannot decode OTLP JSON/ },
    { name: 'JSON of the wrong shape names the path', contentType: 'application/json', body: () => '{"resourceSpans": [{"scopeSpans": 5}]}', status: 400, message: /scopeSpans/ },
    { name: 'unknown content type', contentType: 'text/plain', body: () => 'hello', status: 415, message: /Content-Type/ },
    { name: 'unknown content encoding', contentType: 'application/x-protobuf', encoding: 'br', body: () => protoRequest([[t3, randomSpanId()]]), status: 415, message: /Content-Encoding/, absent: () => [t3] },
    { name: 'corrupt gzip', contentType: 'application/x-protobuf', encoding: 'gzip', body: () => Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6]), status: 400, message: /gzip/ },
    {
      name: 'body over 20 MiB',
      contentType: 'application/x-protobuf',
      body: () => protoRequest([[randomTraceId(), randomSpanId()]], { key: 'pad', value: 'y'.repeat(21 * 1024 * 1024) }),
      status: 413,
      message: /limit/,
    },
    {
      name: 'gzip bomb (200 MiB of zeros in ~200 KiB) is refused after decompression',
      contentType: 'application/x-protobuf',
      encoding: 'gzip',
      body: () => gzipSync(Buffer.alloc(200 * 1024 * 1024)),
      status: 413,
      message: /decompressed/,
    },
    {
      name: 'a 1 MiB attribute value is kept whole',
      contentType: 'application/x-protobuf',
      body: () => protoRequest([[tBig, randomSpanId()]], { key: 'big', value: bigValue }),
      status: 200,
      stored: () => [[tBig, 1]],
    },
    {
      name: 'uppercase hex ids in JSON are accepted and stored lowercase',
      contentType: 'application/json',
      body: () => jsonRequest([[tUpper.toUpperCase(), 'ABCDEF0123456789']]),
      status: 200,
      stored: () => [[tUpper, 1]],
    },
    {
      name: 'an empty JSON string id rejects that span only',
      contentType: 'application/json',
      body: () => jsonRequest([[t1, randomSpanId()], ['', randomSpanId()], [t1, '']]),
      status: 200,
      rejected: 2,
      message: /rejected/,
      stored: () => [[t1, 1]],
    },
    {
      name: 'all-zero and wrong-length ids in protobuf reject those spans only',
      contentType: 'application/x-protobuf',
      body: () => protoRequest([[t2, randomSpanId()], ['0'.repeat(32), randomSpanId()], [t2, '0'.repeat(16)], [t2, 'abcd'], [tZero.slice(0, 30), randomSpanId()], [t2, randomSpanId()]]),
      status: 200,
      rejected: 4,
      message: /rejected/,
      stored: () => [[t2, 2]],
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const headers: Record<string, string> = { 'content-type': c.contentType };
      if (c.encoding) headers['content-encoding'] = c.encoding;
      const body = c.body();
      const res = await fetch(`${server.otlpHttpUrl}/v1/traces`, { method: 'POST', headers, body: body as BodyInit });
      assert.equal(res.status, c.status, `status for '${c.name}'`);
      const raw = Buffer.from(await res.arrayBuffer());
      const isProto = c.contentType === 'application/x-protobuf';
      if (c.status !== 415) assert.equal(res.headers.get('content-type'), isProto ? 'application/x-protobuf' : 'application/json');
      let message = '';
      let rejected = 0;
      if (res.status === 200) {
        const r = (isProto ? referenceDecodeResponse(raw) : JSON.parse(raw.toString() || '{}')) as {
          partialSuccess?: { rejectedSpans?: string | number; errorMessage?: string };
        };
        rejected = Number(r.partialSuccess?.rejectedSpans ?? 0);
        message = r.partialSuccess?.errorMessage ?? '';
      } else if (res.headers.get('content-type') === 'application/json') {
        message = (JSON.parse(raw.toString()) as { message: string }).message;
      } else {
        message = raw.subarray(2).toString('latin1'); // google.rpc.Status: the message follows code
      }
      if (c.message) assert.match(message, c.message);
      assert.equal(rejected, c.rejected ?? 0, 'rejected span count');
      for (const [traceId, count] of c.stored?.() ?? []) {
        const got = await fetch(`${server.url}/api/v1/traces/${traceId}`);
        assert.equal(got.status, 200, `trace ${traceId} stored`);
        const spans = ((await got.json()) as { spans: SpanJson[] }).spans;
        assert.equal(spans.length, count);
        if (traceId === tBig) assert.equal(spans[0]!.attributes.find((a) => a.key === 'big')!.value.stringValue, bigValue);
        if (traceId === tUpper) assert.equal(spans[0]!.spanId, 'abcdef0123456789');
      }
      for (const traceId of c.absent?.() ?? []) {
        assert.equal((await fetch(`${server.url}/api/v1/traces/${traceId}`)).status, 404);
      }
    });
  }

  it('counts refusals and rejections in /metrics', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(text, /ariadne_requests_refused_total\{receiver="otlp_http",reason="too_large"\} 2/);
    assert.match(text, /ariadne_requests_refused_total\{receiver="otlp_http",reason="unsupported_media_type"\} 2/);
    assert.match(text, /ariadne_spans_rejected_total\{receiver="otlp_http",reason="invalid_span"\} 6/);
  });

  it('answers 503 with Retry-After when over the in-flight limit', async () => {
    const small = await startTestServer({ maxInflightBytes: 1000 });
    try {
      const big = encodeTraceRequestProto(Array.from({ length: 50 }, () => makeSpan({ service: 'inflight' })));
      // The first request always gets in; a second one concurrent with it exceeds the limit.
      const results = await Promise.all(
        Array.from({ length: 20 }, () => fetch(`${small.otlpHttpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: big })),
      );
      const statuses = results.map((r) => r.status);
      assert.ok(statuses.includes(200), `some accepted: ${statuses}`);
      const refused = results.find((r) => r.status === 503);
      assert.ok(refused, `some refused: ${statuses}`);
      assert.equal(refused.headers.get('retry-after'), '1');
      const text = await (await fetch(`${small.url}/metrics`)).text();
      assert.match(text, /ariadne_requests_refused_total\{receiver="otlp_http",reason="overloaded"\} [1-9]/);
    } finally {
      await small.stop();
    }
  });
});

describe('OTLP/gRPC bad input', () => {
  let server: TestServer;
  let client: grpc.Client & { Export: Function };
  before(async () => {
    server = await startTestServer({ maxBodyBytes: 1024 * 1024 });
    const Ctor = grpc.makeGenericClientConstructor(traceServiceDefinition, 'TraceService');
    client = new Ctor(`127.0.0.1:${server.ports.otlpGrpc}`, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 64 * 1024 * 1024 }) as never;
  });
  after(async () => {
    client.close();
    await server.stop();
  });

  const call = (body: Uint8Array) =>
    new Promise<{ err: grpc.ServiceError | null; res?: Buffer }>((resolve) => client.Export(Buffer.from(body), (err: grpc.ServiceError | null, res?: Buffer) => resolve({ err, res })));

  it('undecodable message → INVALID_ARGUMENT with details', async () => {
    const { err } = await call(Buffer.from('garbage garbage garbage'));
    assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err!.details, /cannot decode/);
  });

  it('message over the limit → RESOURCE_EXHAUSTED', async () => {
    const { err } = await call(protoRequest([[randomTraceId(), randomSpanId()]], { key: 'pad', value: 'z'.repeat(2 * 1024 * 1024) }));
    assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED);
  });

  it('invalid ids → partial success, valid spans kept', async () => {
    const t = randomTraceId();
    const { err, res } = await call(protoRequest([[t, randomSpanId()], ['0'.repeat(32), randomSpanId()]]));
    assert.equal(err, null);
    const r = referenceDecodeResponse(res!) as { partialSuccess?: { rejectedSpans?: string } };
    assert.equal(r.partialSuccess?.rejectedSpans, '1');
    const got = (await (await fetch(`${server.url}/api/v1/traces/${t}`)).json()) as { spans: SpanJson[] };
    assert.equal(got.spans.length, 1);
  });

  it('empty request → success', async () => {
    const { err, res } = await call(new Uint8Array(0));
    assert.equal(err, null);
    assert.equal(res!.length, 0);
  });
});
