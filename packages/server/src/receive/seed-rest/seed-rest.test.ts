// Seed 004 replayed end to end: every curl of its README, in order, as
// fetch calls against a real server, checking each answer's shape and
// values. The seed's placeholder ids ("trace-abc-123", "span-root-001",
// "span-child-002") stand for the ids the server returned.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../testing/server.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.stop();
});

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function curl(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await fetch(server.url + path, {
    method,
    headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

function assertSpanShape(s: Json, root: boolean): void {
  assert.match(s.spanId, HEX16);
  if (root) assert.equal(s.parentSpanId, undefined);
  else assert.match(s.parentSpanId, HEX16);
  for (const k of ['serviceName', 'operationName', 'status']) assert.equal(typeof s[k], 'string', k);
  for (const k of ['startTime', 'duration']) assert.equal(typeof s[k], 'number', k);
  assert.equal(typeof s.tags, 'object');
}

function assertTraceShape(t: Json): void {
  assert.deepEqual(Object.keys(t).sort(), ['duration', 'rootSpan', 'serviceCalls', 'spans', 'status', 'traceId']);
  assert.match(t.traceId, HEX32);
  assertSpanShape(t.rootSpan, t.rootSpan.parentSpanId === undefined);
  for (const s of t.spans) assertSpanShape(s, false);
  assert.equal(t.serviceCalls, t.spans.length + 1);
  assert.ok(['active', 'completed', 'failed'].includes(t.status));
}

function assertTreeNode(n: Json): void {
  for (const k of ['spanId', 'serviceName', 'operationName', 'duration', 'children']) assert.ok(k in n, k);
  for (const c of n.children) assertTreeNode(c);
}

function assertAnalyzeShape(a: Json): void {
  assert.deepEqual(Object.keys(a).sort(), ['bottlenecks', 'criticalPath', 'serviceBreakdown', 'serviceCalls', 'totalDuration', 'traceId']);
  for (const b of a.bottlenecks) {
    assert.match(b.span, /^[^:]+:.+$/);
    assert.equal(typeof b.duration, 'number');
    assert.equal(typeof b.percentage, 'number');
  }
  for (const p of a.criticalPath) assert.match(p, /^[^:]+:.+$/);
}

function assertStatsShape(s: Json): void {
  for (const k of ['totalTraces', 'activeTraces', 'completedTraces', 'failedTraces', 'avgDuration']) assert.equal(typeof s[k], 'number', k);
  assert.equal(s.totalTraces, s.activeTraces + s.completedTraces + s.failedTraces);
  for (const t of s.slowestTraces) assert.deepEqual(Object.keys(t).sort(), ['duration', 'traceId']);
  for (const v of Object.values<Json>(s.serviceStats)) assert.deepEqual(Object.keys(v).sort(), ['avgDuration', 'count']);
}

describe('seed 004 replayed', () => {
  // Ids the server hands out, standing in for the seed's placeholders.
  let traceAbc: string; // "trace-abc-123"
  let spanRoot: string; // "span-root-001"
  let spanChild: string; // "span-child-002"

  it('API reference: POST /traces/start', async () => {
    const r = await curl('POST', '/traces/start', { serviceName: 'api-gateway', operationName: 'handleUserRequest' });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body).sort(), ['spanId', 'traceId']);
    assert.match(r.body.traceId, HEX32);
    assert.match(r.body.spanId, HEX16);
    assert.equal(r.headers.get('traceparent'), `00-${r.body.traceId}-${r.body.spanId}-01`);
    ({ traceId: traceAbc, spanId: spanRoot } = r.body);
  });

  it('API reference: POST /traces/span', async () => {
    const r = await curl('POST', '/traces/span', {
      traceId: traceAbc,
      parentSpanId: spanRoot,
      serviceName: 'user-service',
      operationName: 'getUserById',
      tags: { userId: 'user-456', cache: 'miss' },
      duration: 45,
      status: 'success',
    });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body), ['spanId']);
    assert.match(r.body.spanId, HEX16);
    spanChild = r.body.spanId;
  });

  it('API reference: POST /traces/span/finish (of a span recorded with a duration: a no-op)', async () => {
    const r = await curl('POST', '/traces/span/finish', { spanId: spanChild, status: 'success' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { spanId: spanChild, traceId: traceAbc, duration: 45, status: 'success', alreadyFinished: true });
  });

  it('API reference: GET /traces/{traceId}', async () => {
    const r = await curl('GET', `/traces/${traceAbc}`);
    assert.equal(r.status, 200);
    assertTraceShape(r.body);
    const t = r.body;
    assert.equal(t.traceId, traceAbc);
    assert.equal(t.rootSpan.spanId, spanRoot);
    assert.equal(t.rootSpan.serviceName, 'api-gateway');
    assert.equal(t.rootSpan.operationName, 'handleUserRequest');
    assert.equal(t.rootSpan.status, 'active'); // never finished in the seed
    assert.deepEqual(t.rootSpan.tags, {});
    assert.equal(t.spans.length, 1);
    const child = t.spans[0];
    assert.deepEqual(
      { spanId: child.spanId, parentSpanId: child.parentSpanId, serviceName: child.serviceName, operationName: child.operationName, duration: child.duration, status: child.status, tags: child.tags },
      { spanId: spanChild, parentSpanId: spanRoot, serviceName: 'user-service', operationName: 'getUserById', duration: 45, status: 'success', tags: { userId: 'user-456', cache: 'miss' } },
    );
    // Reported after the fact, the child ended when reported; it cannot begin before its open parent.
    assert.ok(child.startTime >= t.rootSpan.startTime);
    assert.equal(t.serviceCalls, 2);
    assert.equal(t.status, 'active');
    assert.ok(t.duration >= 45);
  });

  it('API reference: GET /traces/query (service, slow, failed, operation)', async () => {
    const byService = await curl('GET', '/traces/query?serviceName=user-service&limit=10');
    assert.equal(byService.status, 200);
    assert.ok(Array.isArray(byService.body));
    assert.deepEqual(byService.body.map((x: Json) => x.traceId), [traceAbc]);
    const row = byService.body[0];
    assert.deepEqual(Object.keys(row).sort(), ['duration', 'errorCount', 'operationName', 'serviceCalls', 'serviceName', 'services', 'startTime', 'status', 'traceId']);
    assert.equal(row.serviceName, 'api-gateway');
    assert.equal(row.operationName, 'handleUserRequest');
    assert.equal(row.serviceCalls, 2);
    assert.equal(row.status, 'active');
    assert.deepEqual(row.services, ['api-gateway', 'user-service']);

    const slow = await curl('GET', '/traces/query?minDuration=1000');
    assert.equal(slow.status, 200);
    assert.deepEqual(slow.body, []);

    const failed = await curl('GET', '/traces/query?status=failed');
    assert.equal(failed.status, 200);
    assert.deepEqual(failed.body, []);

    const byOp = await curl('GET', '/traces/query?operationName=getUserById');
    assert.deepEqual(byOp.body.map((x: Json) => x.traceId), [traceAbc]);
  });

  it('API reference: GET /traces/{traceId}/visualize', async () => {
    const r = await curl('GET', `/traces/${traceAbc}/visualize`);
    assert.equal(r.status, 200);
    assert.equal(r.body.traceId, traceAbc);
    assert.equal(r.body.serviceCalls, 2);
    assert.equal(typeof r.body.duration, 'number');
    assertTreeNode(r.body.tree);
    assert.equal(r.body.tree.spanId, spanRoot);
    assert.equal(r.body.tree.serviceName, 'api-gateway');
    assert.deepEqual(
      r.body.tree.children.map((c: Json) => [c.spanId, c.serviceName, c.operationName, c.duration, c.children]),
      [[spanChild, 'user-service', 'getUserById', 45, []]],
    );
    assert.deepEqual(r.body.orphans, []);
  });

  it('API reference: GET /traces/{traceId}/analyze', async () => {
    const r = await curl('GET', `/traces/${traceAbc}/analyze`);
    assert.equal(r.status, 200);
    assertAnalyzeShape(r.body);
    assert.equal(r.body.traceId, traceAbc);
    assert.equal(r.body.serviceCalls, 2);
    assert.equal(r.body.serviceBreakdown['user-service'], 45);
    // The root is still open (it ends "now" for the analysis), so which of the two leads depends on timing.
    assert.ok(r.body.criticalPath.includes('user-service:getUserById'));
    for (const p of r.body.criticalPath) assert.ok(['api-gateway:handleUserRequest', 'user-service:getUserById'].includes(p), p);
    assert.ok(r.body.bottlenecks.some((b: Json) => b.span === 'user-service:getUserById' && b.duration === 45 && b.spanId === spanChild));
  });

  it('API reference: GET /stats', async () => {
    const r = await curl('GET', '/stats');
    assert.equal(r.status, 200);
    assertStatsShape(r.body);
    assert.equal(r.body.activeTraces, 1);
    assert.equal(r.body.totalTraces, 1);
    assert.deepEqual(r.body.serviceStats['api-gateway'], { count: 1, avgDuration: null }); // active: not sampled
  });

  // --- Example workflow 1: complete request trace ---------------------------------------
  let trace: string;
  let rootSpan: string;
  let rootOfTrace: string;

  it('workflow 1: TRACE and ROOT_SPAN come from two /traces/start calls (two traces, as the seed writes it)', async () => {
    const a = await curl('POST', '/traces/start', { serviceName: 'api-gateway', operationName: 'processOrder' });
    const b = await curl('POST', '/traces/start', { serviceName: 'api-gateway', operationName: 'processOrder' });
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    trace = a.body.traceId;
    rootOfTrace = a.body.spanId;
    rootSpan = b.body.spanId;
    assert.notEqual(a.body.traceId, b.body.traceId);
  });

  it('workflow 1: spans for the user service and the database', async () => {
    const u = await curl('POST', '/traces/span', {
      traceId: trace,
      parentSpanId: rootSpan,
      serviceName: 'user-service',
      operationName: 'validateUser',
      tags: { userId: 'user-123' },
      duration: 45,
      status: 'success',
    });
    assert.equal(u.status, 200);
    const d = await curl('POST', '/traces/span', {
      traceId: trace,
      parentSpanId: rootSpan,
      serviceName: 'database',
      operationName: 'insertOrder',
      tags: { table: 'orders' },
      duration: 23,
      status: 'success',
    });
    assert.equal(d.status, 200);
    assert.match(u.body.spanId, HEX16);
    assert.match(d.body.spanId, HEX16);
  });

  it('workflow 1: view, visualize and analyze the trace', async () => {
    const t = await curl('GET', `/traces/${trace}`);
    assert.equal(t.status, 200);
    assertTraceShape(t.body);
    assert.equal(t.body.rootSpan.spanId, rootOfTrace);
    assert.deepEqual(
      t.body.spans.map((s: Json) => [s.serviceName, s.operationName, s.parentSpanId, s.duration, s.tags]).sort(),
      [
        ['database', 'insertOrder', rootSpan, 23, { table: 'orders' }],
        ['user-service', 'validateUser', rootSpan, 45, { userId: 'user-123' }],
      ],
    );
    assert.equal(t.body.serviceCalls, 3);
    assert.equal(t.body.status, 'active');

    // The children name a parent from the other trace: they hang off nothing here.
    const v = await curl('GET', `/traces/${trace}/visualize`);
    assert.equal(v.status, 200);
    assertTreeNode(v.body.tree);
    assert.equal(v.body.tree.spanId, rootOfTrace);
    assert.deepEqual(v.body.tree.children, []);
    assert.deepEqual(v.body.orphans.map((o: Json) => o.operationName).sort(), ['insertOrder', 'validateUser']);

    const a = await curl('GET', `/traces/${trace}/analyze`);
    assert.equal(a.status, 200);
    assertAnalyzeShape(a.body);
    assert.equal(a.body.serviceCalls, 3);
    assert.equal(a.body.serviceBreakdown['user-service'], 45);
    assert.equal(a.body.serviceBreakdown.database, 23);
  });

  // --- Example workflow 2: finding slow requests -------------------------------------------
  let slowTrace: string;
  let failedTrace: string;

  it('setup for workflows 2 and 3: a finished slow trace and a failed one (through the same API)', async () => {
    const now = Date.now();
    const s = await curl('POST', '/traces/start', { serviceName: 'api-gateway', operationName: 'checkout', startTime: now - 1000 });
    slowTrace = s.body.traceId;
    const child = await curl('POST', '/traces/span', {
      traceId: slowTrace,
      parentSpanId: s.body.spanId,
      serviceName: 'payment',
      operationName: 'charge',
      startTime: now - 900,
      duration: 750,
      status: 'success',
    });
    assert.equal(child.status, 200);
    assert.equal((await curl('POST', '/traces/span/finish', { spanId: s.body.spanId, status: 'success' })).status, 200);

    const f = await curl('POST', '/traces/start', { serviceName: 'api-gateway', operationName: 'refund' });
    failedTrace = f.body.traceId;
    await curl('POST', '/traces/span', { traceId: failedTrace, parentSpanId: f.body.spanId, serviceName: 'payment', operationName: 'refund', duration: 5, status: 'failed', statusMessage: 'card declined' });
    assert.equal((await curl('POST', '/traces/span/finish', { spanId: f.body.spanId, status: 'error' })).status, 200);
  });

  it('workflow 2: query slow traces (>500ms), then analyze each one', async () => {
    // The seed queries >500 ms; the refund trace's duration is wall time between two
    // requests, which a loaded CI machine can stretch, so the threshold sits just
    // under the slow trace's fixed 1 s.
    const q = await curl('GET', '/traces/query?minDuration=950&limit=20');
    assert.equal(q.status, 200);
    assert.deepEqual(q.body.map((x: Json) => x.traceId), [slowTrace]);
    assert.ok(q.body[0].duration >= 1000);
    assert.equal(q.body[0].status, 'completed');

    const ids = (await curl('GET', '/traces/query?minDuration=950')).body.map((x: Json) => x.traceId);
    assert.deepEqual(ids, [slowTrace]);
    for (const id of ids) {
      const a = await curl('GET', `/traces/${id}/analyze`);
      assert.equal(a.status, 200);
      const charge = a.body.bottlenecks.find((b: Json) => b.span === 'payment:charge');
      assert.ok(charge, 'the 750 ms charge is a bottleneck');
      assert.equal(charge.duration, 750);
      assert.deepEqual(a.body.criticalPath, ['api-gateway:checkout', 'payment:charge']);
    }
  });

  // --- Example workflow 3: service health monitoring -----------------------------------------

  it('workflow 3: statistics, service statistics and failed traces', async () => {
    const s = await curl('GET', '/stats');
    assert.equal(s.status, 200);
    assertStatsShape(s.body);
    // traceAbc, trace and the other /traces/start of workflow 1 are open; the slow one completed; the refund failed.
    assert.equal(s.body.activeTraces, 3);
    assert.equal(s.body.completedTraces, 1);
    assert.equal(s.body.failedTraces, 1);
    assert.equal(s.body.totalTraces, 5);
    assert.deepEqual(s.body.slowestTraces.map((t: Json) => t.traceId), [slowTrace, failedTrace]);
    assert.ok(s.body.slowestTraces[0].duration >= 1000);

    const services = (await curl('GET', '/stats')).body.serviceStats;
    assert.deepEqual(Object.keys(services), ['api-gateway', 'database', 'payment', 'user-service']);
    assert.equal(services['api-gateway'].count, 5);
    assert.equal(services.payment.count, 2);
    // payment's self time: 750 ms in the slow trace, 5 ms in the failed one.
    assert.equal(services.payment.avgDuration, 377.5);

    const failed = await curl('GET', '/traces/query?status=failed');
    assert.deepEqual(failed.body.map((x: Json) => [x.traceId, x.status, x.errorCount]), [[failedTrace, 'failed', 2]]);
  });

  // --- Integration example ----------------------------------------------------------------------

  it('integration example: start, record a downstream span, finish the root', async () => {
    const start = await curl('POST', '/traces/start', { serviceName: 'my-service', operationName: 'handleRequest' });
    assert.equal(start.status, 200);
    const { traceId, spanId } = start.body;
    const down = await curl('POST', '/traces/span', { traceId, parentSpanId: spanId, serviceName: 'user-service', operationName: 'getUser', duration: 45, tags: { userId: '123', cache: 'hit' } });
    assert.equal(down.status, 200);
    const fin = await curl('POST', '/traces/span/finish', { spanId, status: 'success' });
    assert.equal(fin.status, 200);
    assert.deepEqual(Object.keys(fin.body).sort(), ['duration', 'spanId', 'status', 'traceId']);
    assert.equal(fin.body.status, 'success');

    const t = await curl('GET', `/traces/${traceId}`);
    assertTraceShape(t.body);
    assert.equal(t.body.status, 'completed');
    assert.equal(t.body.rootSpan.status, 'success');
    assert.equal(t.body.rootSpan.duration, fin.body.duration);
    assert.deepEqual(t.body.spans.map((s: Json) => [s.operationName, s.status, s.tags]), [['getUser', 'unset', { userId: '123', cache: 'hit' }]]);

    const again = await curl('POST', '/traces/span/finish', { spanId, status: 'success' });
    assert.equal(again.status, 200);
    assert.equal(again.body.alreadyFinished, true);
  });
});
