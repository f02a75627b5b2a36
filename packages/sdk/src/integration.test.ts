// Against a real Ariadne server, started as a black box (bin/ariadne.js serve
// on free ports) and queried over its HTTP API: spans, decorators, context
// across await, an HTTP hop between two services in this process, a Redis job,
// and causal events whose clocks merge monotonically. Skips with `SKIP <reason>`
// when the server or redis-server is missing (fails under
// ARIADNE_TEST_REQUIRE_ALL=1).

import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Redis } from 'ioredis';
import { happenedBefore, parseClock, type ClockEntries } from './clock.js';
import { init, type AriadneSdk } from './init.js';
import { traced } from './traced.js';
import { track } from './track.js';
import { attr, fetchTrace, startAriadne, type AriadneServer, type EventJson, type SpanJson, type TraceJson } from './testing/ariadne.js';
import { startRedis, type RedisServer } from './testing/redis.js';
import { needService } from './testing/services.js';

let server: AriadneServer | undefined;
let serverMissing = '';
let redis: RedisServer | undefined;
let redisMissing = '';
let front: AriadneSdk | undefined;
let back: AriadneSdk | undefined;
const httpServers: http.Server[] = [];

before(async () => {
  const [s, r] = await Promise.all([startAriadne(), startRedis()]);
  if (s.ok) server = s.value;
  else serverMissing = s.reason;
  if (r.ok) redis = r.value;
  else redisMissing = r.reason;
  if (server === undefined) return;
  front = init({ serviceName: 'it-front', endpoint: server.otlpEndpoint, instrumentations: { http: true, ioredis: true } });
  back = init({ serviceName: 'it-back', endpoint: server.otlpEndpoint });
});

after(async () => {
  for (const s of httpServers) await new Promise((r) => s.close(r));
  await front?.shutdown();
  await back?.shutdown();
  await server?.stop();
  await redis?.stop();
});

function needServer(t: TestContext): boolean {
  return needService(t, server !== undefined, serverMissing);
}

/** Flushes both services and fetches the trace from the server. */
async function settle(traceId: string, minSpans: number, until?: (t: TraceJson) => boolean): Promise<TraceJson> {
  await front!.forceFlush();
  await back!.forceFlush();
  return fetchTrace(server!, traceId, { minSpans, until });
}

function byName(t: TraceJson, name: string): SpanJson {
  const s = t.spans.find((x) => x.name === name);
  assert.ok(s, `span ${name} in ${t.spans.map((x) => x.name).join(', ')}`);
  return s;
}

const STATUS_ERROR = new Set<unknown>([SpanStatusCode.ERROR, 'STATUS_CODE_ERROR', 'ERROR', 'error']);
const KIND_NAMES: Record<string, number> = { SPAN_KIND_INTERNAL: 1, SPAN_KIND_SERVER: 2, SPAN_KIND_CLIENT: 3, SPAN_KIND_PRODUCER: 4, SPAN_KIND_CONSUMER: 5, internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };
/** OTLP kind (1 = internal ... 5 = consumer) whether the API answers a number or a name. */
function otlpKind(s: SpanJson): number {
  return typeof s.kind === 'number' ? s.kind : (KIND_NAMES[s.kind] ?? Number(s.kind));
}
/** OTLP kind numbers are the API's SpanKind + 1. */
const OTLP = (k: SpanKind): number => k + 1;

