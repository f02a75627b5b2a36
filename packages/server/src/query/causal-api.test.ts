// The causal API and its CLI end to end: the lost update sent as OTLP spans
// with @ariadne/sdk-style ariadne.state events; a race across two traces in a
// window; the /causal report (full-chain sections) of a trace mixing Raceway
// events and traced spans; `ariadne races` and `ariadne causal` against the
// server, in-process and through bin/ariadne.js; bad parameters.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Resource, Span, SpanEvent } from '@ariadne/model';
import { SpanKind } from '@ariadne/model';
import { attrs, makeResource, makeSpan, MS, nowNanos, randomTraceId, SECOND } from '../testing/fixtures.js';
import { startTestServer, type TestServer } from '../testing/server.js';
import { BIN } from '../testing/process.js';
import { encodeTraceRequestProto } from '../receive/otlp/index.js';
import { hexOf, lostUpdateBatch, rwEvent, type Ctx } from '../receive/raceway/testing.js';
import { racesCommand } from '../cli/races.js';
import { causalCommand } from '../cli/causal.js';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.stop();
});

async function get(path: string): Promise<{ status: number; body: Json }> {
  const r = await fetch(server.url + path);
  return { status: r.status, body: await r.json() };
}

async function postOtlp(spans: Span[]): Promise<void> {
  const r = await fetch(`${server.otlpHttpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: encodeTraceRequestProto(spans) });
  assert.equal(r.status, 200);
}

async function postRaceway(events: unknown[]): Promise<void> {
  const r = await fetch(`${server.url}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events }) });
  assert.equal(r.status, 200, JSON.stringify(await r.json()));
}

/** Runs a CLI command function, returning its exit code and what it printed. */
async function cli(fn: (argv: string[]) => Promise<number>, argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  const err = console.error;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  console.error = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    const code = await fn(argv);
    return { code, out: lines.join('\n') };
  } finally {
    console.log = log;
    console.error = err;
  }
}

/** An ariadne.state event as @ariadne/sdk's track.state emits it. */
function stateEvent(t: bigint, thread: string, clock: [string, number][], variable: string, access: string, oldValue: unknown, newValue: unknown, location: string): SpanEvent {
  return {
    timeUnixNano: t,
    name: 'ariadne.state',
    attributes: attrs({
      'ariadne.variable': variable,
      'ariadne.access': access,
      'ariadne.old_value': JSON.stringify(oldValue),
      'ariadne.new_value': JSON.stringify(newValue),
      'ariadne.location': location,
      'ariadne.clock': JSON.stringify(clock),
      'thread.id': thread,
    }),
    droppedAttributesCount: 0,
  };
}

const resources = new Map<string, Resource>();
const resourceOf = (service: string, instance: string) => {
  const k = `${service}/${instance}`;
  let r = resources.get(k);
  if (!r) resources.set(k, (r = makeResource(service, { 'service.instance.id': instance })));
  return r;
};

/** The lost update of receive/raceway/testing.ts, as OTLP spans: bank-api calls ledger; both read, then write `variable`. */
function lostUpdateSpans(t0: bigint, variable: string): { traceId: string; root: Span; child: Span } {
  const traceId = randomTraceId();
  const ms = (n: number) => t0 + BigInt(n) * MS;
  const A = 'bank-api#api-1';
  const L = 'ledger#ledger-7';
  const root = makeSpan({
    traceId,
    spanId: 'a1a1a1a1a1a1a1a1',
    name: 'POST /transfer',
    resource: resourceOf('bank-api', 'api-1'),
    startTimeUnixNano: ms(0),
    endTimeUnixNano: ms(10),
    events: [stateEvent(ms(3), 'main', [[A, 3]], variable, 'read', null, 100, 'bank.ts:41'), stateEvent(ms(5), 'main', [[A, 4]], variable, 'write', 100, 50, 'bank.ts:44')],
  });
  const child = makeSpan({
    traceId,
    spanId: 'b2b2b2b2b2b2b2b2',
    parentSpanId: root.spanId,
    name: 'POST /debit',
    resource: resourceOf('ledger', 'ledger-7'),
    startTimeUnixNano: ms(2),
    endTimeUnixNano: ms(8),
    events: [stateEvent(ms(4), 'worker-3', [[A, 1], [L, 2]], variable, 'read', null, 100, 'ledger.ts:17'), stateEvent(ms(6), 'worker-3', [[A, 1], [L, 3]], variable, 'write', 100, 70, 'ledger.ts:21')],
  });
  return { traceId, root, child };
}

