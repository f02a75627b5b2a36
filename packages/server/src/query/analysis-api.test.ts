// The analysis API through HTTP on traces with known answers: one trace's
// critical path, self times and skew; RED metrics, dependencies, slow
// traces, comparison and outliers over a constructed set of traces; bad
// parameters named in the 400.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Span } from '@ariadne/model';
import { SpanKind, StatusCode } from '@ariadne/model';
import { walRecordOfSpans } from '../pipeline/ingest.js';
import { attrs, makeSpan, MS, nowNanos, randomSpanId, randomTraceId, SECOND } from '../testing/fixtures.js';
import { startTestServer, type TestServer } from '../testing/server.js';
import { traceCommand } from '../cli/trace.js';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.stop();
});

async function ingest(spans: Span[]): Promise<void> {
  const out = await server.ingester.ingest('test', spans, walRecordOfSpans(spans));
  assert.ok(out.ok);
}

async function get(path: string): Promise<{ status: number; body: Json }> {
  const r = await fetch(server.url + path);
  return { status: r.status, body: await r.json() };
}

/** A span at [start, end) ms after `t0`. */
function at(t0: bigint, traceId: string, spanId: string, parent: string, service: string, name: string, start: number, end: number, extra: Partial<Span> = {}): Span {
  return makeSpan({ traceId, spanId, parentSpanId: parent, service, name, startTimeUnixNano: t0 + BigInt(start) * MS, endTimeUnixNano: t0 + BigInt(end) * MS, ...extra });
}

