// Bad input to the seed API, table-driven: each case asserts the status and
// the field or parameter the answer names. Plus header propagation.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../testing/server.js';
import { randomSpanId, randomTraceId } from '../../testing/fixtures.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.stop();
});

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function send(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Json }> {
  const res = await fetch(server.url + path, { method, headers: { 'content-type': 'application/json', ...headers }, ...(body !== undefined ? { body } : {}) });
  return { status: res.status, body: await res.json() };
}

const ok = { serviceName: 'svc', operationName: 'op' };
const T = randomTraceId();

describe('seed API: malformed bodies name the field', () => {
  const cases: [string, string, string | object, string, RegExp?, Record<string, string>?][] = [
    ['start without serviceName', '/traces/start', { operationName: 'op' }, 'serviceName', /is required/],
    ['start without operationName', '/traces/start', { serviceName: 'svc' }, 'operationName', /is required/],
    ['serviceName not a string', '/traces/start', { serviceName: 42, operationName: 'op' }, 'serviceName', /must be a string/],
    ['empty operationName', '/traces/start', { serviceName: 'svc', operationName: '' }, 'operationName', /must not be empty/],
    ['a tag that is an object', '/traces/start', { ...ok, tags: { user: { id: 1 } } }, 'tags.user', /string, number, boolean/],
    ['tags not an object', '/traces/start', { ...ok, tags: 'x' }, 'tags'],
    ['the seed’s own placeholder id', '/traces/start', { ...ok, traceId: 'trace-abc-123' }, 'traceId', /32 hex/],
    ['unknown kind', '/traces/start', { ...ok, kind: 'server-ish' }, 'kind', /server, client/],
    ['span without any traceId', '/traces/span', { ...ok, duration: 3 }, 'traceId', /X-Trace-ID or traceparent/],
    ['negative duration', '/traces/span', { ...ok, traceId: T, duration: -1 }, 'duration', /negative/],
    ['duration as text', '/traces/span', { ...ok, traceId: T, duration: '45' }, 'duration', /number of milliseconds/],
    ['duration beyond 100 days', '/traces/span', { ...ok, traceId: T, duration: 1e10 }, 'duration', /at most/],
    ['bad parentSpanId', '/traces/span', { ...ok, traceId: T, parentSpanId: 'span-root-001' }, 'parentSpanId', /16 hex/],
    ['unknown status', '/traces/span', { ...ok, traceId: T, status: 'done' }, 'status', /success, ok, error/],
    ['a misspelt field', '/traces/span', { ...ok, traceId: T, durationMs: 45 }, 'durationMs', /not a field/],
    ['not JSON', '/traces/span', '{"serviceName": ', 'body', /must be JSON/],
    ['an array', '/traces/span', '[1,2]', 'body', /JSON object/],
    ['empty body', '/traces/start', '', 'body', /must be JSON/],
    ['finish without spanId', '/traces/span/finish', { status: 'success' }, 'spanId', /is required/],
    ['finish with bad status', '/traces/span/finish', { spanId: randomSpanId(), status: 'fine' }, 'status'],
    ['malformed X-Trace-ID', '/traces/start', ok, 'X-Trace-ID', /32 hex/, { 'X-Trace-ID': 'trace-abc-123' }],
    ['malformed X-Parent-Span-ID', '/traces/span', { ...ok, duration: 1 }, 'X-Parent-Span-ID', /16 hex/, { 'X-Trace-ID': T, 'X-Parent-Span-ID': 'nope' }],
    ['X-Parent-Span-ID alone', '/traces/start', ok, 'X-Parent-Span-ID', /X-Trace-ID/, { 'X-Parent-Span-ID': randomSpanId() }],
  ];
  for (const [name, path, body, field, message, headers] of cases) {
    it(name, async () => {
      const r = await send('POST', path, typeof body === 'string' ? body : JSON.stringify(body), headers);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.field, field);
      if (message) assert.match(r.body.error, message);
    });
  }

  it('a body over 64 KiB is refused with 413', async () => {
    const r = await send('POST', '/traces/start', JSON.stringify({ ...ok, tags: { big: 'x'.repeat(70_000) } }));
    assert.equal(r.status, 413);
    assert.equal(r.body.field, 'body');
  });

  it('nothing was stored by the refused requests', async () => {
    const r = await send('GET', `/traces/${T}`);
    assert.equal(r.status, 404);
  });
});