describe('GET /api/v1/traces/:id/races', () => {
  it('finds the lost update sent as OTLP spans with ariadne.state events, both accesses complete', async () => {
    const { traceId, root, child } = lostUpdateSpans(nowNanos() - 50n * SECOND, 'otlp_balance');
    await postOtlp([root, child]);
    const r = await get(`/api/v1/traces/${traceId}/races`);
    assert.equal(r.status, 200);
    assert.equal(r.body.traceId, traceId);
    assert.equal(r.body.events, 4);
    assert.deepEqual(r.body.summary, { races: 3, critical: 1, warning: 2, variables: 1 });
    assert.equal(r.body.truncated, false);
    const critical = r.body.races.find((x: Json) => x.severity === 'critical');
    assert.deepEqual(
      critical.accesses.map((a: Json) => [a.service, a.instance, a.threadId, a.access, a.location, a.oldValue, a.newValue, a.clock, a.traceId, a.spanId]),
      [
        ['bank-api', 'api-1', 'main', 'write', 'bank.ts:44', '100', '50', [['bank-api#api-1', 4]], traceId, root.spanId],
        ['ledger', 'ledger-7', 'worker-3', 'write', 'ledger.ts:21', '100', '70', [['bank-api#api-1', 1], ['ledger#ledger-7', 3]], traceId, child.spanId],
      ],
    );
  });

  it('limit caps the list and says so', async () => {
    const { traceId, root, child } = lostUpdateSpans(nowNanos() - 49n * SECOND, 'capped_balance');
    await postOtlp([root, child]);
    const r = await get(`/api/v1/traces/${traceId}/races?limit=1`);
    assert.equal(r.body.races.length, 1);
    assert.equal(r.body.truncated, true);
    assert.deepEqual(r.body.truncatedVariables, ['capped_balance']);
  });

  it('a trace without causal events has no races; 404 for an unknown trace, 400 for a bad id or parameter', async () => {
    const plain = makeSpan({ traceId: randomTraceId(), startTimeUnixNano: nowNanos() - 48n * SECOND });
    await postOtlp([plain]);
    const none = await get(`/api/v1/traces/${plain.traceId}/races`);
    assert.equal(none.status, 200);
    assert.deepEqual([none.body.events, none.body.races], [0, []]);

    assert.equal((await get(`/api/v1/traces/${randomTraceId()}/races`)).status, 404);
    const badId = await get('/api/v1/traces/xyz/races');
    assert.equal(badId.status, 400);
    assert.equal(badId.body.param, 'traceId');
    const badLimit = await get(`/api/v1/traces/${plain.traceId}/races?limit=0`);
    assert.equal(badLimit.status, 400);
    assert.equal(badLimit.body.param, 'limit');
    const unknown = await get(`/api/v1/traces/${plain.traceId}/races?variable=x`);
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.param, 'variable');
  });
});

