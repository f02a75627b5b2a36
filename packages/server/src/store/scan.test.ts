// scanTraces over the TraceStore contract: whole traces, bounded by a trace
// count and a span count, with the bound reported.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { walRecordOfSpans } from '../pipeline/ingest.js';
import { makeTrace, nowNanos, SECOND } from '../testing/fixtures.js';
import { startTestServer, type TestServer } from '../testing/server.js';
import { forEachLimited, scanTraces } from './scan.js';

describe('scanTraces', () => {
  let server: TestServer;
  const t0 = nowNanos() - 600n * SECOND;
  const traceIds: string[] = [];
  before(async () => {
    server = await startTestServer();
    const spans = [];
    for (let i = 0; i < 12; i++) {
      // 7 spans each; the first six traces have a 'backend' level, the rest do not.
      const t = makeTrace({ start: t0 + BigInt(i) * SECOND, services: i < 6 ? ['frontend', 'backend'] : ['frontend'] });
      traceIds.push(t[0]!.traceId);
      spans.push(...t);
    }
    assert.ok((await server.ingester.ingest('test', spans, walRecordOfSpans(spans))).ok);
  });
  after(() => server.stop());

  it('visits whole traces matching the query, and only those', async () => {
    const seen = new Map<string, number>();
    const r = await scanTraces(server.store, { service: 'backend', maxTraces: 100 }, (spans, summary) => {
      assert.equal(spans[0]!.traceId, summary.traceId);
      seen.set(summary.traceId, spans.length);
    });
    assert.deepEqual(r, { traces: 6, spans: 42, truncated: false });
    assert.deepEqual([...seen.keys()].sort(), traceIds.slice(0, 6).sort());
    assert.ok([...seen.values()].every((n) => n === 7));
  });

  it('bounds by time range', async () => {
    const r = await scanTraces(server.store, { startUnixNano: t0 + 10n * SECOND, endUnixNano: t0 + 20n * SECOND, maxTraces: 100 }, () => {});
    assert.equal(r.traces, 2);
  });

  it('says when maxTraces or maxSpans cut it short', async () => {
    assert.deepEqual(await scanTraces(server.store, { maxTraces: 5 }, () => {}), { traces: 5, spans: 35, truncated: true });
    const r = await scanTraces(server.store, { maxTraces: 100, maxSpans: 20 }, () => {}, { concurrency: 1 });
    assert.deepEqual(r, { traces: 3, spans: 21, truncated: true });
  });

  it('forEachLimited keeps at most `limit` calls in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const done: number[] = [];
    await forEachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      done.push(n);
    });
    assert.equal(peak, 3);
    assert.deepEqual(done.sort(), [1, 2, 3, 4, 5, 6, 7]);
    await forEachLimited([], 3, async () => assert.fail('no items'));
  });
});