describe('seed API: unknown traces and spans are 404, malformed parameters 400', () => {
  const unknown = randomTraceId();
  for (const path of [`/traces/${unknown}`, `/traces/${unknown}/visualize`, `/traces/${unknown}/analyze`]) {
    it(`GET ${path.replace(unknown, ':unknown')}`, async () => {
      const r = await send('GET', path);
      assert.equal(r.status, 404);
      assert.equal(r.body.error, `trace ${unknown} not found`);
    });
  }

  it('finishing a span that is not open', async () => {
    const r = await send('POST', '/traces/span/finish', JSON.stringify({ spanId: randomSpanId(), status: 'success' }));
    assert.equal(r.status, 404);
    assert.match(r.body.error, /no open span/);
  });

  it('finishing an open span under another trace id', async () => {
    const s = (await send('POST', '/traces/start', JSON.stringify(ok))).body;
    const r = await send('POST', '/traces/span/finish', JSON.stringify({ spanId: s.spanId, traceId: randomTraceId() }));
    assert.equal(r.status, 404);
    assert.equal((await send('POST', '/traces/span/finish', JSON.stringify({ spanId: s.spanId, traceId: s.traceId }))).status, 200);
  });

  const params: [string, string][] = [
    ['/traces/trace-abc-123', 'traceId'],
    ['/traces/trace-abc-123/analyze', 'traceId'],
    ['/traces/query?minDuration=slow', 'minDuration'],
    ['/traces/query?status=done', 'status'],
    ['/traces/query?limit=0', 'limit'],
    ['/traces/query?limit=5000', 'limit'],
    ['/traces/query?serviceName=', 'serviceName'],
    ['/traces/query?service=x', 'service'],
    ['/stats?window=yesterday', 'window'],
  ];
  for (const [path, param] of params) {
    it(`GET ${path}`, async () => {
      const r = await send('GET', path);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.param, param);
      assert.match(r.body.error, new RegExp(`'${param}'`));
    });
  }

  it('upper-case hex ids are the same ids', async () => {
    const s = (await send('POST', '/traces/start', JSON.stringify(ok))).body;
    const r = await send('GET', `/traces/${s.traceId.toUpperCase()}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.traceId, s.traceId);
  });
});

describe('seed API: incoming trace context', () => {
  it('X-Trace-ID and X-Parent-Span-ID make /traces/start join the caller’s trace', async () => {
    const traceId = randomTraceId();
    const parent = randomSpanId();
    const r = await send('POST', '/traces/start', JSON.stringify({ serviceName: 'downstream', operationName: 'handle' }), { 'X-Trace-ID': traceId.toUpperCase(), 'X-Parent-Span-ID': parent });
    assert.equal(r.status, 200);
    assert.equal(r.body.traceId, traceId);
    const t = (await send('GET', `/traces/${traceId}`)).body;
    assert.equal(t.rootSpan.spanId, r.body.spanId);
    assert.equal(t.rootSpan.parentSpanId, parent);
  });

  it('traceparent gives /traces/span its trace and parent when the body does not', async () => {
    const traceId = randomTraceId();
    const parent = randomSpanId();
    const r = await send('POST', '/traces/span', JSON.stringify({ serviceName: 'svc', operationName: 'op', duration: 2 }), { traceparent: `00-${traceId}-${parent}-01` });
    assert.equal(r.status, 200);
    const t = (await send('GET', `/traces/${traceId}`)).body;
    assert.equal(t.rootSpan.spanId, r.body.spanId);
    assert.equal(t.rootSpan.parentSpanId, parent);
  });

  it('the body wins over headers; a header parent of another trace is not used', async () => {
    const bodyTrace = randomTraceId();
    const r = await send('POST', '/traces/span', JSON.stringify({ traceId: bodyTrace, serviceName: 'svc', operationName: 'op', duration: 2 }), { 'X-Trace-ID': randomTraceId(), 'X-Parent-Span-ID': randomSpanId() });
    assert.equal(r.status, 200);
    const t = (await send('GET', `/traces/${bodyTrace}`)).body;
    assert.equal(t.rootSpan.parentSpanId, undefined);
  });

  it('an invalid traceparent is ignored: a new trace starts (W3C)', async () => {
    const traceId = randomTraceId();
    for (const tp of [`00-${traceId.toUpperCase()}-${randomSpanId()}-01`, `ff-${traceId}-${randomSpanId()}-01`, `00-${traceId}-0000000000000000-01`]) {
      const r = await send('POST', '/traces/start', JSON.stringify(ok), { traceparent: tp });
      assert.equal(r.status, 200);
      assert.notEqual(r.body.traceId, traceId);
    }
  });
});