describe('GET /api/v1/races', () => {
  // Two requests, two traces, two services, one shared `stock` counter, no clock relation.
  const t0 = nowNanos() - 40n * 60n * SECOND;
  const x = makeSpan({
    traceId: randomTraceId(),
    name: 'reserve',
    resource: resourceOf('shop-a', 'a-1'),
    startTimeUnixNano: t0,
    endTimeUnixNano: t0 + 5n * MS,
    events: [stateEvent(t0 + MS, 'main', [['shop-a#a-1', 1]], 'stock', 'write', 10, 9, 'shop_a.ts:8')],
  });
  const y = makeSpan({
    traceId: randomTraceId(),
    name: 'reserve',
    resource: resourceOf('shop-b', 'b-1'),
    startTimeUnixNano: t0 + 2n * MS,
    endTimeUnixNano: t0 + 7n * MS,
    events: [stateEvent(t0 + 3n * MS, 'main', [['shop-b#b-1', 1]], 'stock', 'write', 10, 9, 'shop_b.py:12')],
  });
  const window = `start=${t0 - SECOND}&end=${t0 + SECOND}`;
  before(() => postOtlp([x, y]));

  it('finds a race across two traces in the window', async () => {
    const r = await get(`/api/v1/races?${window}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.start, String(t0 - SECOND));
    assert.equal(r.body.tracesScanned, 2);
    assert.equal(r.body.tracesWithEvents, 2);
    assert.equal(r.body.events, 2);
    assert.equal(r.body.truncated, false);
    assert.deepEqual(r.body.summary, { races: 1, critical: 1, warning: 0, variables: 1 });
    const [race] = r.body.races;
    assert.equal(race.variable, 'stock');
    assert.deepEqual(
      race.accesses.map((a: Json) => [a.service, a.traceId, a.spanId, a.location, a.clock]).sort(),
      [
        ['shop-a', x.traceId, x.spanId, 'shop_a.ts:8', [['shop-a#a-1', 1]]],
        ['shop-b', y.traceId, y.spanId, 'shop_b.py:12', [['shop-b#b-1', 1]]],
      ],
    );
  });

  it('service keeps the races with an access in it, whatever trace the other access is in', async () => {
    assert.equal((await get(`/api/v1/races?${window}&service=shop-a`)).body.races.length, 1);
    assert.equal((await get(`/api/v1/races?${window}&service=shop-b`)).body.races.length, 1);
    const none = await get(`/api/v1/races?${window}&service=nobody`);
    assert.deepEqual([none.body.races, none.body.service], [[], 'nobody']);
  });

  it('one trace alone has no race; the default window (the last hour) sees both; maxTraces bounds the scan', async () => {
    const onlyX = await get(`/api/v1/races?start=${t0 - SECOND}&end=${t0 + MS}`);
    assert.deepEqual([onlyX.body.tracesScanned, onlyX.body.races.length], [1, 0]);
    const all = await get('/api/v1/races');
    assert.ok(all.body.races.some((r: Json) => r.variable === 'stock' && r.accesses[0].traceId !== r.accesses[1].traceId));
    const bounded = await get(`/api/v1/races?${window}&maxTraces=1`);
    assert.deepEqual([bounded.body.tracesScanned, bounded.body.truncated, bounded.body.scanTruncated], [1, true, true]);
  });

  it('400 names the bad parameter', async () => {
    for (const [qs, param] of [
      ['start=yesterday', 'start'],
      [`start=${t0 + SECOND}&end=${t0}`, 'start'],
      ['limit=-1', 'limit'],
      ['maxTraces=100000', 'maxTraces'],
      ['service=', 'service'],
      ['trace=abc', 'trace'],
    ] as const) {
      const r = await get(`/api/v1/races?${qs}`);
      assert.equal(r.status, 400, qs);
      assert.equal(r.body.param, param, qs);
      assert.match(r.body.error, new RegExp(param));
    }
  });
});

// ---- the /causal report: seed 000's full chain, Raceway events and traced spans in one trace ----

function fullChain(t0: bigint, uuid: string): { traceId: string; events: unknown[]; traced: Span } {
  const traceId = hexOf(uuid);
  const ts: Ctx = { service: 'typescript-service', instance: 'ts-1', thread: 'ts-main', span: '1111111111111111' };
  const py: Ctx = { service: 'python-service', instance: 'py-1', thread: 'py-exec', span: '2222222222222222', upstream: ts.span, language: 'python' };
  const ms = (n: number) => t0 + BigInt(n) * MS;
  const T = 'typescript-service#ts-1';
  const P = 'python-service#py-1';
  const events = [
    rwEvent(uuid, ts, ms(0), { FunctionCall: { function_name: 'process_endpoint_called', module: 'server', args: {}, file: 'server.ts', line: 20 } }, [[T, 1]]),
    rwEvent(uuid, ts, ms(1), { StateChange: { variable: 'request_count', old_value: 0, new_value: 1, location: 'server.ts:22', access_type: 'Write' } }, [[T, 2]]),
    rwEvent(uuid, ts, ms(2), { AsyncSpawn: { task_id: 'http_request', spawned_by: 'makeDownstreamCall', url: 'http://py/process' } }, [[T, 3]]),
    rwEvent(uuid, py, ms(3), { FunctionCall: { function_name: 'process_endpoint_called', module: 'server', args: {}, file: 'server.py', line: 30 } }, [[T, 1], [P, 1]]),
    rwEvent(uuid, py, ms(4), { StateChange: { variable: 'request_count', old_value: 0, new_value: 1, location: 'server.py:33', access_type: 'Write' } }, [[T, 1], [P, 2]]),
    rwEvent(uuid, py, ms(5), { FunctionCall: { function_name: 'app.validate_payload', module: 'app', args: { payload: 'hi' }, file: 'server.py', line: 12 } }, [[T, 1], [P, 3]]),
    rwEvent(uuid, py, ms(6), { StateChange: { variable: 'payload', old_value: null, new_value: 'hi', location: 'server.py:14', access_type: 'Read' } }, [[T, 1], [P, 4]]),
    rwEvent(uuid, py, ms(7), { FunctionCall: { function_name: 'app.validate_payload:return', module: 'app', args: {}, file: 'server.py', line: 16 } }, [[T, 1], [P, 5]]),
    rwEvent(uuid, py, ms(10), { LockAcquire: { lock_id: 'cache_lock', lock_type: 'Mutex', location: 'server.py:40' } }, [[T, 1], [P, 6]]),
    rwEvent(uuid, ts, ms(12), { LockAcquire: { lock_id: 'cache_lock', lock_type: 'Mutex', location: 'server.ts:60' } }, [[T, 4]]),
    rwEvent(uuid, py, ms(14), { StateChange: { variable: 'cache', old_value: null, new_value: 'py', location: 'server.py:41', access_type: 'Write' } }, [[T, 1], [P, 7]]),
    rwEvent(uuid, ts, ms(16), { StateChange: { variable: 'cache', old_value: null, new_value: 'ts', location: 'server.ts:61', access_type: 'Write' } }, [[T, 5]]),
    rwEvent(uuid, py, ms(20), { LockRelease: { lock_id: 'cache_lock', location: 'server.py:42' } }, [[T, 1], [P, 8]]),
    rwEvent(uuid, py, ms(21), { AsyncSpawn: { task_id: 'http_request', url: 'http://go/process' } }, [[T, 1], [P, 9]]),
    rwEvent(uuid, ts, ms(24), { LockRelease: { lock_id: 'cache_lock', location: 'server.ts:62' } }, [[T, 6]]),
    rwEvent(uuid, py, ms(66), { AsyncAwait: { future_id: 'http_request', awaited_at: 'server.py:80', status_code: 200, duration_ms: 45 } }, [[T, 1], [P, 10]]),
    rwEvent(uuid, ts, ms(70), { AsyncAwait: { future_id: 'http_request', awaited_at: 'server.ts:90', metadata: { status_code: 201, duration_ms: 68 } } }, [[T, 7], [P, 10]]),
  ];
  // A call tracked by @ariadne/sdk's traced, sent over OTLP into the same trace.
  const traced = makeSpan({
    traceId,
    spanId: '3333333333333333',
    parentSpanId: ts.span,
    name: 'buildResponse',
    kind: SpanKind.INTERNAL,
    resource: resourceOf('typescript-service', 'ts-1'),
    startTimeUnixNano: ms(71),
    endTimeUnixNano: ms(72),
    attributes: attrs({ 'code.function': 'buildResponse', 'ariadne.args': '["hi"]' }),
  });
  return { traceId, events, traced };
}

describe('GET /api/v1/traces/:id/causal', () => {
  const t0 = nowNanos() - 10n * 60n * SECOND;
  const fc = fullChain(t0, '7d3f9a2e-1c4b-4f6a-8e2d-5b9c0a1f2e3d');
  before(async () => {
    await postRaceway(fc.events);
    await postOtlp([fc.traced]);
  });

  it('counts events by type and by service, as full-chain.sh does', async () => {
    const r = await get(`/api/v1/traces/${fc.traceId}/causal`);
    assert.equal(r.status, 200);
    const b = r.body;
    assert.deepEqual(b.services, ['python-service', 'typescript-service']);
    assert.equal(b.spanCount, 3);
    assert.equal(b.totalEvents, 18);
    assert.deepEqual(b.eventTypes, { FunctionCall: 5, StateChange: 4, AsyncAwait: 2, AsyncSpawn: 2, LockAcquire: 2, LockRelease: 2, VariableAccess: 1 });
    assert.deepEqual(b.eventsByService, [
      { service: 'python-service', total: 10, types: { FunctionCall: 3, StateChange: 2, AsyncAwait: 1, AsyncSpawn: 1, LockAcquire: 1, LockRelease: 1, VariableAccess: 1 } },
      { service: 'typescript-service', total: 8, types: { FunctionCall: 2, StateChange: 2, AsyncAwait: 1, AsyncSpawn: 1, LockAcquire: 1, LockRelease: 1 } },
    ]);
    assert.deepEqual(b.summary, { events: 13, services: 2, threads: 2, variables: 3, racyVariables: 1, races: 1, criticalRaces: 1, warningRaces: 0 });
    assert.deepEqual(b.highlights, { functionCalls: 5, asyncSpawned: 2, asyncCompleted: 2, stateChanges: 4, variableAccesses: 1, locksAcquired: 2, decoratedCalls: 3, races: 1, criticalRaces: 1 });
  });

  it('pairs async spawns and awaits with status and duration', async () => {
    const b = (await get(`/api/v1/traces/${fc.traceId}/causal`)).body;
    assert.deepEqual(
      b.asyncPairs.map((p: Json) => [p.service, p.taskId, p.outcome, p.status, p.durationNanos, p.reportedDurationMs, p.spawn.spanId]),
      [
        ['typescript-service', 'http_request', 'completed', '201', 68_000_000, 68, '1111111111111111'],
        ['python-service', 'http_request', 'completed', '200', 45_000_000, 45, '2222222222222222'],
      ],
    );
  });

  it('lists decorator-tracked functions: traced spans and Raceway decorator events', async () => {
    const b = (await get(`/api/v1/traces/${fc.traceId}/causal`)).body;
    assert.deepEqual(b.decorated, {
      total: 3,
      services: [
        { service: 'python-service', calls: 2, functions: ['app.validate_payload'] },
        { service: 'typescript-service', calls: 1, functions: ['buildResponse'] },
      ],
    });
  });

  it('gives a timeline of the first events in time order', async () => {
    const b = (await get(`/api/v1/traces/${fc.traceId}/causal?timeline=4`)).body;
    assert.deepEqual(
      b.timeline.map((e: Json) => [e.service, e.type, e.detail, e.threadId]),
      [
        ['typescript-service', 'FunctionCall', 'process_endpoint_called', 'ts-main'],
        ['typescript-service', 'StateChange', 'request_count write = 1', 'ts-main'],
        ['typescript-service', 'AsyncSpawn', 'spawn:http_request', 'ts-main'],
        ['python-service', 'FunctionCall', 'process_endpoint_called', 'py-exec'],
      ],
    );
    assert.equal(b.timeline[0].timeUnixNano, String(t0));
    assert.equal((await get(`/api/v1/traces/${fc.traceId}/causal`)).body.timeline.length, 18);
  });

  it('audit trails mark racy and causally linked accesses; lock contention; race summary', async () => {
    const b = (await get(`/api/v1/traces/${fc.traceId}/causal`)).body;
    const trail = (v: string) => b.auditTrails.find((t: Json) => t.variable === v);
    assert.deepEqual(
      trail('request_count').accesses.map((a: Json) => [a.service, a.access, a.racy, a.link]),
      [
        ['typescript-service', 'write', true, 'first'],
        ['python-service', 'write', true, 'concurrent'],
      ],
    );
    // Under cache_lock on both sides: concurrent, but not racy.
    assert.deepEqual(
      trail('cache').accesses.map((a: Json) => [a.service, a.racy, a.link, a.locks]),
      [
        ['typescript-service', false, 'first', ['cache_lock']],
        ['python-service', false, 'concurrent', ['cache_lock']],
      ],
    );
    // payload: one read, first in its trail.
    assert.deepEqual(
      trail('payload').accesses.map((a: Json) => [a.service, a.access, a.racy, a.link]),
      [['python-service', 'read', false, 'first']],
    );
    assert.deepEqual([trail('cache').racyCount, trail('request_count').racyCount], [0, 2]);
    const [lock] = b.locks;
    assert.deepEqual(
      [lock.lockId, lock.acquisitions, lock.holds, lock.threads, lock.waiters, lock.maxHoldNanos, lock.maxWaitNanos, lock.unreleased],
      ['cache_lock', 2, 2, 2, 1, 12_000_000, 8_000_000, 0],
    );
    assert.deepEqual(b.races, { races: 1, critical: 1, warning: 0, variables: 1, truncated: false, byVariable: [{ variable: 'request_count', races: 1, critical: 1, warning: 0, services: ['python-service', 'typescript-service'] }] });
    assert.deepEqual(
      b.breakdown.map((s: Json) => [s.service, s.total, s.state.write, s.state.read, s.lock.acquire, s.async.spawn]),
      [
        ['python-service', 7, 2, 1, 1, 1],
        ['typescript-service', 6, 2, 0, 1, 1],
      ],
    );
  });

  it('an access that knows the previous one is linked happens-before, and is not racy', async () => {
    const t = nowNanos() - 9n * 60n * SECOND;
    const span = makeSpan({
      traceId: randomTraceId(),
      resource: resourceOf('config-svc', 'c-1'),
      startTimeUnixNano: t,
      endTimeUnixNano: t + 10n * MS,
      events: [
        stateEvent(t + MS, 'main', [['config-svc#main', 1]], 'config', 'write', null, { ttl: 5 }, 'config.ts:3'),
        stateEvent(t + 2n * MS, 'worker', [['config-svc#main', 1], ['config-svc#worker', 1]], 'config', 'read', null, { ttl: 5 }, 'worker.ts:9'),
        stateEvent(t + 3n * MS, 'other', [['config-svc#other', 5]], 'config', 'read', null, null, 'other.ts:1'),
      ],
    });
    await postOtlp([span]);
    const b = (await get(`/api/v1/traces/${span.traceId}/causal`)).body;
    // Processing order: main's write, the worker's read (which knows it), the other read (which does not).
    assert.deepEqual(
      b.auditTrails[0].accesses.map((a: Json) => [a.sequence, a.threadId, a.access, a.newValue, a.racy, a.link]),
      [
        [0, 'main', 'write', '{"ttl":5}', true, 'first'],
        [1, 'worker', 'read', '{"ttl":5}', false, 'happens-before'],
        [2, 'other', 'read', 'null', true, 'concurrent'],
      ],
    );
    assert.deepEqual([b.auditTrails[0].accessCount, b.auditTrails[0].racyCount], [3, 2]);
  });

  it('variable narrows the audit trails; 404 / 400 as elsewhere', async () => {
    const b = (await get(`/api/v1/traces/${fc.traceId}/causal?variable=cache`)).body;
    assert.deepEqual(
      b.auditTrails.map((t: Json) => t.variable),
      ['cache'],
    );
    assert.equal((await get(`/api/v1/traces/${randomTraceId()}/causal`)).status, 404);
    const bad = await get(`/api/v1/traces/${fc.traceId}/causal?timeline=many`);
    assert.deepEqual([bad.status, bad.body.param], [400, 'timeline']);
  });
});

describe('ariadne races / ariadne causal', () => {
  const t0 = nowNanos() - 20n * 60n * SECOND;
  const lu = lostUpdateBatch(t0, 'cli_balance');
  const fc = fullChain(nowNanos() - 25n * 60n * SECOND, '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0');
  before(async () => {
    await postRaceway(lu.events);
    await postRaceway(fc.events);
    await postOtlp([fc.traced]);
  });

  it('races --trace prints one block per race with both accesses', async () => {
    const { code, out } = await cli(racesCommand, ['--trace', lu.traceId, '--url', server.url]);
    assert.equal(code, 0);
    assert.match(out, new RegExp(`^Races in trace ${lu.traceId}: 3 races \\(1 critical, 2 warning\\) on 1 variable; 4 causal events analysed`));
    const blocks = out.split('\n\n').slice(1);
    assert.equal(blocks.length, 3);
    const critical = blocks.find((b) => b.includes('CRITICAL'))!;
    assert.match(critical, /CRITICAL {2}cli_balance {2}write\/write/);
    assert.match(critical, /A {2}bank-api \(api-1\) {2}thread node-main {2}write {2}at bank\.ts:44/);
    assert.match(critical, /value 100 → 50 {3}clock \[bank-api#api-1:4\]/);
    assert.match(critical, /B {2}ledger \(ledger-7\) {2}thread worker-3 {2}write {2}at ledger\.py:21/);
    assert.match(critical, /value 100 → 70 {3}clock \[bank-api#api-1:1, ledger#ledger-7:3\]/);
    assert.match(critical, new RegExp(`trace ${lu.traceId} {2}span ${lu.ledger.span}`));
  });

  it('races over a window, and --json', async () => {
    const w = ['--start', String(t0 - SECOND), '--end', String(t0 + SECOND), '--url', server.url];
    const text = await cli(racesCommand, w);
    assert.equal(text.code, 0);
    assert.match(text.out, /^Races in 1 trace with causal events \(1 read\) from .* to .*: 3 races/);
    const json = await cli(racesCommand, [...w, '--json']);
    const body = JSON.parse(json.out);
    assert.equal(body.summary.races, 3);
    assert.equal(body.races[0].accesses.length, 2);
    const bad = await cli(racesCommand, ['--trace', lu.traceId, '--service', 'x', '--url', server.url]).catch((e: Error) => ({ code: 2, out: e.message }));
    assert.match(bad.out, /--service applies to a time window/);
  });

  it('causal prints the full-chain analysis', async () => {
    const { code, out } = await cli(causalCommand, [fc.traceId, '--url', server.url]);
    assert.equal(code, 0, out);
    for (const line of [
      'Total Events: 18  (3 spans, 13 causal events, 2 threads)',
      'Events by Service:',
      '  • python-service: 10 events',
      '  • typescript-service: 8 events',
      '  🔵 FunctionCall: 5',
      '  🟢 StateChange: 4',
      '  🟡 VariableAccess: 1',
      '  🟣 AsyncSpawn events: 2',
      '    [typescript-service] http_request → completed (status=201, 68ms, reported 68ms)',
      '    [python-service] http_request → completed (status=200, 45ms, reported 45ms)',
      'Decorator-Tracked Functions:',
      '  [python-service]: 1 unique functions tracked',
      '    • app.validate_payload',
      'Event Timeline (first 18 events):',
      '  1 race (1 critical, 0 warning) on 1 variable',
      '  cache_lock: 2 holds by 2 threads, mean 11ms, max 12ms; 1 waiter (longest wait 8ms)',
      '✅ 2 services present in the trace: python-service, typescript-service',
      '  • 5 function calls tracked',
      '  • 3 decorator-tracked function calls',
      '  • 1 data races detected (1 critical)',
    ]) {
      assert.ok(out.split('\n').includes(line), `missing line ${JSON.stringify(line)} in\n${out}`);
    }
    assert.match(out, / 1\. \S+ 🔵 \[typescript-service\] FunctionCall {4}process_endpoint_called/);
  });

  it('causal --json is the endpoint answer; an unknown trace exits 1', async () => {
    const json = await cli(causalCommand, [lu.traceId, '--json', '--url', server.url]);
    assert.equal(JSON.parse(json.out).traceId, lu.traceId);
    const missing = await cli(causalCommand, [randomTraceId(), '--url', server.url]);
    assert.equal(missing.code, 1);
    assert.match(missing.out, /not found/);
  });

  it('bin/ariadne.js races and causal run against the server', async () => {
    const run = promisify(execFile);
    const races = await run(process.execPath, [BIN, 'races', '--trace', lu.traceId, '--url', server.url]);
    assert.match(races.stdout, /3 races \(1 critical, 2 warning\)/);
    const causal = await run(process.execPath, [BIN, 'causal', lu.traceId, '--url', server.url]);
    assert.match(causal.stdout, /✅ 2 services present in the trace: bank-api, ledger/);
  });
});

describe('OpenAPI', () => {
  it('documents the causal endpoints and POST /events', async () => {
    const doc = (await get('/api/openapi.json')).body;
    for (const p of ['/api/v1/traces/{traceId}/races', '/api/v1/races', '/api/v1/traces/{traceId}/causal']) assert.ok(doc.paths[p]?.get, p);
    assert.ok(doc.paths['/events'].post.responses['206']);
    assert.deepEqual(doc.components.schemas.RaceAccess.required, ['service', 'threadId', 'access', 'location', 'oldValue', 'newValue', 'clock', 'traceId', 'spanId']);
  });
});
