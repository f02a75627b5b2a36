// The /api/v1 query API, /health, /ready, /metrics, API keys and retention,
// end to end against a real server.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SpanJson, TraceSummaryJson } from '@ariadne/model';
import { encodeTraceRequestProto } from '../receive/otlp/index.js';
import { attrs, makeSpan, MS, nowNanos, randomTraceId, SECOND } from '../testing/fixtures.js';
import { startTestServer, type TestServer } from '../testing/server.js';

async function post(server: TestServer, spans: ReturnType<typeof makeSpan>[], headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${server.url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', ...headers },
    body: encodeTraceRequestProto(spans) as BodyInit,
  });
  await res.arrayBuffer();
  return res.status;
}

async function get<T>(server: TestServer, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${server.url}${path}`, { headers });
  return { status: res.status, body: (await res.json()) as T };
}

describe('query API', () => {
  let server: TestServer;
  const now = nowNanos();
  const slowTrace = randomTraceId();
  const errTrace = randomTraceId();
  before(async () => {
    server = await startTestServer();
    const root = makeSpan({ traceId: slowTrace, service: 'checkout', name: 'POST /pay', startTimeUnixNano: now - 10n * SECOND, endTimeUnixNano: now - 10n * SECOND + 1500n * MS, attributes: attrs({ 'http.method': 'POST', 'retry.count': 2 }) });
    const child = makeSpan({ traceId: slowTrace, parentSpanId: root.spanId, service: 'payments', name: 'charge', startTimeUnixNano: now - 10n * SECOND + 100n * MS, endTimeUnixNano: now - 10n * SECOND + 900n * MS });
    const err = makeSpan({ traceId: errTrace, service: 'checkout', name: 'GET /cart', startTimeUnixNano: now - 5n * SECOND, endTimeUnixNano: now - 5n * SECOND + 20n * MS, status: { code: 2, message: 'boom' }, attributes: attrs({ 'http.method': 'GET' }) });
    assert.equal(await post(server, [root, child, err]), 200);
  });
  after(() => server.stop());

  it('searches by each filter and their combination', async () => {
    const ids = async (qs: string) => (await get<{ traces: TraceSummaryJson[] }>(server, `/api/v1/traces?${qs}`)).body.traces.map((t) => t.traceId);
    assert.deepEqual(await ids('service=checkout'), [errTrace, slowTrace]);
    assert.deepEqual(await ids('service=checkout&operation=POST%20/pay'), [slowTrace]);
    assert.deepEqual(await ids('attr.http.method=GET'), [errTrace]);
    assert.deepEqual(await ids('attr.retry.count=2&service=checkout'), [slowTrace]);
    assert.deepEqual(await ids('minDuration=1s'), [slowTrace]);
    assert.deepEqual(await ids('maxDuration=50ms'), [errTrace]);
    assert.deepEqual(await ids('status=error'), [errTrace]);
    assert.deepEqual(await ids(`start=${now - 6n * SECOND}&service=checkout`), [errTrace]);
    assert.deepEqual(await ids(`end=${new Date(Number((now - 7n * SECOND) / MS)).toISOString()}`), [slowTrace]);
    assert.deepEqual(await ids('service=payments&operation=POST%20/pay'), [], 'conditions hold on one span');
    assert.deepEqual(await ids('limit=1'), [errTrace]);
  });

  it('summarizes traces', async () => {
    const { body } = await get<{ traces: TraceSummaryJson[] }>(server, `/api/v1/traces?service=payments`);
    assert.deepEqual(body.traces[0], {
      traceId: slowTrace,
      rootService: 'checkout',
      rootOperation: 'POST /pay',
      startTimeUnixNano: (now - 10n * SECOND).toString(),
      durationNanos: 1_500_000_000,
      spanCount: 2,
      errorCount: 0,
      services: ['checkout', 'payments'],
    });
  });

  const badParams: [string, string][] = [
    ['minDuration=fast', 'minDuration'],
    ['maxDuration=-1s', 'maxDuration'],
    ['status=broken', 'status'],
    ['start=yesterday', 'start'],
    ['end=12:00', 'end'],
    ['limit=0', 'limit'],
    ['limit=abc', 'limit'],
    ['colour=red', 'colour'],
    ['attr.=x', 'attr.'],
    ['service=', 'service'],
    ['minDuration=2s&maxDuration=1s', 'minDuration'],
  ];
  for (const [qs, param] of badParams) {
    it(`400 names the parameter: ${qs}`, async () => {
      const { status, body } = await get<{ error: string; param: string }>(server, `/api/v1/traces?${qs}`);
      assert.equal(status, 400);
      assert.equal(body.param, param);
      assert.match(body.error, new RegExp(`'${param.replace('.', '\\.')}'`));
    });
  }

  it('trace by id: 400 for a malformed id, 404 for an unknown one', async () => {
    assert.equal((await get(server, '/api/v1/traces/not-an-id')).status, 400);
    assert.equal((await get(server, `/api/v1/traces/${'A'.repeat(32)}`)).status, 400);
    const missing = await get<{ error: string }>(server, `/api/v1/traces/${randomTraceId()}`);
    assert.equal(missing.status, 404);
    assert.match(missing.body.error, /not found/);
  });

  it('lists services and operations with span kinds', async () => {
    assert.deepEqual((await get<{ services: string[] }>(server, '/api/v1/services')).body.services, ['checkout', 'payments']);
    const ops = (await get<{ operations: { name: string; spanKind: number }[] }>(server, '/api/v1/services/checkout/operations')).body.operations;
    assert.deepEqual(ops, [
      { name: 'GET /cart', spanKind: 2 },
      { name: 'POST /pay', spanKind: 2 },
    ]);
    assert.deepEqual((await get<{ operations: unknown[] }>(server, '/api/v1/services/nope/operations')).body.operations, []);
  });

  it('serves health, readiness, metrics, OpenAPI and CSP headers', async () => {
    assert.equal((await get(server, '/health')).status, 200);
    assert.equal((await get(server, '/ready')).status, 200);
    const metrics = await fetch(`${server.url}/metrics`);
    const text = await metrics.text();
    assert.match(text, /ariadne_spans_accepted_total\{receiver="otlp_http"\} 3/);
    assert.match(text, /ariadne_wal_bytes \d+/);
    assert.match(text, /ariadne_wal_trash_segments \d+/);
    assert.match(text, /ariadne_store_bytes/);
    const openapi = await get<{ openapi: string; paths: Record<string, unknown> }>(server, '/api/openapi.json');
    assert.equal(openapi.body.openapi, '3.1.0');
    assert.ok(openapi.body.paths['/api/v1/traces']);
    const page = await fetch(`${server.url}/`);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  });

  it('returns every span field as stored', async () => {
    const { body } = await get<{ spans: SpanJson[] }>(server, `/api/v1/traces/${slowTrace}`);
    const root = body.spans.find((s) => s.parentSpanId === '')!;
    assert.equal(root.startTimeUnixNano, (now - 10n * SECOND).toString());
    assert.deepEqual(root.attributes, [
      { key: 'http.method', value: { stringValue: 'POST' } },
      { key: 'retry.count', value: { intValue: '2' } },
    ]);
  });
});

describe('API keys', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ apiKeys: ['s3cret'] });
  });
  after(() => server.stop());

  it('refuses requests without a valid key, except health and readiness', async () => {
    assert.equal((await get(server, '/api/v1/services')).status, 401);
    assert.equal((await get(server, '/api/v1/services', { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await get(server, '/api/v1/services', { authorization: 'Bearer s3cret' })).status, 200);
    assert.equal((await get(server, '/api/v1/services', { 'x-api-key': 's3cret' })).status, 200);
    assert.equal((await get(server, '/api/v1/services', { 'x-raceway-key': 's3cret' })).status, 200);
    assert.equal(await post(server, [makeSpan()]), 401);
    assert.equal(await post(server, [makeSpan()], { 'x-api-key': 's3cret' }), 200);
    assert.equal((await get(server, '/health')).status, 200);
    const otlpPort = (key?: string) =>
      fetch(`${server.otlpHttpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { 'x-api-key': key } : {}) }, body: '{}' }).then((r) => r.status);
    assert.equal(await otlpPort(), 401);
    assert.equal(await otlpPort('s3cret'), 200);
  });

  it('guards OTLP/gRPC with the same keys', async () => {
    const grpc = await import('@grpc/grpc-js');
    const { traceServiceDefinition } = await import('../receive/otlp-grpc.js');
    const Ctor = grpc.makeGenericClientConstructor(traceServiceDefinition, 'TraceService');
    const client = new Ctor(`127.0.0.1:${server.ports.otlpGrpc}`, grpc.credentials.createInsecure()) as unknown as {
      Export(b: Buffer, md: InstanceType<typeof grpc.Metadata>, cb: (e: { code: number } | null) => void): void;
      close(): void;
    };
    const call = (key?: string) =>
      new Promise<number>((resolve) => {
        const md = new grpc.Metadata();
        if (key) md.set('authorization', `Bearer ${key}`);
        client.Export(Buffer.alloc(0), md, (e) => resolve(e ? e.code : 0));
      });
    assert.equal(await call(), grpc.status.UNAUTHENTICATED);
    assert.equal(await call('s3cret'), 0);
    client.close();
  });
});

describe('retention', () => {
  it('deletes spans older than --retention and keeps newer ones', async () => {
    const server = await startTestServer({ retentionNanos: (3600n * SECOND) as never, retentionIntervalMs: 100 });
    try {
      const now = nowNanos();
      const old = makeSpan({ service: 'ret', startTimeUnixNano: now - 7200n * SECOND, endTimeUnixNano: now - 7200n * SECOND + MS });
      const fresh = makeSpan({ service: 'ret', startTimeUnixNano: now - 60n * SECOND, endTimeUnixNano: now - 60n * SECOND + MS });
      assert.equal(await post(server, [old, fresh]), 200);
      const deadline = Date.now() + 5000;
      while ((await get(server, `/api/v1/traces/${old.traceId}`)).status !== 404) {
        assert.ok(Date.now() < deadline, 'old span deleted within 5 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal((await get(server, `/api/v1/traces/${fresh.traceId}`)).status, 200);
      assert.match(await (await fetch(`${server.url}/metrics`)).text(), /ariadne_retention_deleted_spans_total 1/);
    } finally {
      await server.stop();
    }
  });
});
