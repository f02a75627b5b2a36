import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Span } from '@ariadne/model';
import { redMetrics } from '@ariadne/model';
import { SECOND, assertSameSpans, attrs, makeSpan, makeTrace, nowNanos, randomTraceId } from '../../testing/fixtures.js';
import { generateTraces } from '../../bench/dataset.js';
import { BlockStore } from './store.js';
import type { BlockStoreOptions } from './store.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ariadne-blockstore-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const open = (dir: string, o: Omit<BlockStoreOptions, 'dir'> = {}) => BlockStore.open({ dir, compaction: 'off', ...o });
const blockFiles = async (dir: string) => (await readdir(dir)).filter((f) => f.endsWith('.blk')).sort();

describe('BlockStore', () => {
  it('refuses a batch holding an invalid span, and keeps none of it', () =>
    withDir(async (dir) => {
      const store = await open(dir);
      const good = makeSpan({ service: 'valid' });
      const bad: Span[] = [
        makeSpan({ traceId: 'ABC' }),
        makeSpan({ traceId: '0'.repeat(32) }),
        makeSpan({ spanId: '0000000000000000' }),
        makeSpan({ parentSpanId: 'xyz' }),
        makeSpan({ flags: -1 }),
        makeSpan({ kind: 256 as Span['kind'] }),
        makeSpan({ droppedAttributesCount: 2 ** 32 }),
        makeSpan({ droppedEventsCount: 0.5 }),
        makeSpan({ startTimeUnixNano: -1n }),
        makeSpan({ endTimeUnixNano: 2n ** 64n }),
      ];
      for (const b of bad) await assert.rejects(store.write([good, b]), TypeError);
      assert.deepStrictEqual(await store.getTrace(good.traceId), []);
      assert.deepStrictEqual(await store.services(), []);
      await store.close();
    }));

  it('rejects calls after close, and close twice is fine', () =>
    withDir(async (dir) => {
      const store = await open(dir);
      await store.write(makeTrace());
      await store.close();
      await store.close();
      await assert.rejects(store.write(makeTrace()), /closed/);
      await assert.rejects(store.getTrace(randomTraceId()), /closed/);
      await assert.rejects(store.search({}), /closed/);
    }));

  it('deletes a temp file a crash left, and keeps every flushed block across reopening', () =>
    withDir(async (dir) => {
      let store = await open(dir);
      const traces = Array.from({ length: 5 }, () => makeTrace());
      for (const t of traces) {
        await store.write(t);
        await store.flush();
      }
      await store.close();
      await writeFile(join(dir, '000000000099-0.blk.tmp'), 'half a block');
      store = await open(dir);
      assert.ok(!(await readdir(dir)).some((f) => f.endsWith('.tmp')));
      for (const t of traces) assertSameSpans(await store.getTrace(t[0]!.traceId), t);
      assert.equal((await store.stats()).spans, traces.flat().length);
      await store.close();
    }));

  it('abandons a compaction under way on close: nothing lost or doubled after reopening', () =>
    withDir(async (dir) => {
      const store = await BlockStore.open({ dir, flushSpans: 20_000, compaction: 'worker', compactMinBlocks: 2, compactSpans: 1 << 20 });
      const all: Span[] = [];
      for (let i = 0; i < 4; i++) {
        const batch = generateTraces(900 + i, 2000, 1_700_000_000_000_000_000n);
        all.push(...batch);
        await store.write(batch);
        await store.flush(); // each flush installs a small block and schedules a compaction
      }
      await store.close(); // a compaction of 80k spans is (almost surely) running now
      const again = await BlockStore.open({ dir, compaction: 'off' });
      try {
        assert.equal((await again.stats()).spans, all.length);
        for (const id of [all[0]!.traceId, all[30_000]!.traceId, all.at(-1)!.traceId]) {
          assertSameSpans(await again.getTrace(id), all.filter((s) => s.traceId === id));
        }
      } finally {
        await again.close();
      }
    }));

  it('leaves unflushed spans to the WAL when told not to flush on close', () =>
    withDir(async (dir) => {
      let store = await open(dir, { flushOnClose: false });
      const kept = makeTrace();
      await store.write(kept);
      await store.flush();
      const dropped = makeTrace();
      await store.write(dropped);
      await store.close();
      store = await open(dir);
      assertSameSpans(await store.getTrace(kept[0]!.traceId), kept);
      assert.deepStrictEqual(await store.getTrace(dropped[0]!.traceId), []);
      await store.close();
    }));

  it('keeps the spans of a failed flush readable and writes them with the next one', () =>
    withDir(async (dir) => {
      const store = await open(dir, { log: () => {} });
      const first = makeTrace({ services: ['retry'] });
      await store.write(first);
      const worker = (store as unknown as { flushWorker: { run: (job: unknown) => Promise<string[]> } }).flushWorker;
      const run = worker.run.bind(worker);
      worker.run = async () => {
        throw new Error('disk full (simulated)');
      };
      await assert.rejects(store.flush(), /disk full/);
      const second = makeTrace({ services: ['retry'] });
      await store.write(second);
      assertSameSpans(await store.getTrace(first[0]!.traceId), first);
      assert.equal((await store.search({ service: 'retry' })).length, 2);
      worker.run = run;
      await store.flush();
      assert.equal((await blockFiles(dir)).length, 2, 'the failed head, then the newer one');
      await store.close();
      const reopened = await open(dir);
      assertSameSpans(await reopened.getTrace(first[0]!.traceId), first);
      assertSameSpans(await reopened.getTrace(second[0]!.traceId), second);
      await reopened.close();
    }));

  for (const compaction of ['inline', 'worker'] as const) {
    it(`compacts small blocks into one, each span once, and repairs a compaction a crash cut short (${compaction})`, () =>
      withDir(async (dir) => {
        let store = await open(dir, { compaction, compactMinBlocks: 1000 });
        const traces = Array.from({ length: 12 }, (_, i) => makeTrace({ services: [`c-${i % 3}`, 'c-db'], depth: 2, fanout: 2 }));
        for (const [i, t] of traces.entries()) {
          // every trace split over two blocks, and a re-sent span in a third
          await store.write(t.slice(0, 3));
          await store.flush();
          await store.write([...t.slice(3), t[0]!]);
          await store.flush();
          if (i % 4 === 3) await store.write([t[1]!]);
        }
        await store.flush();
        const before = await blockFiles(dir);
        assert.ok(before.length >= 24);
        const saved = join(dir, 'saved');
        await copyFile(join(dir, before[0]!), saved);
        await store.compact();
        const after = await blockFiles(dir);
        assert.equal(after.length, 1);
        assert.ok(after[0]!.endsWith('-1.blk'));
        assert.equal((await store.stats()).spans, traces.flat().length, 'duplicates dropped');
        for (const t of traces) assertSameSpans(await store.getTrace(t[0]!.traceId), t);
        const summaries = await store.search({ service: 'c-db', limit: 100 });
        assert.equal(summaries.length, 12);
        assert.ok(summaries.every((s) => s.spanCount === 7));
        await store.close();
        // a crash after the output was written but before a source was deleted
        await copyFile(saved, join(dir, before[0]!));
        await rm(saved);
        store = await open(dir, { compaction });
        assert.deepStrictEqual(await blockFiles(dir), after);
        assert.equal((await store.stats()).spans, traces.flat().length);
        await store.close();
      }));
  }

  it('hides expired spans through retention marks that survive reopening, deletes wholly expired blocks, and rewrites mostly expired ones', () =>
    withDir(async (dir) => {
      let store = await open(dir);
      const now = nowNanos();
      const old = makeTrace({ services: ['ret-old'], start: now - 30n * 86_400n * SECOND });
      await store.write(old);
      await store.flush(); // a block of old spans only
      const spans: Span[] = [];
      for (let i = 0; i < 40; i++) spans.push(...makeTrace({ services: ['ret-mixed'], depth: 0, start: now - BigInt(40 - i) * 3600n * SECOND }));
      await store.write(spans);
      await store.flush(); // a block straddling the cutoff
      assert.equal((await blockFiles(dir)).length, 2);
      const cutoff = now - 10n * 3600n * SECOND;
      const expired = spans.filter((s) => s.startTimeUnixNano < cutoff).length;
      assert.equal(await store.deleteBefore(cutoff), old.length + expired);
      assert.equal((await blockFiles(dir)).length, 1, 'the wholly expired block is gone');
      assert.ok((await readdir(dir)).some((f) => f.endsWith('.del')));
      assert.equal((await store.stats()).spans, spans.length - expired);
      assert.equal(await store.deleteBefore(cutoff), 0);
      await store.close();
      store = await open(dir);
      assert.equal((await store.stats()).spans, spans.length - expired);
      assert.deepStrictEqual(await store.getTrace(spans[0]!.traceId), []);
      assertSameSpans(await store.getTrace(spans.at(-1)!.traceId), [spans.at(-1)!]);
      assert.equal((await store.search({ service: 'ret-mixed', limit: 100 })).length, spans.length - expired);
      assert.deepStrictEqual(await store.services(), ['ret-mixed']);
      // three quarters hidden: compaction rewrites the block without them
      await store.compact();
      const files = await readdir(dir);
      assert.ok(!files.some((f) => f.endsWith('.del')), 'the rewritten block needs no mark');
      assert.equal((await store.stats()).spans, spans.length - expired);
      assert.ok((await store.stats()).bytesOnDisk > 0);
      await store.close();
    }));

  it('reads any trace of a block in any order, twice, field by field (cursor marks inside pages)', () =>
    withDir(async (dir) => {
      // 1,500 traces of 10 spans: pages of 4,096 rows, marks every 256 rows, rows of varied length
      const spans = generateTraces(7, 1500, nowNanos() - 3_600n * SECOND);
      const store = await open(dir);
      await store.write(spans);
      await store.flush();
      const byTrace = new Map<string, Span[]>();
      for (const s of spans) byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s]);
      const ids = [...byTrace.keys()];
      let seed = 1;
      const shuffled = () => [...ids].sort(() => ((seed = (seed * 16807) % 2147483647) & 1 ? 1 : -1));
      for (const round of [1, 2]) {
        for (const id of shuffled()) assertSameSpans(await store.getTrace(id), byTrace.get(id)!, `round ${round}, trace ${id}`);
      }
      await store.close();
    }));

  it('searches high-cardinality values held plainly, in the head and in blocks', () =>
    withDir(async (dir) => {
      const store = await open(dir);
      const start = nowNanos() - 600n * SECOND;
      const spans = Array.from({ length: 6000 }, (_, i) =>
        makeSpan({ startTimeUnixNano: start + BigInt(i) * 1000n, attributes: attrs({ 'request.id': (i * 2654435761).toString(16).padStart(16, '0'), 'size': { doubleValue: i / 8 }, 'n': i }) }),
      );
      await store.write(spans);
      const probe = async () => {
        for (const i of [5, 2500, 5999]) {
          const want = [spans[i]!.traceId];
          assert.deepStrictEqual((await store.search({ attributes: [{ key: 'request.id', value: (i * 2654435761).toString(16).padStart(16, '0') }] })).map((s) => s.traceId), want);
          assert.deepStrictEqual((await store.search({ attributes: [{ key: 'size', value: String(i / 8) }] })).map((s) => s.traceId), want);
          assert.deepStrictEqual((await store.search({ attributes: [{ key: 'n', value: String(i) }] })).map((s) => s.traceId), want);
        }
      };
      await probe();
      await store.flush();
      await probe();
      await store.close();
    }));

  it('computes RED metrics from block aggregates within 0.4% of exact, and exactly when asked', () =>
    withDir(async (dir) => {
      const store = await open(dir, { flushSpans: 3000 });
      const start = BigInt(Date.now()) * 1_000_000n - 3_600_000_000_000n;
      const spans = generateTraces(7, 1000, start, 600_000_000_000n);
      for (let i = 0; i < spans.length; i += 1000) await store.write(spans.slice(i, i + 1000));
      await store.flush();
      await store.write(generateTraces(8, 20, start, 600_000_000_000n)); // some in the head
      const all = [...spans, ...generateTraces(8, 20, start, 600_000_000_000n)];
      const windowNanos = 1_200_000_000_000;
      const q = { startUnixNano: start - 300_000_000_000n, endUnixNano: start + 900_000_000_000n };
      for (const groupBy of ['service', 'operation'] as const) {
        const want = redMetrics(all, { groupBy, windowNanos });
        const exact = await store.red({ groupBy, ...q, exact: true });
        assert.deepStrictEqual(exact, want);
        const sketch = await store.red({ groupBy, ...q });
        assert.equal(sketch.length, want.length);
        for (const [i, w] of want.entries()) {
          const g = sketch[i]!;
          assert.deepStrictEqual([g.service, g.operation, g.count, g.errorCount, g.avgNanos], [w.service, w.operation, w.count, w.errorCount, w.avgNanos]);
          for (const k of ['p50Nanos', 'p95Nanos', 'p99Nanos'] as const) assert.ok(Math.abs(g[k] - w[k]) <= w[k] / 256 + 1, `${k} ${g[k]} vs ${w[k]}`);
        }
      }
      // a window that cuts blocks reads their rows; filters apply
      const mid = { startUnixNano: start + 200_000_000_000n, endUnixNano: start + 400_000_000_000n };
      const inMid = all.filter((s) => s.startTimeUnixNano >= mid.startUnixNano && s.startTimeUnixNano <= mid.endUnixNano && s.service === 'payment' && s.kind === 2);
      const got = await store.red({ groupBy: 'operation', service: 'payment', kinds: [2], ...mid, exact: true });
      assert.deepStrictEqual(got, redMetrics(inMid, { groupBy: 'operation', windowNanos: 200_000_000_000 }));
      await store.close();
    }));
});
