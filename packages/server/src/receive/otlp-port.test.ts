// The OTLP/HTTP-only port (plain node:http, not Hono): what it serves besides
// POST /v1/traces, and that its answers match the main port's.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeTraceRequestProto } from './otlp/encode.js';
import { makeSpan } from '../testing/fixtures.js';
import { startTestServer, type TestServer } from '../testing/server.js';

describe('the OTLP/HTTP port', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.stop());

  it('serves only POST /v1/traces', async () => {
    for (const [method, path] of [['GET', '/v1/traces'], ['POST', '/v1/metrics'], ['GET', '/'], ['POST', '/v1/traces/x']] as const) {
      const res = await fetch(`${server.otlpHttpUrl}${path}`, { method, ...(method === 'POST' ? { body: '{}' } : {}) });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.deepStrictEqual(await res.json(), { error: 'OTLP/HTTP port: only POST /v1/traces is served here' });
    }
  });

  it('answers as the main port does, query strings aside', async () => {
    const body = encodeTraceRequestProto([makeSpan({ service: 'port-a' })]);
    for (const base of [server.otlpHttpUrl, server.url]) {
      const ok = await fetch(`${base}/v1/traces?x=1`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('content-type'), 'application/x-protobuf');
      assert.equal((await ok.arrayBuffer()).byteLength, 0, 'full success: an empty ExportTraceServiceResponse');
      const bad = await fetch(`${base}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceSpans": 3}' });
      assert.equal(bad.status, 400);
      assert.match(bad.headers.get('content-type') ?? '', /^application\/json/);
      const err = (await bad.json()) as { code: number; message: string };
      assert.equal(err.code, 3);
      assert.match(err.message, /^cannot decode OTLP JSON body: /);
      const unsupported = await fetch(`${base}/v1/traces`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
      assert.equal(unsupported.status, 415);
    }
    assert.deepStrictEqual(await server.store.services(), ['port-a']);
  });
});
