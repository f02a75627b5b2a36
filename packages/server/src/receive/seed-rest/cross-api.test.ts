// Spans are spans: what the seed API makes reads back through /api/v1 to
// the nanosecond with typed attributes, what OTLP sends reads back through
// the seed routes, and both survive a restart. Open spans that are never
// finished are written as unfinished (timeout, eviction, shutdown).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spanFromJson, type SpanJson } from '@ariadne/model';
import { startTestServer, type TestServer } from '../../testing/server.js';
import { randomSpanId, randomTraceId } from '../../testing/fixtures.js';
import { createMetrics } from '../../metrics.js';
import { seedRestApi, UNFINISHED_ATTRIBUTE } from './index.js';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const post = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Json };
};
const get = async (url: string) => {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as Json };
};

describe('seed API <-> the other APIs', () => {
  let server: TestServer;
  const dir = mkdtempSync(join(tmpdir(), 'ariadne-seed-'));
  before(async () => {
    server = await startTestServer({ dataDir: dir });
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  let traceId: string;
  let rootId: string;
  let childId: string;
  const startMs = Math.floor(Date.now()) - 5000 + 0.456;

  it('a seed span reads back through /api/v1 exactly: times to the nanosecond, typed attributes', async () => {
    const start = await post(`${server.url}/traces/start`, { serviceName: 'gateway', operationName: 'GET /orders', startTime: startMs, tags: { 'http.method': 'GET' } });
    ({ traceId, spanId: rootId } = start.body);
    const child = await post(`${server.url}/traces/span`, {
      traceId,
      parentSpanId: rootId,
      serviceName: 'orders',
      operationName: 'list',
      kind: 'client',
      startTime: startMs + 1.5,
      duration: 45.123456,
      status: 'error',
      statusMessage: 'timeout',
      tags: { 'http.status_code': 504, ratio: 0.25, cached: false, ids: [1, 2] },
    });
    childId = child.body.spanId;

    const r = await get(`${server.url}/api/v1/traces/${traceId}`);
    assert.equal(r.status, 200);
    // Only the finished child: the root is still open.
    assert.equal(r.body.spans.length, 1);
    const s = spanFromJson(r.body.spans[0] as SpanJson);
    const startNs = BigInt(String(startMs + 1.5).replace('.', '')) * 10n ** BigInt(6 - String(startMs + 1.5).split('.')[1]!.length);
    assert.equal(s.startTimeUnixNano, startNs);
    assert.equal(s.endTimeUnixNano - s.startTimeUnixNano, 45_123_456n);
    assert.equal(s.traceId, traceId);
    assert.equal(s.spanId, childId);
    assert.equal(s.parentSpanId, rootId);
    assert.equal(s.service, 'orders');
    assert.equal(s.name, 'list');
    assert.equal(s.kind, 3);
    assert.deepEqual(s.status, { code: 2, message: 'timeout' });
    assert.deepEqual(s.resource.attributes, [{ key: 'service.name', value: { stringValue: 'orders' } }]);
    assert.equal(s.scope.name, '@ariadne/seed-rest');
    assert.deepEqual(s.attributes, [
      { key: 'http.status_code', value: { intValue: '504' } },
      { key: 'ratio', value: { doubleValue: 0.25 } },
      { key: 'cached', value: { boolValue: false } },
      { key: 'ids', value: { arrayValue: { values: [{ intValue: '1' }, { intValue: '2' }] } } },
    ]);
    const search = await get(`${server.url}/api/v1/traces?service=orders&status=error`);
    assert.deepEqual(search.body.traces.map((t: Json) => t.traceId), [traceId]);
  });

  it('finishing the root makes it a stored span too, with the merged tags and status', async () => {
    const fin = await post(`${server.url}/traces/span/finish`, { spanId: rootId, status: 'success', tags: { 'http.status_code': 200 } });
    assert.equal(fin.status, 200);
    const r = await get(`${server.url}/api/v1/traces/${traceId}`);
    const root = r.body.spans.map((j: SpanJson) => spanFromJson(j)).find((s: Json) => s.spanId === rootId);
    assert.equal(root.parentSpanId, '');
    assert.equal(root.kind, 2);
    assert.deepEqual(root.status, { code: 1, message: '' });
    assert.deepEqual(root.attributes, [
      { key: 'http.method', value: { stringValue: 'GET' } },
      { key: 'http.status_code', value: { intValue: '200' } },
    ]);
    assert.equal(Number(root.endTimeUnixNano - root.startTimeUnixNano) / 1e6, fin.body.duration);
  });

  it('an OTLP trace reads back through GET /traces/:id, /visualize and /analyze in milliseconds', async () => {
    const otlpTrace = randomTraceId();
    const parent = randomSpanId();
    const child = randomSpanId();
    const t0 = BigInt(Date.now() - 2000) * 1_000_000n;
    const res = await fetch(`${server.otlpHttpUrl}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'otlp-front' } }] },
            scopeSpans: [{ spans: [{ traceId: otlpTrace, spanId: parent, name: 'GET /', kind: 2, startTimeUnixNano: String(t0), endTimeUnixNano: String(t0 + 12_345_678n), attributes: [{ key: 'http.route', value: { stringValue: '/' } }, { key: 'big', value: { intValue: '9007199254740993' } }] }] }],
          },
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'otlp-back' } }] },
            scopeSpans: [{ spans: [{ traceId: otlpTrace, spanId: child, parentSpanId: parent, name: 'work', kind: 2, startTimeUnixNano: String(t0 + 1_000_000n), endTimeUnixNano: String(t0 + 11_000_000n), status: { code: 2, message: 'boom' } }] }],
          },
        ],
      }),
    });
    assert.equal(res.status, 200);

    const t = await get(`${server.url}/traces/${otlpTrace}`);
    assert.equal(t.status, 200);
    assert.equal(t.body.status, 'failed');
    assert.equal(t.body.duration, 12.345678);
    assert.equal(t.body.serviceCalls, 2);
    assert.deepEqual(t.body.rootSpan, {
      spanId: parent,
      serviceName: 'otlp-front',
      operationName: 'GET /',
      startTime: Number(t0 / 1000n) / 1000,
      duration: 12.345678,
      status: 'unset',
      tags: { 'http.route': '/', big: '9007199254740993' },
    });
    assert.deepEqual(t.body.spans.map((s: Json) => [s.spanId, s.parentSpanId, s.serviceName, s.duration, s.status]), [[child, parent, 'otlp-back', 10, 'error']]);

    const v = await get(`${server.url}/traces/${otlpTrace}/visualize`);
    assert.equal(v.body.tree.spanId, parent);
    assert.deepEqual(v.body.tree.children.map((c: Json) => [c.spanId, c.duration, c.status]), [[child, 10, 'error']]);

    const a = await get(`${server.url}/traces/${otlpTrace}/analyze`);
    assert.deepEqual(a.body.serviceBreakdown, { 'otlp-front': 2.345678, 'otlp-back': 10 });
    assert.deepEqual(a.body.criticalPath, ['otlp-front:GET /', 'otlp-back:work']);
    assert.equal(a.body.totalDuration, 12.345678);

    const q = await get(`${server.url}/traces/query?serviceName=otlp-back&status=failed`);
    assert.deepEqual(q.body.map((x: Json) => x.traceId), [otlpTrace]);
  });

  it('seed spans survive a restart (they went through the WAL); open spans are written as unfinished on shutdown', async () => {
    const open = await post(`${server.url}/traces/start`, { serviceName: 'gateway', operationName: 'long-poll' });
    await server.stop();
    server = await startTestServer({ dataDir: dir });
    const t = await get(`${server.url}/traces/${traceId}`);
    assert.equal(t.status, 200);
    assert.equal(t.body.serviceCalls, 2);
    assert.equal(t.body.status, 'failed');
    const o = await get(`${server.url}/traces/${open.body.traceId}`);
    assert.equal(o.status, 200);
    assert.equal(o.body.status, 'completed');
    assert.deepEqual(o.body.rootSpan.tags, { [UNFINISHED_ATTRIBUTE]: 'shutdown' });
    // The span is no longer open: finishing it now is a 404.
    assert.equal((await post(`${server.url}/traces/span/finish`, { spanId: open.body.spanId })).status, 404);
  });
});

describe('open spans: timeout and eviction', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  it('a span open past the timeout is written, marked unfinished; beyond maxSpans the oldest is evicted', async () => {
    const seed = seedRestApi({ ingester: server.ingester, store: server.store, metrics: createMetrics(), timeoutMs: 150, sweepIntervalMs: 20, maxSpans: 2 });
    const call = async (path: string, body: unknown) => (await seed.app.request(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })).json() as Promise<Json>;
    try {
      const a = await call('/traces/start', { serviceName: 's', operationName: 'a' });
      const b = await call('/traces/start', { serviceName: 's', operationName: 'b' });
      const c = await call('/traces/start', { serviceName: 's', operationName: 'c' });
      assert.equal(seed.open.size, 2);
      assert.equal(seed.open.has(a.spanId), false);
      const deadline = Date.now() + 5000;
      while (seed.open.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(seed.open.size, 0);
      await new Promise((r) => setTimeout(r, 50)); // the write follows the sweep
      const reasons: Record<string, string> = {};
      for (const x of [a, b, c]) {
        const spans = await server.store.getTrace(x.traceId);
        assert.equal(spans.length, 1);
        reasons[spans[0]!.name] = spans[0]!.attributes.find((kv) => kv.key === UNFINISHED_ATTRIBUTE)!.value.stringValue!;
      }
      assert.deepEqual(reasons, { a: 'evicted', b: 'timeout', c: 'timeout' });
    } finally {
      await seed.close();
    }
  });
});
