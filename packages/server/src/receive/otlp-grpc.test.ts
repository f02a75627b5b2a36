// The OTLP/gRPC receiver at the HTTP/2 level: a raw node:http2 client sends
// what gRPC clients (and broken ones) send, and each answer is checked down
// to its headers, trailers and status (grpc-js clients: otlp-bad-input.test,
// otlp-exporters.test).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';
import { deflateSync, gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { spanFromJson, type Span, type SpanJson } from '@ariadne/model';
import { randomBytes } from 'node:crypto';
import { encodeTraceRequestProto, referenceDecodeResponse } from './otlp/index.js';
import { EXPORT_PATH, startOtlpGrpc, traceServiceDefinition } from './otlp-grpc.js';
import type { Ingester } from '../pipeline/ingest.js';
import { BufferPool } from '../pipeline/buffer-pool.js';
import { createMetrics } from '../metrics.js';
import { GrpcUnaryClient } from './grpc/client.js';
import { frame, Status } from './grpc/wire.js';
import { makeSpan } from '../testing/fixtures.js';
import { startTestServer, type TestServer } from '../testing/server.js';

const GRPC = { 'content-type': 'application/grpc', te: 'trailers' };

interface Answer {
  headers: http2.IncomingHttpHeaders;
  trailers?: http2.IncomingHttpHeaders;
  data: Buffer;
  /** grpc-status from the trailers, or from the headers of a trailers-only answer */
  code?: number;
  message?: string;
}

/**
 * One request on a session of its own. `parts` are written in order (a
 * number waits that many ms); without `end` the request stays open and the
 * stream is closed as soon as a trailers-only answer arrives.
 */
function raw(url: string, headers: http2.OutgoingHttpHeaders, parts: (Uint8Array | number)[], end = true): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': EXPORT_PATH, ...headers });
    const answer: Answer = { headers: {}, data: Buffer.alloc(0) };
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      answer.headers = h;
      if (!end && h['grpc-status'] !== undefined) req.close();
    });
    req.on('trailers', (t) => (answer.trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => {});
    req.on('close', () => {
      const status = answer.trailers ?? answer.headers;
      if (status['grpc-status'] !== undefined) {
        answer.code = Number(status['grpc-status']);
        answer.message = decodeURIComponent(String(status['grpc-message'] ?? ''));
      }
      answer.data = Buffer.concat(chunks);
      session.close();
      resolve(answer);
    });
    void (async () => {
      for (const p of parts) {
        if (typeof p === 'number') await sleep(p);
        else req.write(p);
      }
      if (end) req.end();
    })();
  });
}

/** A message prefix declaring `length` bytes. */
const prefix = (length: number, flag = 0) => {
  const b = Buffer.alloc(5);
  b[0] = flag;
  b.writeUInt32BE(length, 1);
  return b;
};

/** Compressed bytes behind a prefix with the compressed-flag set. */
const compressedFrame = (bytes: Buffer) => Buffer.concat([prefix(bytes.length, 1), bytes]);

async function inflightBytes(server: TestServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/^ariadne_ingest_inflight_bytes (\d+)/m.exec(text)?.[1]);
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, what);
    await sleep(20);
  }
}