describe('GET /api/v1/traces/:id/analysis', () => {
  // The diagram of critical-path.ts, in milliseconds:
  //   root   0-50      A 2-8 (ends first)   B 2-17   C 19-34   C.1 21-28 (child of C)
  const t0 = nowNanos() - 60n * SECOND;
  const traceId = randomTraceId();
  const id = { root: 'a000000000000001', A: 'a000000000000002', B: 'a000000000000003', C: 'a000000000000004', C1: 'a000000000000005' };
  const spans = [
    at(t0, traceId, id.root, '', 'api', 'GET /checkout', 0, 50),
    at(t0, traceId, id.A, id.root, 'auth', 'verify', 2, 8),
    at(t0, traceId, id.B, id.root, 'data', 'load', 2, 17),
    at(t0, traceId, id.C, id.root, 'cart', 'price', 19, 34),
    at(t0, traceId, id.C1, id.C, 'db', 'query', 21, 28),
  ];
  before(() => ingest(spans));

  const ns = (ms: number) => String(t0 + BigInt(ms) * MS);

  it('gives the exact critical path, self times, bottlenecks and breakdown', async () => {
    const r = await get(`/api/v1/traces/${traceId}/analysis`);
    assert.equal(r.status, 200);
    const a = r.body;
    assert.equal(a.traceId, traceId);
    assert.equal(a.spanCount, 5);
    assert.deepEqual(
      a.criticalPath,
      [
        [id.root, 'api', 'GET /checkout', 0, 2],
        [id.B, 'data', 'load', 2, 17],
        [id.root, 'api', 'GET /checkout', 17, 19],
        [id.C, 'cart', 'price', 19, 21],
        [id.C1, 'db', 'query', 21, 28],
        [id.C, 'cart', 'price', 28, 34],
        [id.root, 'api', 'GET /checkout', 34, 50],
      ].map(([spanId, service, operation, s, e]) => ({ spanId, service, operation, startTimeUnixNano: ns(s as number), endTimeUnixNano: ns(e as number) })),
    );
    const m = 1_000_000;
    assert.deepEqual(a.selfTimes, { [id.root]: 20 * m, [id.A]: 6 * m, [id.B]: 15 * m, [id.C]: 8 * m, [id.C1]: 7 * m });
    assert.deepEqual(a.serviceBreakdown, { api: 20 * m, auth: 6 * m, data: 15 * m, cart: 8 * m, db: 7 * m });
    assert.deepEqual(
      a.bottlenecks.map((b: Json) => [b.spanId, b.service, b.operation, b.selfTimeNanos, b.percentage]),
      [
        [id.root, 'api', 'GET /checkout', 20 * m, 40],
        [id.B, 'data', 'load', 15 * m, 30],
        [id.C, 'cart', 'price', 8 * m, 16],
        [id.C1, 'db', 'query', 7 * m, 14],
        [id.A, 'auth', 'verify', 6 * m, 12],
      ],
    );
    assert.equal(a.totalDurationNanos, 50 * m);
    assert.deepEqual(a.skewAdjustments, []);
    assert.deepEqual(a.serviceCalls, [
      { from: 'api', to: 'auth', count: 1 },
      { from: 'api', to: 'cart', count: 1 },
      { from: 'api', to: 'data', count: 1 },
      { from: 'cart', to: 'db', count: 1 },
    ]);
  });

  it('a higher bottleneckThreshold keeps fewer bottlenecks', async () => {
    const r = await get(`/api/v1/traces/${traceId}/analysis?bottleneckThreshold=0.2`);
    assert.deepEqual(r.body.bottlenecks.map((b: Json) => b.spanId), [id.root, id.B]);
  });

  it('reports and removes clock skew', async () => {
    // The server span of `pay` was timed by a clock 30 ms behind: it seems to start before its caller.
    const tid = randomTraceId();
    const client = 'b000000000000002';
    const skewed = 'b000000000000003';
    await ingest([
      at(t0, tid, 'b000000000000001', '', 'shop', 'POST /buy', 0, 100, { kind: SpanKind.SERVER }),
      at(t0, tid, client, 'b000000000000001', 'shop', 'call pay', 10, 90, { kind: SpanKind.CLIENT }),
      makeSpan({ traceId: tid, spanId: skewed, parentSpanId: client, service: 'pay', name: 'charge', kind: SpanKind.SERVER, startTimeUnixNano: t0 - 20n * MS, endTimeUnixNano: t0 + 40n * MS }),
    ]);
    const r = await get(`/api/v1/traces/${tid}/analysis`);
    // centred in its caller: 10 + (80 - 60) / 2 = 20 ms after t0, so moved by +40 ms
    assert.deepEqual(r.body.skewAdjustments, [{ spanId: skewed, service: 'pay', deltaNanos: 40_000_000, reason: 'starts-before-parent', shiftedSpans: 1 }]);
    const seg = r.body.criticalPath.find((s: Json) => s.spanId === skewed);
    assert.deepEqual([seg.startTimeUnixNano, seg.endTimeUnixNano], [ns(20), ns(80)]);
  });

  it('400 for a malformed id or parameter, 404 for an unknown trace', async () => {
    assert.deepEqual((await get('/api/v1/traces/xyz/analysis')).body.param, 'traceId');
    const bad = await get(`/api/v1/traces/${traceId}/analysis?bottleneckThreshold=2`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.param, 'bottleneckThreshold');
    const unknown = await get(`/api/v1/traces/${randomTraceId()}/analysis`);
    assert.equal(unknown.status, 404);
  });

  it('ariadne trace <id> --analyze prints the marked tree, the critical path and the breakdown', async () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => void lines.push(args.join(' '));
    let code: number;
    try {
      code = await traceCommand([traceId, '--analyze', '--url', server.url]);
    } finally {
      console.log = log;
    }
    assert.equal(code, 0);
    const text = lines.join('\n');
    assert.match(lines[0]!, new RegExp(`^Trace ${traceId} — 5 spans, 50ms, services: api, auth, cart, data, db$`));
    assert.match(text, /└─ GET \/checkout \(api\) - 50ms ◆ critical ⚠ bottleneck 40\.0%/);
    assert.match(text, /├─ verify \(auth\) - 6ms ⚠ bottleneck 12\.0%/);
    const flat = text.replace(/ +/g, ' ');
    assert.match(flat, /Critical path \(7 segments\):\n \+0ns 2ms 4\.0% GET \/checkout \(api\)\n \+2ms 15ms 30\.0% load \(data\)\n \+17ms 2ms 4\.0% GET \/checkout \(api\)\n/);
    assert.match(flat, /Service breakdown \(self time[^\n]*\n api 20ms 40\.0%\n data 15ms 30\.0%\n cart 8ms 16\.0%\n db 7ms 14\.0%\n auth 6ms 12\.0%\n/);
    assert.match(flat, /Bottlenecks \(self time > 10% of the trace\):\n GET \/checkout \(api\) 20ms 40\.00% a000000000000001\n/);
  });
});

