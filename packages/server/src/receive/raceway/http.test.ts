// POST /events end to end: Raceway batches in, spans stored durably, the
// race found through /api/v1; Raceway's answers (200 / 206 / 400), body
// limits, gzip, content types, metrics and a restart.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { attributeText, findAttribute } from '@ariadne/model';
import { nowNanos, SECOND } from '../../testing/fixtures.js';
import { startTestServer, type TestServer } from '../../testing/server.js';
import { lostUpdateBatch, rwEvent } from './testing.js';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.stop();
});

async function post(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Json }> {
  const r = await fetch(`${server.url}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : body instanceof Uint8Array ? new Uint8Array(body) : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

async function get(path: string): Promise<{ status: number; body: Json }> {
  const r = await fetch(server.url + path);
  return { status: r.status, body: await r.json() };
}

describe('POST /events', () => {
  it('stores a lost update between two services; /races finds it with both accesses', async () => {
    const lu = lostUpdateBatch(nowNanos() - 20n * SECOND);
    const r = await post({ events: lu.events });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { success: true, data: `Ingested ${lu.events.length} events`, error: null, errors: [], accepted: lu.events.length, rejected: 0, spans: 2, traceIds: [lu.traceId] });

    const trace = await get(`/api/v1/traces/${lu.traceId}`);
    assert.equal(trace.status, 200);
    assert.deepEqual(trace.body.spans.map((s: Json) => [s.service, s.spanId, s.parentSpanId]).sort(), [
      ['bank-api', lu.api.span, ''],
      ['ledger', lu.ledger.span, lu.api.span],
    ]);

    const races = await get(`/api/v1/traces/${lu.traceId}/races`);
    assert.equal(races.status, 200);
    assert.deepEqual(races.body.summary, { races: 3, critical: 1, warning: 2, variables: 1 });
    const critical = races.body.races.find((x: Json) => x.severity === 'critical');
    assert.equal(critical.variable, 'account_balance');
    const [a, b] = critical.accesses;
    const pick = (x: Json) => ({ service: x.service, threadId: x.threadId, access: x.access, location: x.location, oldValue: x.oldValue, newValue: x.newValue, clock: x.clock, traceId: x.traceId, spanId: x.spanId });
    assert.deepEqual(pick(a), { service: 'bank-api', threadId: 'node-main', access: 'write', location: 'bank.ts:44', oldValue: '100', newValue: '50', clock: [['bank-api#api-1', 4]], traceId: lu.traceId, spanId: lu.api.span });
    assert.deepEqual(pick(b), {
      service: 'ledger',
      threadId: 'worker-3',
      access: 'write',
      location: 'ledger.py:21',
      oldValue: '100',
      newValue: '70',
      clock: [['bank-api#api-1', 1], ['ledger#ledger-7', 3]],
      traceId: lu.traceId,
      spanId: lu.ledger.span,
    });
    assert.deepEqual(
      races.body.races.filter((x: Json) => x.severity === 'warning').map((x: Json) => x.accesses.map((y: Json) => `${y.service}:${y.access}`).join(' / ')).sort(),
      ['bank-api:read / ledger:write', 'ledger:read / bank-api:write'],
    );
  });

  it('206 with the bad events by index and reason; the good ones are stored', async () => {
    const lu = lostUpdateBatch(nowNanos() - 19n * SECOND, 'partial_balance');
    const events: unknown[] = [...lu.events];
    events.splice(2, 0, { trace_id: lu.traceUuid, kind: { Teleport: {} }, metadata: {} });
    events.push('not an event');
    events.push({ ...lu.events[3]!, kind: { StateChange: { old_value: 1, access_type: 'Write' } } });
    const r = await post({ events });
    assert.equal(r.status, 206);
    assert.equal(r.body.success, true);
    assert.equal(r.body.data, `Ingested ${lu.events.length} events, 3 errors`);
    assert.equal(r.body.error, null);
    assert.deepEqual(
      r.body.errors.map((e: Json) => e.index),
      [2, events.length - 2, events.length - 1],
    );
    assert.match(r.body.errors[0].reason, /unknown kind "Teleport"/);
    assert.match(r.body.errors[1].reason, /event must be an object/);
    assert.match(r.body.errors[2].reason, /variable is missing/);
    assert.equal(r.body.accepted, lu.events.length);
    assert.equal(r.body.rejected, 3);

    const trace = await get(`/api/v1/traces/${lu.traceId}`);
    assert.equal(trace.status, 200);
    const stored = trace.body.spans.reduce((n: number, s: Json) => n + s.events.length, 0);
    assert.equal(stored, lu.events.length);
    const races = await get(`/api/v1/traces/${lu.traceId}/races`);
    assert.equal(races.body.summary.races, 3);
  });

  it('400 when no event is usable, for bad JSON and for a body that is not a batch', async () => {
    const none = await post({ events: [{ kind: {} }, 42] });
    assert.equal(none.status, 400);
    assert.equal(none.body.success, false);
    assert.equal(none.body.data, null);
    assert.match(none.body.error, /none of the 2 events is usable/);
    assert.deepEqual(
      none.body.errors.map((e: Json) => e.index),
      [0, 1],
    );

    const badJson = await post('{"events": [');
    assert.equal(badJson.status, 400);
    assert.match(badJson.body.error, /^invalid JSON: /);
    assert.deepEqual(badJson.body.errors, [{ index: -1, reason: badJson.body.error }]);

    const notBatch = await post({ event: [] });
    assert.equal(notBatch.status, 400);
    assert.equal(notBatch.body.error, '"events" must be an array');

    const empty = await post({ events: [] });
    assert.equal(empty.status, 200);
    assert.equal(empty.body.data, 'Ingested 0 events');
  });

  it('takes gzip, refuses other content types and over-limit bodies', async () => {
    const lu = lostUpdateBatch(nowNanos() - 18n * SECOND, 'gzip_balance');
    const gz = await post(gzipSync(Buffer.from(JSON.stringify({ events: lu.events }))), { 'content-encoding': 'gzip' });
    assert.equal(gz.status, 200);
    assert.equal((await get(`/api/v1/traces/${lu.traceId}`)).status, 200);

    const form = await post('events=1', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 415);
    assert.equal(form.body.success, false);

    const br = await post('{}', { 'content-encoding': 'br' });
    assert.equal(br.status, 415);

    const small = await startTestServer({ maxBodyBytes: 2048 });
    try {
      const big = JSON.stringify({ events: lostUpdateBatch(nowNanos()).events });
      assert.ok(big.length > 2048);
      const r = await fetch(`${small.url}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
      assert.equal(r.status, 413);
      assert.match(((await r.json()) as Json).error, /2048-byte limit/);
      // A gzip bomb is refused after inflating at most the limit.
      const bomb = gzipSync(Buffer.from(`{"events":[${' '.repeat(1 << 20)}]}`));
      const r2 = await fetch(`${small.url}/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: bomb });
      assert.equal(r2.status, 413);
    } finally {
      await small.stop();
    }
  });

  it('counts received, accepted and rejected in the metrics (receiver raceway)', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
    const received = value(/ariadne_spans_received_total\{receiver="raceway"\} (\d+)/);
    const accepted = value(/ariadne_spans_accepted_total\{receiver="raceway"\} (\d+)/);
    const rejected = value(/ariadne_spans_rejected_total\{receiver="raceway",reason="invalid_span"\} (\d+)/);
    assert.ok(accepted >= 6, `accepted ${accepted}`);
    assert.ok(rejected >= 5, `rejected ${rejected}`);
    assert.equal(received, accepted + rejected);
    assert.match(text, /ariadne_requests_refused_total\{receiver="raceway",reason="decode_error"\} [1-9]/);
    assert.match(text, /ariadne_requests_refused_total\{receiver="raceway",reason="unsupported_media_type"\} [1-9]/);
  });
});

describe('POST /events durability', () => {
  it('what was acknowledged is there after a restart', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'ariadne-raceway-'));
    try {
      const first = await startTestServer({ dataDir: dir });
      const t0 = nowNanos() - 5n * SECOND;
      const ctx = { service: 'counter', instance: 'c-1', thread: 't-1', span: 'c0c0c0c0c0c0c0c0' };
      const uuid = '6f1c2a9e-3b7d-4e2a-9c1f-0a2b3c4d5e6f';
      const events = [rwEvent(uuid, ctx, t0, { LockAcquire: { lock_id: 'counter_lock', lock_type: 'Mutex', location: 'c.go:10' } }, [['counter#c-1', 1]])];
      const r = await fetch(`${first.url}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events }) });
      assert.equal(r.status, 200);
      await first.stop();
      const second = await startTestServer({ dataDir: dir });
      try {
        const trace = (await (await fetch(`${second.url}/api/v1/traces/6f1c2a9e3b7d4e2a9c1f0a2b3c4d5e6f`)).json()) as Json;
        const ev = trace.spans[0].events[0];
        assert.equal(ev.name, 'ariadne.lock');
        assert.equal(attributeText(findAttribute(ev.attributes, 'ariadne.lock.id')!), 'counter_lock');
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