describe('OTLP/gRPC receiver on the wire', () => {
  let server: TestServer;
  let url: string;
  before(async () => {
    server = await startTestServer({ maxBodyBytes: 1024 * 1024 });
    url = `http://127.0.0.1:${server.ports.otlpGrpc}`;
  });
  after(async () => {
    await server.stop();
  });

  const stored = async (traceId: string) => {
    const res = await fetch(`${server.url}/api/v1/traces/${traceId}`);
    return res.status === 200 ? ((await res.json()) as { spans: SpanJson[] }).spans.length : 0;
  };

  it('answers headers, a framed response message, then grpc-status 0 in the trailers', async () => {
    const span = makeSpan({ service: 'grpc-wire' });
    const a = await raw(url, GRPC, [frame(encodeTraceRequestProto([span]))]);
    assert.equal(a.headers[':status'], 200);
    assert.equal(a.headers['content-type'], 'application/grpc');
    assert.equal(a.headers['grpc-status'], undefined, 'status only in the trailers');
    assert.deepEqual(a.trailers && { status: a.trailers['grpc-status'] }, { status: '0' });
    assert.deepEqual([...a.data], [0, 0, 0, 0, 0]); // an empty ExportTraceServiceResponse
    assert.equal(await stored(span.traceId), 1);
  });

  it('accepts application/grpc+proto, gzip, deflate and a prefix split across DATA frames', async () => {
    const spans = [0, 1, 2, 3].map(() => makeSpan({ service: 'grpc-wire' }));
    const [a, b, c, d] = spans.map((s) => encodeTraceRequestProto([s]));
    const answers = await Promise.all([
      raw(url, { ...GRPC, 'content-type': 'application/grpc+proto' }, [frame(a!)]),
      raw(url, { ...GRPC, 'grpc-encoding': 'gzip' }, [compressedFrame(gzipSync(b!))]),
      raw(url, { ...GRPC, 'grpc-encoding': 'deflate' }, [compressedFrame(deflateSync(c!))]),
      raw(url, GRPC, [50, ...[...frame(d!).subarray(0, 7)].flatMap((byte) => [Uint8Array.of(byte), 10]), frame(d!).subarray(7)]),
    ]);
    assert.deepEqual(answers.map((x) => x.code), [0, 0, 0, 0]);
    for (const s of spans) assert.equal(await stored(s.traceId), 1);
  });

  it('returns partial success in the response message', async () => {
    const good = makeSpan({ service: 'grpc-wire' });
    const bad = { ...makeSpan({ service: 'grpc-wire' }), spanId: '0'.repeat(16) };
    const a = await raw(url, GRPC, [frame(encodeTraceRequestProto([good, bad]))]);
    assert.equal(a.code, Status.OK);
    assert.equal(a.data.readUInt32BE(1), a.data.length - 5);
    const r = referenceDecodeResponse(a.data.subarray(5)) as { partialSuccess?: { rejectedSpans?: string } };
    assert.equal(r.partialSuccess?.rejectedSpans, '1');
  });

  // Each: what is sent, the status and message expected in a trailers-only answer.
  const refusals: { name: string; headers?: http2.OutgoingHttpHeaders; parts: () => (Uint8Array | number)[]; code: number; message: RegExp }[] = [
    { name: 'an unknown method', headers: { ':path': '/opentelemetry.proto.collector.trace.v1.TraceService/Nope' }, parts: () => [frame(new Uint8Array(0))], code: Status.UNIMPLEMENTED, message: /does not implement the method .*Nope/ },
    { name: 'an unknown service', headers: { ':path': '/grpc.health.v1.Health/Check' }, parts: () => [frame(new Uint8Array(0))], code: Status.UNIMPLEMENTED, message: /does not implement/ },
    { name: 'a GET', headers: { ':method': 'GET' }, parts: () => [], code: Status.UNIMPLEMENTED, message: /does not implement/ },
    { name: 'an unsupported grpc-encoding', headers: { 'grpc-encoding': 'snappy' }, parts: () => [frame(new Uint8Array(0))], code: Status.UNIMPLEMENTED, message: /snappy/ },
    { name: 'undecodable protobuf', parts: () => [frame(Buffer.from('garbage garbage garbage'))], code: Status.INVALID_ARGUMENT, message: /^cannot decode OTLP protobuf message: / },
    { name: 'no message at all', parts: () => [], code: Status.UNIMPLEMENTED, message: /no request message/ },
    { name: 'a truncated prefix', parts: () => [Uint8Array.of(0, 0, 0)], code: Status.INTERNAL, message: /incomplete message prefix/ },
    { name: 'a truncated message', parts: () => [prefix(100), new Uint8Array(10)], code: Status.INTERNAL, message: /incomplete message: 10 of 100 bytes/ },
    { name: 'two messages', parts: () => [frame(new Uint8Array(0)), frame(new Uint8Array(0))], code: Status.UNIMPLEMENTED, message: /more than one request message/ },
    { name: 'a bad compressed-flag', parts: () => [prefix(0, 2)], code: Status.INTERNAL, message: /compressed-flag 2/ },
    { name: 'a compressed message without grpc-encoding', parts: () => [compressedFrame(gzipSync(Buffer.alloc(10)))], code: Status.INTERNAL, message: /without a grpc-encoding/ },
    { name: 'corrupt gzip', headers: { 'grpc-encoding': 'gzip' }, parts: () => [compressedFrame(Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6]))], code: Status.INTERNAL, message: /Failed to decompress/ },
    { name: 'a message over the limit', parts: () => [frame(Buffer.alloc(1024 * 1024 + 1))], code: Status.RESOURCE_EXHAUSTED, message: /larger than max \(1048577 vs\. 1048576\)/ },
    {
      name: 'a gzip bomb (200 MiB of zeros in ~200 KiB), refused at the limit',
      headers: { 'grpc-encoding': 'gzip' },
      parts: () => [compressedFrame(gzipSync(Buffer.alloc(200 * 1024 * 1024)))],
      code: Status.RESOURCE_EXHAUSTED,
      message: /decompresses to a size larger than 1048576/,
    },
  ];
  for (const r of refusals) {
    it(`refuses ${r.name}`, async () => {
      const a = await raw(url, { ...GRPC, ...r.headers }, r.parts());
      assert.equal(a.headers[':status'], 200);
      assert.equal(a.trailers, undefined, 'a trailers-only answer');
      assert.equal(a.code, r.code, `code (message: ${a.message})`);
      assert.match(a.message!, r.message);
      assert.equal(a.data.length, 0);
    });
  }

  it('names the encodings it accepts when refusing one', async () => {
    const a = await raw(url, { ...GRPC, 'grpc-encoding': 'br' }, [frame(new Uint8Array(0))]);
    assert.equal(a.code, Status.UNIMPLEMENTED);
    assert.equal(a.headers['grpc-accept-encoding'], 'identity,deflate,gzip');
  });

  it('answers anything but gRPC content with HTTP 415', async () => {
    for (const ct of ['application/x-protobuf', 'application/grpc-web+proto', 'application/grpc+json']) {
      const a = await raw(url, { 'content-type': ct }, [frame(new Uint8Array(0))]);
      assert.equal(a.headers[':status'], 415, ct);
      assert.equal(a.code, undefined);
    }
  });

  it('refuses a message declared over the limit before its body is sent', async () => {
    const a = await raw(url, GRPC, [prefix(50 * 1024 * 1024)], false);
    assert.equal(a.code, Status.RESOURCE_EXHAUSTED);
  });

  it('percent-encodes grpc-message', async () => {
    const a = await raw(url, { ...GRPC, ':path': '/100%/done' }, []);
    assert.equal(a.headers['grpc-message'], 'The server does not implement the method /100%25/done');
    assert.equal(a.message, 'The server does not implement the method /100%/done');
  });

  it('releases the reservation when the client resets mid-message or drops the connection', async () => {
    assert.equal(await inflightBytes(server), 0);
    for (const how of ['reset', 'disconnect'] as const) {
      const session = http2.connect(url);
      session.on('error', () => {});
      const req = session.request({ ':method': 'POST', ':path': EXPORT_PATH, ...GRPC });
      req.on('error', () => {});
      req.write(Buffer.concat([prefix(1000), new Uint8Array(100)]));
      await until(`${how}: 1000 bytes reserved`, async () => (await inflightBytes(server)) === 1000);
      if (how === 'reset') req.close(http2.constants.NGHTTP2_CANCEL);
      else session.destroy();
      await until(`${how}: released`, async () => (await inflightBytes(server)) === 0);
      session.destroy();
    }
  });

  it('survives a client that resets right after sending (the export still completes)', async () => {
    const span = makeSpan({ service: 'grpc-wire' });
    const session = http2.connect(url);
    session.on('error', () => {});
    const req = session.request({ ':method': 'POST', ':path': EXPORT_PATH, ...GRPC });
    req.on('error', () => {});
    req.end(frame(encodeTraceRequestProto([span])), () => req.close(http2.constants.NGHTTP2_CANCEL));
    await until('stored', async () => (await stored(span.traceId)) === 1);
    await until('released', async () => (await inflightBytes(server)) === 0);
    session.destroy();
    assert.equal((await raw(url, GRPC, [frame(new Uint8Array(0))])).code, Status.OK, 'still serving');
  });

  it('advertises HTTP/2 windows that let many exports flow at once', async () => {
    const session = http2.connect(url);
    await new Promise((r) => session.once('remoteSettings', r));
    assert.equal(session.remoteSettings.initialWindowSize, 1 << 20);
    await until('connection window update', async () => (session.state.remoteWindowSize ?? 0) >= 16 << 20);
    session.close();
  });

  it('serves a grpc-js client and the load generator client', async () => {
    const span = makeSpan({ service: 'grpc-wire' });
    const Ctor = grpc.makeGenericClientConstructor(traceServiceDefinition, 'TraceService');
    const js = new Ctor(`127.0.0.1:${server.ports.otlpGrpc}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      Export(b: Buffer, cb: (e: grpc.ServiceError | null, r?: Buffer) => void): void;
    };
    const viaJs = await new Promise<{ err: grpc.ServiceError | null; res?: Buffer }>((resolve) => js.Export(Buffer.from(encodeTraceRequestProto([span])), (err, res) => resolve({ err, res })));
    js.close();
    assert.equal(viaJs.err, null);
    assert.equal(viaJs.res?.length, 0);

    const ours = new GrpcUnaryClient(url);
    const spans = Array.from({ length: 20 }, () => makeSpan({ service: 'grpc-wire' }));
    const results = await Promise.all(spans.map((s) => ours.call(EXPORT_PATH, frame(encodeTraceRequestProto([s])))));
    assert.deepEqual(new Set(results.map((r) => r.code)), new Set([Status.OK]));
    assert.equal(results[0]!.response!.length, 0);
    const unknown = await ours.call('/x.Y/Z', frame(new Uint8Array(0)));
    assert.deepEqual({ code: unknown.code, message: unknown.message }, { code: Status.UNIMPLEMENTED, message: 'The server does not implement the method /x.Y/Z' });
    await ours.close();
    for (const s of [span, ...spans]) assert.equal(await stored(s.traceId), 1);
  });
});

describe('OTLP/gRPC receiver, messages over many DATA frames', () => {
  // Such messages are assembled in buffers the ingester recycles: a buffer
  // handed out again too early would mix one request's bytes into another's.
  it('stores every span of concurrent multi-frame messages field by field, round after round', async () => {
    const server = await startTestServer({ maxBodyBytes: 4 * 1024 * 1024 });
    const client = new GrpcUnaryClient(`http://127.0.0.1:${server.ports.otlpGrpc}`);
    try {
      const sent: Span[][] = [];
      for (let round = 0; round < 4; round++) {
        const batches = Array.from({ length: 12 }, (_, i) => {
          const traceId = randomBytes(16).toString('hex');
          // 60–140 spans of ~300 B: 18–42 KB messages, two to three DATA frames, several size classes
          return Array.from({ length: 60 + ((round * 12 + i) % 5) * 20 }, (_, k) =>
            makeSpan({ service: `frames-${round}`, traceId, name: `op-${k}`, attributes: [{ key: 'payload', value: { stringValue: randomBytes(120).toString('hex') } }] }),
          );
        });
        const results = await Promise.all(batches.map((b) => client.call(EXPORT_PATH, frame(encodeTraceRequestProto(b)))));
        assert.deepEqual(results.map((r) => r.code), batches.map(() => Status.OK));
        sent.push(...batches);
      }
      for (const batch of sent) {
        const res = await fetch(`${server.url}/api/v1/traces/${batch[0]!.traceId}`);
        assert.equal(res.status, 200);
        const got = ((await res.json()) as { spans: SpanJson[] }).spans.map(spanFromJson);
        const byId = new Map(got.map((s) => [s.spanId, s]));
        assert.equal(got.length, batch.length);
        for (const want of batch) {
          const s = byId.get(want.spanId);
          assert.ok(s, `span ${want.spanId} stored`);
          assert.deepEqual(
            { name: s.name, attributes: s.attributes, start: s.startTimeUnixNano, end: s.endTimeUnixNano, service: s.service },
            { name: want.name, attributes: want.attributes, start: want.startTimeUnixNano, end: want.endTimeUnixNano, service: want.service },
          );
        }
      }
    } finally {
      await client.close();
      await server.stop();
    }
  });
});

