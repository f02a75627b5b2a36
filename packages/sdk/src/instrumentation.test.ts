// The official http and undici (fetch) instrumentations through init(): two
// services in one process on two ports, trace context and clock across the
// hop. In memory; the same path against a real server is in
// integration.test.ts.

import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, type TimedEvent } from '@opentelemetry/sdk-trace-base';
import { happenedBefore, parseClock, type ClockEntries } from './clock.js';
import { init, type AriadneSdk } from './init.js';
import { track } from './track.js';

const ea = new InMemorySpanExporter();
const eb = new InMemorySpanExporter();
let front: AriadneSdk;
let back: AriadneSdk;
let frontUrl = '';
let backUrl = '';
const servers: http.Server[] = [];

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

function listen(server: http.Server): Promise<string> {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

before(async () => {
  front = init({ serviceName: 'front', exporter: ea, batch: false, instrumentations: { http: true, fetch: true } });
  back = init({ serviceName: 'back', exporter: eb, batch: false });
  const backServer = http.createServer((req, res) => {
    track.write('stock', 5, 4);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ headers: req.headers }));
  });
  backUrl = await back.run(() => listen(backServer));
  const frontServer = http.createServer((req, res) => {
    track.write('cart', 0, 1);
    const call = req.url === '/fetch' ? fetch(`${backUrl}/stock`).then((r) => r.text()) : get(`${backUrl}/stock`);
    call.then(
      (body) => {
        track.read('reply', body.length);
        res.end(body);
      },
      (err: Error) => {
        res.statusCode = 500;
        res.end(err.message);
      },
    );
  });
  frontUrl = await front.run(() => listen(frontServer));
});

after(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
  await front.shutdown();
  await back.shutdown();
});

beforeEach(() => {
  ea.reset();
  eb.reset();
});

function eventsIn(spans: ReadableSpan[], variable: string): TimedEvent {
  const e = spans.flatMap((s) => s.events).find((x) => x.attributes?.['ariadne.variable'] === variable);
  assert.ok(e, `event for ${variable}`);
  return e;
}
const clock = (e: TimedEvent): ClockEntries => parseClock(String(e.attributes?.['ariadne.clock']))!;

for (const [label, path] of [
  ['http', '/http'],
  ['fetch', '/fetch'],
] as const) {
  test(`one trace across the hop (${label} client), with a merged clock`, async () => {
    const body = await front.tracer.startActiveSpan('test-root', async (span) => {
      try {
        return await get(`${frontUrl}${path}`);
      } finally {
        span.end();
      }
    });
    const seenByBack = (JSON.parse(body) as { headers: Record<string, string> }).headers;
    assert.match(seenByBack.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.match(seenByBack['ariadne-clock'], /^v1;/);

    const fs = ea.getFinishedSpans();
    const bs = eb.getFinishedSpans();
    const root = fs.find((s) => s.name === 'test-root')!;
    const traceId = root.spanContext().traceId;
    assert.ok([...fs, ...bs].every((s) => s.spanContext().traceId === traceId), 'one trace');

    const backServer = bs.find((s) => s.kind === SpanKind.SERVER);
    assert.ok(backServer, 'the back service recorded its server span');
    assert.equal(backServer.resource.attributes['service.name'], 'back');
    const frontServer = fs.find((s) => s.kind === SpanKind.SERVER)!;
    const hopClient = fs.find((s) => s.kind === SpanKind.CLIENT && s.parentSpanContext?.spanId === frontServer.spanContext().spanId);
    assert.ok(hopClient, `front's ${label} client span for the hop`);
    assert.equal(backServer.parentSpanContext?.spanId, hopClient.spanContext().spanId, 'back’s server span is a child of front’s client span');
    assert.ok(bs.every((s) => s.resource.attributes['service.name'] === 'back'));
    assert.ok(fs.every((s) => s.resource.attributes['service.name'] === 'front'));

    const cart = eventsIn(fs, 'cart');
    const stock = eventsIn(bs, 'stock');
    const reply = eventsIn(fs, 'reply');
    assert.ok(happenedBefore(clock(cart), clock(stock)), 'front’s write happens before back’s');
    assert.notEqual(cart.attributes?.['thread.id'], stock.attributes?.['thread.id']);
    assert.ok(clock(stock).some(([c]) => c.startsWith('back#')), 'back’s own component');
    assert.ok(clock(cart).some(([c]) => c.startsWith('front#')), 'front’s own component');
    assert.ok(happenedBefore(clock(cart), clock(reply)));
    assert.ok(happenedBefore(clock(stock), clock(reply)), 'the response carried back’s clock to front');
  });
}

test('responses carry the server task’s clock', async () => {
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`${backUrl}/x`, resolve).on('error', reject));
  res.resume();
  const header = res.headers['ariadne-clock'];
  assert.match(String(header), /^v1;/);
});

test('concurrent requests to one service are separate tasks', async () => {
  await Promise.all([get(`${backUrl}/a`), get(`${backUrl}/b`), get(`${backUrl}/c`)]);
  const writes = eb.getFinishedSpans().flatMap((s) => s.events.filter((e) => e.attributes?.['ariadne.variable'] === 'stock'));
  assert.equal(writes.length, 3);
  assert.equal(new Set(writes.map((e) => e.attributes?.['thread.id'])).size, 3);
});
