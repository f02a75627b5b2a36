// The checkpoint must not truncate a WAL record whose spans the store has not
// taken yet: encoded bodies go to the store and the WAL at once.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Span } from '@ariadne/model';
import { createMetrics } from '../metrics.js';
import { encodeTraceRequestProto } from '../receive/otlp/encode.js';
import { makeSpan } from '../testing/fixtures.js';
import type { TraceStore } from '../store/types.js';
import { Wal } from '../wal/index.js';
import { Ingester, WalFormat } from './ingest.js';

/** A store whose encoded writes wait for `release()`; it records what it took and when it was flushed. */
function gatedStore() {
  const taken: number[] = [];
  const gates: (() => void)[] = [];
  let flushes = 0;
  const store = {
    async writeEncoded(bytes: Uint8Array): Promise<{ spans: number }> {
      await new Promise<void>((resolve) => gates.push(resolve));
      taken.push(bytes.length);
      return { spans: 1 };
    },
    async write(_spans: readonly Span[]) {},
    async flush() {
      flushes++;
    },
    async stats() {
      return { spans: taken.length, bytesOnDisk: 0 };
    },
  } as unknown as TraceStore;
  return { store, taken, releaseAll: () => gates.splice(0).forEach((g) => g()), flushes: () => flushes };
}

describe('Ingester.checkpoint with a store that tracks durableLsn', () => {
  it('truncates up to what the store has in its files without forcing a flush, and flushes when untagged records are past it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ariadne-ingest-'));
    try {
      const wal = await Wal.open({ dir, segmentBytes: 64 });
      let durable = 0n;
      let flushes = 0;
      const store = {
        async writeEncoded() {
          return { spans: 1 };
        },
        async write() {},
        async flush() {
          flushes++;
          durable = wal.stats().lastLsn;
        },
        async durableLsn() {
          return durable;
        },
        async stats() {
          return { spans: 0, bytesOnDisk: 0 };
        },
      } as unknown as TraceStore;
      const ingester = new Ingester(wal, store, createMetrics(), { maxInflightBytes: 1 << 30, checkpointIntervalMs: 3_600_000 });
      await ingester.start();
      const body = encodeTraceRequestProto([makeSpan()]);
      for (let i = 0; i < 4; i++) assert.deepStrictEqual(await ingester.ingestEncoded('test', WalFormat.OTLP_PROTO, body, 1), { ok: true, accepted: 1 });
      const lsns = async () => {
        const out: bigint[] = [];
        await wal.replay((_p, lsn) => void out.push(lsn));
        return out;
      };
      durable = 2n; // the store flushed a head holding records 1 and 2 by itself
      await ingester.checkpoint();
      assert.equal(flushes, 0, 'no forced flush');
      assert.deepStrictEqual(await lsns(), [3n, 4n]);
      // a record that went to the store untagged (spans given as objects): past what the store reports
      assert.deepStrictEqual(await ingester.ingest('test', [makeSpan()], Uint8Array.of(9)), { ok: true, accepted: 1 });
      await ingester.ingestEncoded('test', WalFormat.OTLP_PROTO, body, 1);
      await ingester.checkpoint();
      assert.equal(flushes, 1, 'forced, as for a store without durableLsn');
      assert.deepStrictEqual(await lsns(), [6n], 'all but the segment being written');
      await ingester.close();
      await wal.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Ingester.ingestEncoded', () => {
  it('keeps in the WAL every record the store has not taken when a checkpoint runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ariadne-ingest-'));
    try {
      // tiny segments: every record rotates, so a truncation would drop it
      const wal = await Wal.open({ dir, segmentBytes: 64 });
      const { store, releaseAll, flushes } = gatedStore();
      const ingester = new Ingester(wal, store, createMetrics(), { maxInflightBytes: 1 << 30, checkpointIntervalMs: 3_600_000 });
      await ingester.start();
      const body = (n: string) => encodeTraceRequestProto([makeSpan({ name: n })]);
      const first = ingester.ingestEncoded('test', WalFormat.OTLP_PROTO, body('first'), 1);
      releaseAll();
      await new Promise((r) => setTimeout(r, 20));
      releaseAll();
      assert.deepStrictEqual(await first, { ok: true, accepted: 1 });
      // two more the WAL has durable and the store has not taken yet; the second
      // closes the first's segment, so only the cut can keep that one
      const second = ingester.ingestEncoded('test', WalFormat.OTLP_PROTO, body('second'), 1);
      const third = ingester.ingestEncoded('test', WalFormat.OTLP_PROTO, body('third'), 1);
      while (wal.stats().lastLsn < 3n) await new Promise((r) => setTimeout(r, 5));
      await ingester.checkpoint();
      assert.equal(flushes(), 1);
      const kept: bigint[] = [];
      await wal.replay((_p, lsn) => void kept.push(lsn));
      assert.deepStrictEqual(kept, [2n, 3n], 'the first record went with the checkpoint, the others stay');
      releaseAll();
      assert.deepStrictEqual(await second, { ok: true, accepted: 1 });
      assert.deepStrictEqual(await third, { ok: true, accepted: 1 });
      const fourth = ingester.ingestEncoded('test', WalFormat.OTLP_PROTO, body('fourth'), 1);
      while (wal.stats().lastLsn < 4n) await new Promise((r) => setTimeout(r, 5));
      releaseAll();
      assert.deepStrictEqual(await fourth, { ok: true, accepted: 1 });
      await ingester.checkpoint();
      const after: bigint[] = [];
      await wal.replay((_p, lsn) => void after.push(lsn));
      assert.deepStrictEqual(after, [4n], 'once the store has them, the next checkpoint drops them');
      await ingester.close();
      await wal.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