describe('OTLP/gRPC receiver refusals', () => {
  it('checks API keys in authorization, x-api-key or x-raceway-key', async () => {
    const server = await startTestServer({ apiKeys: ['s3cret'] });
    try {
      const url = `http://127.0.0.1:${server.ports.otlpGrpc}`;
      const empty = [frame(new Uint8Array(0))];
      const none = await raw(url, GRPC, empty);
      assert.equal(none.code, Status.UNAUTHENTICATED);
      assert.match(none.message!, /API key/);
      assert.equal((await raw(url, { ...GRPC, authorization: 'Bearer wrong' }, empty)).code, Status.UNAUTHENTICATED);
      assert.equal((await raw(url, { ...GRPC, authorization: 'Bearer s3cret' }, empty)).code, Status.OK);
      assert.equal((await raw(url, { ...GRPC, 'x-api-key': 's3cret' }, empty)).code, Status.OK);
      assert.equal((await raw(url, { ...GRPC, 'x-raceway-key': 's3cret' }, empty)).code, Status.OK);
      assert.equal((await raw(url, { ...GRPC, 'x-raceway-key': 'wrong' }, empty)).code, Status.UNAUTHENTICATED);
      const text = await (await fetch(`${server.url}/metrics`, { headers: { 'x-api-key': 's3cret' } })).text();
      assert.match(text, /ariadne_requests_refused_total\{receiver="otlp_grpc",reason="unauthorized"\} 3/);
    } finally {
      await server.stop();
    }
  });

  it('answers UNAVAILABLE over the in-flight limit, and counts it', async () => {
    const server = await startTestServer({ maxInflightBytes: 1000 });
    try {
      const client = new GrpcUnaryClient(`http://127.0.0.1:${server.ports.otlpGrpc}`);
      const big = frame(encodeTraceRequestProto(Array.from({ length: 50 }, () => makeSpan({ service: 'inflight' }))));
      // The first request always gets in; one concurrent with it exceeds the limit.
      const results = await Promise.all(Array.from({ length: 20 }, () => client.call(EXPORT_PATH, big)));
      await client.close();
      const codes = results.map((r) => r.code);
      assert.ok(codes.includes(Status.OK), `some accepted: ${codes}`);
      const refused = results.find((r) => r.code === Status.UNAVAILABLE);
      assert.ok(refused, `some refused: ${codes}`);
      assert.match(refused.message, /in-flight/);
      assert.equal(await inflightBytes(server), 0);
      const text = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(text, /ariadne_requests_refused_total\{receiver="otlp_grpc",reason="overloaded"\} [1-9]/);
    } finally {
      await server.stop();
    }
  });

  it('lets calls under way finish when it closes', async () => {
    const server = await startTestServer();
    const url = `http://127.0.0.1:${server.ports.otlpGrpc}`;
    const message = frame(encodeTraceRequestProto([makeSpan({ service: 'closing' })]));
    const half = message.length >> 1;
    // half the message, a pause, the rest: the server closes in the pause
    const call = raw(url, GRPC, [message.subarray(0, half), 300, message.subarray(half)]);
    // under way: its prefix was read and its room reserved (not a fixed sleep, which a loaded machine outlasts)
    const reserved = /ariadne_ingest_inflight_bytes [1-9]/;
    while (!reserved.test(await (await fetch(`${server.url}/metrics`)).text())) await sleep(5);
    const stopping = server.stop();
    assert.equal((await call).code, Status.OK);
    await stopping;
  });
});