describe('across traces', () => {
  // Ten traces a second apart, starting t0:
  //   frontend SERVER "GET /checkout"   100+i ms (i < 8), 500+i ms (i >= 8)
  //   └─ frontend CLIENT "call backend"  50+i ms
  //      └─ backend SERVER "handle"      40+i ms, ERROR for i < 2, db.shard = 7 for i >= 8 else i % 3
  //         └─ backend CLIENT "SELECT"   5 ms, db.system = postgresql (an uninstrumented callee)
  //   └─ cache SERVER "get" 300 ms, only for i >= 8
  const t0 = (nowNanos() / SECOND - 1800n) * SECOND;
  const ids: string[] = [];
  const window = `start=${t0 - 60n * SECOND}&end=${t0 + 600n * SECOND}`;
  before(async () => {
    const spans: Span[] = [];
    for (let i = 0; i < 10; i++) {
      const tid = randomTraceId();
      ids.push(tid);
      const base = t0 + BigInt(i) * SECOND;
      const root = randomSpanId();
      const client = randomSpanId();
      const handle = randomSpanId();
      const slow = i >= 8;
      spans.push(
        at(base, tid, root, '', 'frontend', 'GET /checkout', 0, (slow ? 500 : 100) + i, { kind: SpanKind.SERVER }),
        at(base, tid, client, root, 'frontend', 'call backend', 1, 51 + i, { kind: SpanKind.CLIENT }),
        at(base, tid, handle, client, 'backend', 'handle', 2, 42 + i, {
          kind: SpanKind.SERVER,
          status: i < 2 ? { code: StatusCode.ERROR, message: 'bad' } : { code: StatusCode.UNSET, message: '' },
          attributes: attrs({ 'db.shard': slow ? '7' : String(i % 3) }),
        }),
        at(base, tid, randomSpanId(), handle, 'backend', 'SELECT', 3, 8, { kind: SpanKind.CLIENT, attributes: attrs({ 'db.system': 'postgresql' }) }),
      );
      if (slow) spans.push(at(base, tid, randomSpanId(), root, 'cache', 'get', 100, 400, { kind: SpanKind.SERVER }));
    }
    await ingest(spans);
  });

  const m = 1_000_000;

  for (const source of ['source=scan', 'exact=true']) it(`RED metrics per service (${source})`, async () => {
    const r = await get(`/api/v1/metrics/red?${source}&${window}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.windowSeconds, 660);
    if (source === 'source=scan') assert.equal(r.body.tracesScanned, 10);
    else assert.deepEqual([r.body.source, r.body.spansCounted], ['store', 42]);
    assert.equal(r.body.truncated, false);
    const rows = Object.fromEntries(r.body.metrics.map((x: Json) => [x.service, x]));
    assert.deepEqual(Object.keys(rows), ['backend', 'cache', 'frontend']);
    // frontend: server 100..107, 508, 509 and client 50..59 (20 spans)
    assert.deepEqual(rows.frontend, { service: 'frontend', count: 20, errorCount: 0, rate: 20 / 660, errorRate: 0, p50Nanos: 59 * m, p95Nanos: 508 * m, p99Nanos: 509 * m, avgNanos: 119.5 * m });
    // backend: handle 40..49 (two errors) and ten 5 ms SELECTs
    assert.deepEqual(rows.backend, { service: 'backend', count: 20, errorCount: 2, rate: 20 / 660, errorRate: 0.1, p50Nanos: 5 * m, p95Nanos: 48 * m, p99Nanos: 49 * m, avgNanos: 24.75 * m });
    assert.deepEqual([rows.cache.count, rows.cache.p50Nanos], [2, 300 * m]);
  });

  for (const source of ['source=scan', 'exact=true']) it(`RED metrics per operation, for one service and one span kind (${source})`, async () => {
    const r = await get(`/api/v1/metrics/red?${source}&groupBy=operation&service=frontend&${window}`);
    assert.deepEqual(
      r.body.metrics.map((x: Json) => [x.operation, x.count, x.p50Nanos, x.p99Nanos]),
      [
        ['GET /checkout', 10, 104 * m, 509 * m],
        ['call backend', 10, 54 * m, 59 * m],
      ],
    );
    const servers = await get(`/api/v1/metrics/red?${source}&kind=server&service=backend&${window}`);
    assert.deepEqual(servers.body.metrics.map((x: Json) => [x.service, x.count, x.errorRate, x.p50Nanos]), [['backend', 10, 0.2, 44 * m]]);
  });

  it('RED by default comes from the store histograms: exact counts, quantiles within 1%', async () => {
    const approx = await get(`/api/v1/metrics/red?${window}`);
    const exact = await get(`/api/v1/metrics/red?exact=true&${window}`);
    assert.equal(approx.body.source, 'store');
    assert.equal(approx.body.exact, false);
    assert.equal(approx.body.metrics.length, exact.body.metrics.length);
    approx.body.metrics.forEach((a: Json, i: number) => {
      const e = exact.body.metrics[i];
      assert.deepEqual([a.service, a.count, a.errorCount], [e.service, e.count, e.errorCount]);
      for (const q of ['p50Nanos', 'p95Nanos', 'p99Nanos']) assert.ok(Math.abs(a[q] - e[q]) <= e[q] * 0.01, `${a.service} ${q}: ${a[q]} vs ${e[q]}`);
    });
  });

  it('a window that holds none of the spans gives no rows', async () => {
    const r = await get(`/api/v1/metrics/red?start=${t0 + 3600n * SECOND}&end=${t0 + 3601n * SECOND}`);
    assert.deepEqual(r.body.metrics, []);
  });

  it('the dependency graph', async () => {
    const r = await get(`/api/v1/dependencies?${window}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.services, ['backend', 'cache', 'frontend', 'postgresql']);
    assert.deepEqual(r.body.edges, [
      { from: 'backend', to: 'postgresql', virtual: true, callCount: 10, errorCount: 0, p50LatencyNanos: 5 * m, avgLatencyNanos: 5 * m },
      { from: 'frontend', to: 'backend', virtual: false, callCount: 10, errorCount: 2, p50LatencyNanos: 54 * m, avgLatencyNanos: 54.5 * m },
      { from: 'frontend', to: 'cache', virtual: false, callCount: 2, errorCount: 0, p50LatencyNanos: 300 * m, avgLatencyNanos: 300 * m },
    ]);
  });

  it('slow traces, slowest first', async () => {
    const r = await get('/api/v1/traces/slow?threshold=400ms');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.traces.map((t: Json) => [t.traceId, t.durationNanos]), [
      [ids[9], 509 * m],
      [ids[8], 508 * m],
    ]);
    assert.equal((await get('/api/v1/traces/slow?threshold=400ms&service=nobody')).body.traces.length, 0);
    assert.equal((await get('/api/v1/traces/slow?threshold=105ms&limit=3')).body.traces.length, 3);
  });

  it('comparing a fast trace with a slow one', async () => {
    const r = await get(`/api/v1/compare?a=${ids[0]}&b=${ids[9]}`);
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.changes.map((c: Json) => [c.kind, c.service, c.operation, c.depth, c.deltaNanos]),
      [
        ['slower', 'frontend', 'GET /checkout', 0, 409 * m],
        ['slower', 'frontend', 'call backend', 1, 9 * m],
        ['slower', 'backend', 'handle', 2, 9 * m],
        ['same', 'backend', 'SELECT', 3, 0],
        ['added', 'cache', 'get', 1, 300 * m],
      ],
    );
    assert.deepEqual(r.body.summary, { added: 1, removed: 0, slower: 3, faster: 0, same: 1, durationANanos: 100 * m, durationBNanos: 509 * m, deltaNanos: 409 * m });
    const tolerant = await get(`/api/v1/compare?a=${ids[0]}&b=${ids[9]}&minDelta=10ms`);
    assert.equal(tolerant.body.summary.slower, 1);
  });

  it('outliers: what sets the slow traces apart', async () => {
    const expected = [
      ['intrinsic', 'operation', 'get', 2, 0, 1],
      ['intrinsic', 'service', 'cache', 2, 0, 1],
      ['span', 'db.shard', '7', 2, 0, 1],
    ];
    const byThreshold = await get(`/api/v1/outliers?minDuration=400ms&${window}`);
    assert.equal(byThreshold.status, 200);
    assert.deepEqual(byThreshold.body.selection, { rule: 'minDuration', thresholdNanos: 400 * m, measured: 'trace duration' });
    assert.deepEqual([byThreshold.body.selectionTraces, byThreshold.body.baselineTraces], [2, 8]);
    assert.deepEqual(byThreshold.body.dimensions.map((d: Json) => [d.scope, d.key, d.value, d.selectionCount, d.baselineCount, d.difference]), expected);
    // p75 of 100..107, 508, 509 is 107 (rank 8): the selection is the two slower ones.
    const byQuantile = await get(`/api/v1/outliers?selection=p75&${window}`);
    assert.deepEqual(byQuantile.body.selection, { rule: 'p75', thresholdNanos: 107 * m, measured: 'trace duration' });
    assert.deepEqual(byQuantile.body.dimensions.map((d: Json) => [d.scope, d.key, d.value, d.selectionCount, d.baselineCount, d.difference]), expected);
    // Judged by the backend's "handle" span alone (40..49 ms), p75 (rank 8 = 47) selects i = 8, 9 again.
    const byOp = await get(`/api/v1/outliers?service=backend&operation=handle&selection=p75&${window}`);
    assert.deepEqual(byOp.body.selection, { rule: 'p75', thresholdNanos: 47 * m, measured: 'longest matching span' });
    assert.equal(byOp.body.selectionTraces, 2);
  });

  it('maxTraces bounds a scan and says so', async () => {
    const r = await get(`/api/v1/metrics/red?source=scan&maxTraces=3&${window}`);
    assert.equal(r.body.tracesScanned, 3);
    assert.equal(r.body.truncated, true);
  });

  const badParams: [string, string, number?][] = [
    ['/api/v1/metrics/red?groupBy=host', 'groupBy'],
    ['/api/v1/metrics/red?kind=server,sideways', 'kind'],
    ['/api/v1/metrics/red?start=yesterday', 'start'],
    ['/api/v1/metrics/red?start=2000&end=1000', 'start'],
    ['/api/v1/metrics/red?maxTraces=0', 'maxTraces'],
    ['/api/v1/metrics/red?services=a', 'services'],
    ['/api/v1/dependencies?end=soon', 'end'],
    ['/api/v1/traces/slow', 'threshold'],
    ['/api/v1/traces/slow?threshold=fast', 'threshold'],
    ['/api/v1/traces/slow?threshold=1s&limit=5000', 'limit'],
    ['/api/v1/compare?b=' + randomTraceId(), 'a'],
    ['/api/v1/compare?a=nope&b=' + randomTraceId(), 'a'],
    ['/api/v1/compare?a=' + randomTraceId() + '&b=' + randomTraceId() + '&tolerance=-1', 'tolerance'],
    ['/api/v1/outliers?selection=p42', 'selection'],
    ['/api/v1/outliers?selection=p95&minDuration=1s', 'minDuration'],
    ['/api/v1/outliers?limit=1000', 'limit'],
  ];
  for (const [path, param] of badParams) {
    it(`400 names '${param}': ${path.replace(/[0-9a-f]{32}/g, '<id>')}`, async () => {
      const r = await get(path);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.param, param);
      assert.match(r.body.error, new RegExp(`'${param}'`));
    });
  }

  it('compare names the unknown trace in a 404', async () => {
    const unknown = randomTraceId();
    const r = await get(`/api/v1/compare?a=${ids[0]}&b=${unknown}`);
    assert.equal(r.status, 404);
    assert.equal(r.body.param, 'b');
  });

  it('every endpoint is in the OpenAPI document', async () => {
    const doc = (await get('/api/openapi.json')).body;
    for (const p of ['/api/v1/traces/{traceId}/analysis', '/api/v1/traces/slow', '/api/v1/metrics/red', '/api/v1/dependencies', '/api/v1/compare', '/api/v1/outliers', '/traces/start', '/traces/span', '/traces/span/finish', '/traces/query', '/traces/{traceId}', '/traces/{traceId}/visualize', '/traces/{traceId}/analyze', '/stats']) {
      assert.ok(doc.paths[p], p);
    }
    assert.ok(doc.paths['/api/v1/traces/{traceId}'], 'the existing paths are kept');
  });
});