function causal(t: TraceJson): Array<{ span: SpanJson; event: EventJson; clock: ClockEntries }> {
  const out = t.spans.flatMap((span) =>
    span.events
      .filter((e) => e.name.startsWith('ariadne.'))
      .map((event) => {
        const clock = parseClock(String(attr(event, 'ariadne.clock')));
        assert.ok(clock, `valid ariadne.clock on ${event.name}`);
        return { span, event, clock };
      }),
  );
  return out.sort((a, b) => (BigInt(a.event.timeUnixNano) < BigInt(b.event.timeUnixNano) ? -1 : 1));
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

function listen(srv: http.Server): Promise<string> {
  httpServers.push(srv);
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`)));
}

describe('against a real Ariadne server', () => {
  test('spans: names, parents, typed attributes, events, status, timestamps, resource', async (t) => {
    if (!needServer(t)) return;
    let traceId = '';
    let rootStart: [number, number] = [0, 0];
    front!.tracer.startActiveSpan(
      'it.root',
      { kind: SpanKind.SERVER, attributes: { 'it.str': 'text', 'it.int': 42, 'it.bool': true, 'it.double': 1.5, 'it.array': ['a', 'b'] } },
      (root) => {
        traceId = root.spanContext().traceId;
        rootStart = (root as unknown as { startTime: [number, number] }).startTime;
        root.addEvent('it.event', { 'it.k': 'v' });
        front!.tracer.startActiveSpan('it.child', (child) => {
          child.recordException(new Error('child failed'));
          child.setStatus({ code: SpanStatusCode.ERROR, message: 'child failed' });
          child.end();
        });
        root.end();
      },
    );
    const tr = await settle(traceId, 2);
    assert.equal(tr.traceId, traceId);
    const root = byName(tr, 'it.root');
    const child = byName(tr, 'it.child');
    assert.equal(child.parentSpanId, root.spanId);
    assert.ok(!root.parentSpanId, 'root has no parent');
    assert.equal(otlpKind(root), OTLP(SpanKind.SERVER));
    assert.equal(attr(root, 'it.str'), 'text');
    assert.equal(attr(root, 'it.int'), 42);
    assert.equal(attr(root, 'it.bool'), true);
    assert.equal(attr(root, 'it.double'), 1.5);
    assert.deepEqual(attr(root, 'it.array'), ['a', 'b']);
    const ev = root.events.find((e) => e.name === 'it.event');
    assert.equal(ev && attr(ev, 'it.k'), 'v');
    assert.ok(STATUS_ERROR.has(child.status.code), `status ${JSON.stringify(child.status)}`);
    assert.equal(child.status.message, 'child failed');
    assert.ok(child.events.some((e) => e.name === 'exception' && attr(e, 'exception.message') === 'child failed'));
    assert.equal(typeof root.startTimeUnixNano, 'string');
    assert.equal(BigInt(root.startTimeUnixNano), BigInt(rootStart[0]) * 1_000_000_000n + BigInt(rootStart[1]), 'start time kept to the nanosecond');
    assert.ok(BigInt(root.endTimeUnixNano) >= BigInt(root.startTimeUnixNano));
    assert.equal(root.service, 'it-front');
    assert.equal(attr(root.resource, 'service.name'), 'it-front');
    assert.equal(attr(root.resource, 'service.instance.id'), front!.instanceId);
    assert.equal(root.scope.name, '@ariadne/sdk');
  });

  test('decorators: arguments, result, redaction, exception', async (t) => {
    if (!needServer(t)) return;
    class Payments {
      @traced({ captureArgs: true, captureResult: true })
      async charge(account: { id: string; cardNumber: string }, amount: number): Promise<{ ok: boolean; amount: number }> {
        await sleep(2);
        if (amount < 0) throw new RangeError('negative amount');
        return { ok: true, amount };
      }
    }
    const payments = new Payments();
    let traceId = '';
    await front!.tracer.startActiveSpan('it.decorators', async (root) => {
      traceId = root.spanContext().traceId;
      await payments.charge({ id: 'acc-1', cardNumber: '4111111111111111' }, 25);
      await assert.rejects(payments.charge({ id: 'acc-1', cardNumber: '4111' }, -1), RangeError);
      root.end();
    });
    const tr = await settle(traceId, 3);
    const charges = tr.spans.filter((s) => s.name === 'Payments.charge');
    assert.equal(charges.length, 2);
    const ok = charges.find((s) => attr(s, 'ariadne.result') !== undefined)!;
    const failed = charges.find((s) => s !== ok)!;
    assert.deepEqual(JSON.parse(String(attr(ok, 'ariadne.args'))), [{ id: 'acc-1', cardNumber: '[REDACTED]' }, 25]);
    assert.deepEqual(JSON.parse(String(attr(ok, 'ariadne.result'))), { ok: true, amount: 25 });
    assert.equal(attr(ok, 'code.function'), 'charge');
    assert.ok(STATUS_ERROR.has(failed.status.code));
    assert.equal(failed.status.message, 'negative amount');
    assert.ok(failed.events.some((e) => e.name === 'exception' && attr(e, 'exception.type') === 'RangeError'));
    assert.ok(!JSON.stringify(tr).includes('4111111111111111'), 'card number never reaches the server');
  });

  test('context across await: nested traced calls form one tree', async (t) => {
    if (!needServer(t)) return;
    const leaf = traced(async function leaf(n: number) {
      await sleep(3);
      return n;
    });
    const middle = traced(async function middle() {
      const a = await leaf(1);
      await new Promise((r) => setImmediate(r));
      const [b, c] = await Promise.all([leaf(2), leaf(3)]);
      return a + b + c;
    });
    const top = traced(async function top() {
      await sleep(1);
      return middle();
    });
    let traceId = '';
    await front!.tracer.startActiveSpan('it.await', async (root) => {
      traceId = root.spanContext().traceId;
      assert.equal(await top(), 6);
      root.end();
    });
    const tr = await settle(traceId, 6);
    const root = byName(tr, 'it.await');
    const topSpan = byName(tr, 'top');
    const mid = byName(tr, 'middle');
    assert.equal(topSpan.parentSpanId, root.spanId);
    assert.equal(mid.parentSpanId, topSpan.spanId);
    const leaves = tr.spans.filter((s) => s.name === 'leaf');
    assert.equal(leaves.length, 3);
    for (const l of leaves) assert.equal(l.parentSpanId, mid.spanId);
  });

  test('HTTP hop between two services in one process; clocks merge across it', async (t) => {
    if (!needServer(t)) return;
    const backUrl = await back!.run(() =>
      listen(
        http.createServer((req, res) => {
          track.read('inventory', 7);
          track.write('inventory', 7, 6);
          res.end('reserved');
        }),
      ),
    );
    const frontUrl = await front!.run(() =>
      listen(
        http.createServer((req, res) => {
          track.write('cart', 0, 1);
          get(`${backUrl}/reserve`).then(
            (body) => {
              track.read('reservation', body);
              res.end(body);
            },
            (err: Error) => res.end(err.message),
          );
        }),
      ),
    );
    let traceId = '';
    await front!.tracer.startActiveSpan('it.hop', async (root) => {
      traceId = root.spanContext().traceId;
      track.write('session', 0, 1);
      assert.equal(await get(`${frontUrl}/checkout`), 'reserved');
      track.read('session', 1);
      root.end();
    });
    const tr = await settle(traceId, 5, (x) => x.spans.some((s) => s.service === 'it-back') && causal(x).length >= 6);
    const services = new Set(tr.spans.map((s) => s.service));
    assert.deepEqual([...services].sort(), ['it-back', 'it-front']);
    const backServer = tr.spans.find((s) => s.service === 'it-back' && otlpKind(s) === OTLP(SpanKind.SERVER));
    assert.ok(backServer, 'back server span');
    const client = tr.spans.find((s) => s.spanId === backServer.parentSpanId);
    assert.ok(client, 'parent of the back server span is in the trace');
    assert.equal(client.service, 'it-front');
    assert.equal(otlpKind(client), OTLP(SpanKind.CLIENT));

    const evs = causal(tr);
    const find = (service: string, variable: string, access: string) => {
      const e = evs.find((x) => x.span.service === service && attr(x.event, 'ariadne.variable') === variable && attr(x.event, 'ariadne.access') === access);
      assert.ok(e, `${service} ${access} ${variable}`);
      return e;
    };
    const session = find('it-front', 'session', 'write');
    const cart = find('it-front', 'cart', 'write');
    const invRead = find('it-back', 'inventory', 'read');
    const invWrite = find('it-back', 'inventory', 'write');
    const reservation = find('it-front', 'reservation', 'read');
    const sessionRead = find('it-front', 'session', 'read');
    // Each event's clock dominates everything that happened before it on the request path.
    const path = [session, cart, invRead, invWrite, reservation];
    for (let i = 1; i < path.length; i++) assert.ok(happenedBefore(path[i - 1].clock, path[i].clock), `step ${i}`);
    assert.ok(happenedBefore(session.clock, sessionRead.clock));
    for (const e of evs) {
      assert.match(String(attr(e.event, 'thread.id')), /^\d+:\d+$/);
      const own = String(e.clock[e.clock.length - 1][0]);
      assert.ok(own.startsWith(`${e.span.service}#`), `own component ${own} names the service`);
    }
    // Within each task (thread.id) the clocks grow strictly, in the order the events happened.
    const byThread = new Map<string, typeof evs>();
    for (const e of evs) {
      const key = `${e.span.service}/${String(attr(e.event, 'thread.id'))}`;
      byThread.set(key, [...(byThread.get(key) ?? []), e]);
    }
    for (const [thread, list] of byThread) {
      const own = list[0].clock[list[0].clock.length - 1][0];
      const ordered = [...list].sort((x, y) => new Map(x.clock).get(own)! - new Map(y.clock).get(own)!);
      for (let i = 1; i < ordered.length; i++) {
        assert.ok(happenedBefore(ordered[i - 1].clock, ordered[i].clock), `${thread}: event ${i}`);
        // Event times are exact within a span; across spans the SDK's start times have millisecond grain.
        if (ordered[i - 1].span.spanId === ordered[i].span.spanId) {
          assert.ok(BigInt(ordered[i - 1].event.timeUnixNano) <= BigInt(ordered[i].event.timeUnixNano), `${thread}: time order ${i}`);
        }
      }
    }
    assert.notEqual(attr(invWrite.event, 'thread.id'), attr(cart.event, 'thread.id'));
    assert.equal(attr(invRead.event, 'thread.id'), attr(invWrite.event, 'thread.id'), 'one request, one task');
  });

  test('a Redis job continues the trace; job.wait_time_ms; clocks merge through the payload', async (t) => {
    if (!needServer(t)) return;
    if (!needService(t, redis !== undefined, redisMissing)) return;
    const { JobQueue } = (await import(new URL('../examples/redis-queue/queue.mjs', import.meta.url).href)) as typeof import('../examples/redis-queue/queue.mjs');
    const producerClient = new Redis(redis!.url);
    const workerClient = new Redis(redis!.url);
    const producerQueue = new JobQueue(producerClient, 'it-orders');
    const workerQueue = new JobQueue(workerClient, 'it-orders');
    let resolveDone!: (id: string) => void;
    const done = new Promise<string>((resolve) => (resolveDone = resolve));
    const loop = back!.run(() =>
      workerQueue.work(
        async (job) => {
          track.read('order', job.payload);
          await sleep(2);
          track.write('orders.processed', 0, 1);
          resolveDone(job.id);
        },
        { pollSeconds: 0.2 },
      ),
    );
    let traceId = '';
    let jobId = '';
    try {
      await front!.tracer.startActiveSpan('it.submit', async (root) => {
        traceId = root.spanContext().traceId;
        track.write('orders.submitted', 0, 1);
        await sleep(30); // let the worker block in BRPOP first
        jobId = (await producerQueue.enqueue('order.created', { orderId: 7 })).id;
        root.end();
      });
      assert.equal(await done, jobId);
    } finally {
      workerQueue.stop();
      await loop; // returns once the pending BRPOP times out
      producerClient.disconnect();
      workerClient.disconnect();
    }
    const tr = await settle(traceId, 4, (x) => x.spans.some((s) => s.name === 'it-orders process'));
    const publish = byName(tr, 'it-orders publish');
    const processSpan = byName(tr, 'it-orders process');
    assert.equal(publish.service, 'it-front');
    assert.equal(processSpan.service, 'it-back');
    assert.equal(processSpan.parentSpanId, publish.spanId, 'the worker continues the producer’s trace');
    assert.equal(otlpKind(publish), OTLP(SpanKind.PRODUCER));
    assert.equal(otlpKind(processSpan), OTLP(SpanKind.CONSUMER));
    assert.equal(attr(processSpan, 'job.id'), jobId);
    const wait = Number(attr(processSpan, 'job.wait_time_ms'));
    assert.ok(Number.isFinite(wait) && wait >= 0, `job.wait_time_ms = ${wait}`);
    const lpush = tr.spans.find((s) => /lpush/i.test(s.name) && s.parentSpanId === publish.spanId);
    assert.ok(lpush, `ioredis LPUSH span under the publish span: ${tr.spans.map((s) => s.name).join(', ')}`);
    assert.equal(attr(lpush, 'db.system') ?? attr(lpush, 'db.system.name'), 'redis');

    const evs = causal(tr);
    const submitted = evs.find((e) => attr(e.event, 'ariadne.variable') === 'orders.submitted')!;
    const spawn = evs.find((e) => attr(e.event, 'ariadne.async.op') === 'spawn' && attr(e.event, 'ariadne.task.id') === `job:${jobId}`);
    const read = evs.find((e) => attr(e.event, 'ariadne.variable') === 'order')!;
    const processed = evs.find((e) => attr(e.event, 'ariadne.variable') === 'orders.processed')!;
    assert.ok(spawn, 'spawn event for the job');
    assert.ok(happenedBefore(submitted.clock, spawn.clock));
    assert.ok(happenedBefore(spawn.clock, read.clock), 'the worker’s events happen after the enqueue');
    assert.ok(happenedBefore(read.clock, processed.clock));
  });
});
