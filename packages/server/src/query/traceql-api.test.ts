// GET /api/v1/traces?q=<TraceQL> and `ariadne search --traceql`, end to end
// against a real server.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TraceSummaryJson } from '@ariadne/model';
import { encodeTraceRequestProto } from '../receive/otlp/index.js';
import { attrs, makeSpan, MS, nowNanos, randomTraceId, SECOND } from '../testing/fixtures.js';
import { startTestServer, type TestServer } from '../testing/server.js';
import { searchCommand } from '../cli/search.js';

describe('TraceQL search API', () => {
  let server: TestServer;
  const now = nowNanos();
  const slow = randomTraceId();
  const failing = randomTraceId();
  const quick = randomTraceId();
  before(async () => {
    server = await startTestServer();
    const t1 = now - 30n * SECOND;
    const root = makeSpan({ traceId: slow, service: 'checkout', name: 'POST /pay', startTimeUnixNano: t1, endTimeUnixNano: t1 + 1500n * MS, attributes: attrs({ 'http.method': 'POST' }) });
    const charge = makeSpan({ traceId: slow, parentSpanId: root.spanId, service: 'payments', name: 'charge', kind: 3, startTimeUnixNano: t1 + 100n * MS, endTimeUnixNano: t1 + 900n * MS, attributes: attrs({ 'http.status_code': 200 }) });
    const t2 = now - 20n * SECOND;
    const cart = makeSpan({ traceId: failing, service: 'checkout', name: 'GET /cart', startTimeUnixNano: t2, endTimeUnixNano: t2 + 40n * MS, attributes: attrs({ 'http.method': 'GET' }) });
    const db = makeSpan({ traceId: failing, parentSpanId: cart.spanId, service: 'db', name: 'SELECT', kind: 3, startTimeUnixNano: t2 + 5n * MS, endTimeUnixNano: t2 + 35n * MS, status: { code: 2, message: 'timeout' }, attributes: attrs({ 'http.status_code': 500 }) });
    const t3 = now - 10n * SECOND;
    const health = makeSpan({ traceId: quick, service: 'checkout', name: 'GET /health', startTimeUnixNano: t3, endTimeUnixNano: t3 + MS });
    const res = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: encodeTraceRequestProto([root, charge, cart, db, health]) as BodyInit });
    assert.equal(res.status, 200);
  });
  after(() => server.stop());

  const get = async <T>(qs: string) => {
    const res = await fetch(`${server.url}/api/v1/traces?${qs}`);
    return { status: res.status, body: (await res.json()) as T };
  };
  const ids = async (q: string, extra = '') => {
    const r = await get<{ traces: TraceSummaryJson[]; truncated: boolean }>(`q=${encodeURIComponent(q)}${extra}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.truncated, false);
    return r.body.traces.map((t) => t.traceId);
  };

  it('answers TraceQL queries, newest first', async () => {
    assert.deepEqual(await ids('{ }'), [quick, failing, slow]);
    assert.deepEqual(await ids('{ resource.service.name = "checkout" && duration > 1s }'), [slow]);
    assert.deepEqual(await ids('{ span.http.status_code = 500 }'), [failing]);
    assert.deepEqual(await ids('{ span.http.status_code >= 200 }'), [failing, slow]);
    assert.deepEqual(await ids('{ .http.method =~ "P.*" }'), [slow]);
    assert.deepEqual(await ids('{ resource.service.name = "checkout" } && { status = error }'), [failing]);
    assert.deepEqual(await ids('{ resource.service.name = "checkout" } > { kind = client && duration > 500ms }'), [slow]);
    assert.deepEqual(await ids('{ status = error } || { name = "GET /health" }'), [quick, failing]);
    assert.deepEqual(await ids('{ rootServiceName = "checkout" } | count() > 1'), [failing, slow]);
    assert.deepEqual(await ids('{ name = "nope" }'), []);
  });

  it('combines with start, end and limit', async () => {
    assert.deepEqual(await ids('{ }', '&limit=2'), [quick, failing]);
    assert.deepEqual(await ids('{ resource.service.name = "checkout" }', `&start=${now - 25n * SECOND}&end=${now - 15n * SECOND}`), [failing]);
    // the window bounds the spans the query may select, not only one of them
    assert.deepEqual(await ids('{ name = "POST /pay" } && { name = "charge" }', `&start=${now - 30n * SECOND + 50n * MS}`), []);
    assert.deepEqual(await ids('{ name = "POST /pay" } && { name = "charge" }', `&start=${now - 30n * SECOND}`), [slow]);
  });

  it('summarizes like the plain search', async () => {
    const plain = await get<{ traces: TraceSummaryJson[] }>('service=payments');
    const viaQ = await get<{ traces: TraceSummaryJson[] }>(`q=${encodeURIComponent('{ resource.service.name = "payments" }')}`);
    assert.deepEqual(viaQ.body.traces, plain.body.traces);
  });

  const bad: [string, RegExp, number | undefined][] = [
    ['q=' + encodeURIComponent('{ status = "error" }'), /^parameter 'q' is not valid TraceQL: status compares with error, ok or unset, not a string at offset 11$/, 11],
    ['q=' + encodeURIComponent('{ name = "x"'), /expected '}'/, 12],
    ['q=' + encodeURIComponent('{ .a =~ "(a+)+\\\\1" }'), /backreferences are not supported/, 8],
    ['q=', /the query is empty/, 0],
    ['q=' + encodeURIComponent('{ }') + '&service=checkout', /cannot be combined with 'service'/, undefined],
    ['q=' + encodeURIComponent('{ }') + '&attr.k=v', /cannot be combined with 'attr\.'/, undefined],
    ['q=' + encodeURIComponent('{ }') + '&limit=0', /'limit'/, undefined],
  ];
  for (const [qs, message, offset] of bad) {
    it(`400: ${decodeURIComponent(qs)}`, async () => {
      const r = await get<{ error: string; param: string; offset?: number }>(qs);
      assert.equal(r.status, 400);
      assert.match(r.body.error, message);
      assert.equal(r.body.param, qs.includes('limit=0') ? 'limit' : 'q');
      assert.equal(r.body.offset, offset);
    });
  }

  it('is in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as { paths: Record<string, { get: { parameters: { name: string }[] } }> };
    assert.ok(doc.paths['/api/v1/traces']!.get.parameters.some((p) => p.name === 'q'));
  });

  describe('ariadne search --traceql', () => {
    const cli = async (args: string[]) => {
      const lines: string[] = [];
      const log = console.log;
      const err = console.error;
      console.log = (...a: unknown[]) => void lines.push(a.join(' '));
      console.error = (...a: unknown[]) => void lines.push(a.join(' '));
      try {
        return { code: await searchCommand([...args, '--url', server.url]), out: lines.join('\n') };
      } finally {
        console.log = log;
        console.error = err;
      }
    };

    it('prints the matching traces', async () => {
      const { code, out } = await cli(['--traceql', '{ status = error }']);
      assert.equal(code, 0);
      assert.match(out, new RegExp(`${failing} .* checkout: GET /cart`));
      assert.doesNotMatch(out, new RegExp(slow));
      const json = await cli(['-q', '{ resource.service.name = "checkout" }', '--limit', '2', '--json']);
      assert.deepEqual((JSON.parse(json.out) as TraceSummaryJson[]).map((t) => t.traceId), [quick, failing]);
    });

    it('points at the error in the query', async () => {
      const { code, out } = await cli(['-q', '{ duration > "1s" }']);
      assert.equal(code, 1);
      assert.match(out, /duration compares with a duration such as 250ms, not a string at offset 13/);
      assert.ok(out.endsWith(`  { duration > "1s" }\n  ${' '.repeat(13)}^`), out);
    });
  });
});