describe('OTLP/gRPC receiver, a stalled client', () => {
  it('is answered DEADLINE_EXCEEDED after readIdleMs without data, and its reservation freed', async () => {
    let inflight = 0;
    const ingester = {
      reserve: (n: number) => void (inflight += n),
      release: (n: number) => void (inflight -= n),
      ingestEncoded: async (_r: string, _f: number, _b: Uint8Array, spans: number) => ({ ok: true, accepted: spans }),
      bodies: new BufferPool(),
    } as unknown as Ingester;
    const metrics = createMetrics();
    const grpcServer = await startOtlpGrpc({ ingester, metrics, maxBodyBytes: 1 << 20, readIdleMs: 200 }, '127.0.0.1', 0);
    try {
      const url = `http://127.0.0.1:${grpcServer.port}`;
      const started = Date.now();
      const a = await raw(url, GRPC, [Buffer.concat([prefix(1000), new Uint8Array(10)])], false);
      assert.equal(a.code, Status.DEADLINE_EXCEEDED);
      assert.match(a.message!, /no request data for 200 ms/);
      assert.ok(Date.now() - started >= 190);
      assert.equal(inflight, 0);
      assert.match(await metrics.registry.metrics(), /ariadne_requests_refused_total\{receiver="otlp_grpc",reason="timeout"\} 1/);

      // idle time, not a deadline: a slow client that keeps sending is served
      const message = frame(encodeTraceRequestProto([makeSpan({ service: 'slow' })]));
      const third = Math.ceil(message.length / 3);
      const slow = await raw(url, GRPC, [message.subarray(0, third), 120, message.subarray(third, 2 * third), 120, message.subarray(2 * third), 120]);
      assert.equal(slow.code, Status.OK);
      assert.equal(inflight, 0);
    } finally {
      await grpcServer.close();
    }
  });
});
