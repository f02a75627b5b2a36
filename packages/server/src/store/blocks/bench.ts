// Storage benchmark of the block store: write()/flush throughput, event-loop
// delay while ingesting, bytes per span after compaction, trace-by-id (cold
// and warm), search per filter, RED over everything, peak RSS. The figures in
// docs/design/storage.md come from:
//
//   node --expose-gc --max-old-space-size=8192 packages/server/dist/store/blocks/bench.js [--spans 1000000] [--json]
//     [--dataset jaeger|fixtures] [--page-rows 4096] [--codec brotli|deflate|none] [--level N]
//     [--compaction worker|inline|off] [--dir DIR [--reuse]]
//
// `jaeger` is bench/dataset.ts (traces of 10 spans, 11 attributes, the shape
// of Jaeger's ClickHouse benchmark); `fixtures` is testing/fixtures.ts's
// workload, the one the DuckDB store's figures were measured on.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Span, TraceQuery } from '@ariadne/model';
import { generateTraces as jaegerTraces } from '../../bench/dataset.js';
import { generateTraces as fixtureTraces } from '../../testing/fixtures.js';
import { BlockStore } from './store.js';
import type { BlockStoreOptions } from './store.js';

export interface BlockBenchOptions {
  spans?: number;
  dataset?: 'jaeger' | 'fixtures';
  store?: Omit<BlockStoreOptions, 'dir'>;
  /** Data directory; a temporary one (deleted after) by default. */
  dir?: string;
  /** Measure reads on the data already in `dir` (written by an earlier run). */
  reuse?: boolean;
  log?: (msg: string) => void;
}

export interface Latency {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface BlockBenchResult {
  spans: number;
  dataset: string;
  /** spans/s of the flush path: sort, encode, compress, write, fsync (wall time of the flushes in the timed phase) */
  flushSpansPerSec: number;
  /** spans/s over the timed phase, from the first write to the end of flush(), as 1,000-span requests */
  ingestSpansPerSec: number;
  /** main-thread time inside write() per span, µs (the head's dictionary work) */
  writeMicrosPerSpan: number;
  /** what a concurrent request would have waited for the event loop during the timed phase, ms */
  eventLoopDelayMs: { p99: number; max: number };
  bytesOnDisk: number;
  bytesPerSpan: number;
  blocks: number;
  compactMs: number;
  reopenMs: number;
  traceById: { coldMs: Latency; warmMs: Latency };
  search: Record<string, Latency & { coldMs: number }>;
  /** RED over the whole time range, grouped by operation: from block aggregates, and exact (every row) */
  redMs: number;
  redExactMs: number;
  peakRssBytes: number;
}

function latency(samples: number[]): Latency {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => Math.round(s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]! * 100) / 100;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) };
}

const SECOND = 1_000_000_000n;

/** Time-ordered chunks of the dataset, as they would arrive. */
function* chunks(dataset: 'jaeger' | 'fixtures', start: bigint): Generator<Span[]> {
  if (dataset === 'fixtures') {
    const traces = fixtureTraces(Number.MAX_SAFE_INTEGER, { seed: 11, start });
    for (;;) {
      const out: Span[] = [];
      while (out.length < 50_000) out.push(...(traces.next().value as Span[]));
      yield out;
    }
  }
  // 5,000 traces (50,000 spans) per 25 s of simulated time: 2,000 spans/s
  for (let k = 0; ; k++) yield jaegerTraces(1000 + k, 5000, start + BigInt(k) * 25n * SECOND, 25n * SECOND);
}

export async function runBlockBench(opts: BlockBenchOptions = {}): Promise<BlockBenchResult> {
  const total = opts.spans ?? 1_000_000;
  const dataset = opts.dataset ?? 'jaeger';
  const log = opts.log ?? (() => {});
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'ariadne-blocks-bench-')));
  const start = BigInt(Date.now()) * 1_000_000n - 86_400n * SECOND;
  const storeOpts = { compaction: 'worker' as const, ...opts.store };
  const source = chunks(dataset, start);
  const sampleIds: string[] = [];
  let sampled = 0;
  const sample = (spans: Span[]) => {
    // reservoir sample of trace ids, so lookups hit every block
    let last = '';
    for (const s of spans) {
      if (s.traceId === last) continue;
      last = s.traceId;
      sampled++;
      if (sampleIds.length < 2000) sampleIds.push(s.traceId);
      else if (Math.random() * sampled < 2000) sampleIds[(Math.random() * 2000) | 0] = s.traceId;
    }
  };
  let store = await BlockStore.open({ dir, ...storeOpts });
  let written = 0;
  let flushSpansPerSec = 0;
  let ingestSpansPerSec = 0;
  let writeMicrosPerSpan = 0;
  let eventLoopDelayMs = { p99: 0, max: 0 };
  let compactMs = 0;
  try {
    if (!opts.reuse) {
      // Phase 1, timed: up to 500k spans generated first (the generator's own
      // work and garbage stay out of the figures), written as 1,000-span
      // requests on separate event-loop turns while the store flushes and
      // compacts in the background as it would under load.
      const phase1: Span[] = [];
      while (phase1.length < Math.min(total, 500_000)) phase1.push(...source.next().value!);
      phase1.length = Math.min(total, phase1.length);
      sample(phase1);
      (globalThis as { gc?: () => void }).gc?.();
      const delay = monitorEventLoopDelay({ resolution: 2 });
      const before = store.diagnostics();
      delay.enable();
      let inWrite = 0;
      const t1 = performance.now();
      for (let i = 0; i < phase1.length; i += 1000) {
        const w0 = performance.now();
        await store.write(phase1.slice(i, i + 1000));
        inWrite += performance.now() - w0;
        await new Promise((r) => setImmediate(r)); // the next request arrives on a later turn
      }
      await store.flush();
      const ingestMs = performance.now() - t1;
      delay.disable();
      const after = store.diagnostics();
      flushSpansPerSec = Math.round((after.flushedSpans - before.flushedSpans) / ((after.flushMillis - before.flushMillis) / 1000));
      ingestSpansPerSec = Math.round(phase1.length / (ingestMs / 1000));
      writeMicrosPerSpan = Math.round((inWrite * 1000 * 100) / phase1.length) / 100;
      eventLoopDelayMs = { p99: Math.round(delay.percentile(99) / 1e4) / 100, max: Math.round(delay.max / 1e4) / 100 };
      written = phase1.length;
      phase1.length = 0;
      log(`phase 1: ${written} spans, ${ingestSpansPerSec} spans/s, flush ${flushSpansPerSec} spans/s, event loop p99 ${eventLoopDelayMs.p99} ms`);

      // Phase 2, untimed: fill up to the requested size.
      while (written < total) {
        const slice = source.next().value!.slice(0, total - written);
        sample(slice);
        for (let i = 0; i < slice.length; i += 1000) await store.write(slice.slice(i, i + 1000));
        written += slice.length;
        if (written % 1_000_000 < 50_000) log(`written ${written}`);
      }
      await store.flush();
      const c0 = performance.now();
      await store.compact();
      compactMs = Math.round(performance.now() - c0);
      log(`compacted in ${compactMs} ms: ${store.diagnostics().blocks} blocks`);
    }
    // Reopen (cold caches), then read.
    const r0 = performance.now();
    await store.close();
    store = await BlockStore.open({ dir, ...storeOpts, compaction: 'off' });
    const reopenMs = Math.round(performance.now() - r0);
    const stats = await store.stats();
    if (opts.reuse) {
      written = stats.spans;
      // ids to look up: from the stored blocks
      for (const s of await store.search({ limit: 2000 })) sampleIds.push(s.traceId);
    }
    const ids = Array.from({ length: 300 }, () => sampleIds[(Math.random() * sampleIds.length) | 0]!);
    const timeEach = async (n: number, fn: (i: number) => Promise<unknown>) => {
      const samples: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await fn(i);
        samples.push(performance.now() - t);
      }
      return samples;
    };
    let found = 0;
    const coldMs = latency(await timeEach(ids.length, async (i) => (found += (await store.getTrace(ids[i]!)).length)));
    const warmMs = latency(await timeEach(ids.length, (i) => store.getTrace(ids[i]!)));
    log(`trace by id: cold p50 ${coldMs.p50} p99 ${coldMs.p99}, warm p50 ${warmMs.p50} p99 ${warmMs.p99} ms (${found} spans)`);

    const end = start + BigInt(Math.ceil(written / 2000)) * SECOND;
    const lastMinutes = { startUnixNano: end - 300n * SECOND, endUnixNano: end };
    const ms = (n: number) => (n * 1e6) as TraceQuery['minDurationNanos'] & number;
    const queries: Record<string, TraceQuery> =
      dataset === 'jaeger'
        ? {
            service: { service: 'payment' },
            'service+operation': { service: 'payment', operation: 'charge' },
            'attribute (common)': { attributes: [{ key: 'customer.tier', value: 'enterprise' }] },
            'attribute (rare)': { attributes: [{ key: 'user.id', value: 'user-4242' }] },
            'attribute (unique value)': { attributes: [{ key: 'http.status_code', value: '500' }] },
            'resource attribute': { attributes: [{ key: 'host.name', value: 'node-1' }] },
            'duration range': { minDurationNanos: ms(100), maxDurationNanos: ms(200) },
            'status=error': { status: 'error' },
            'service+attribute': { service: 'cart', attributes: [{ key: 'http.method', value: 'DELETE' }] },
            'service, last 5 min': { service: 'inventory', ...lastMinutes },
          }
        : {
            service: { service: 'service-3' },
            'service+operation': { service: 'service-3', operation: 'GET /api/cart' },
            'service+minDuration': { service: 'service-3', minDurationNanos: ms(300) },
            'status=error': { status: 'error' },
            'attribute (common)': { attributes: [{ key: 'http.status_code', value: '500' }] },
            'attribute (rare)': { attributes: [{ key: 'user.id', value: 'u-4242' }] },
            'resource attribute': { attributes: [{ key: 'host.name', value: 'node-3' }] },
            'service+attribute': { service: 'service-5', attributes: [{ key: 'http.method', value: 'DELETE' }] },
            'duration range': { minDurationNanos: ms(100), maxDurationNanos: ms(200) },
            'last 5 minutes': lastMinutes,
          };
    const search: Record<string, Latency & { coldMs: number }> = {};
    for (const [name, q] of Object.entries(queries)) {
      const samples = await timeEach(21, () => store.search(q));
      search[name] = { ...latency(samples.slice(1)), coldMs: Math.round(samples[0]! * 100) / 100 };
      log(`search ${name}: cold ${search[name]!.coldMs}, p50 ${search[name]!.p50}, p95 ${search[name]!.p95} ms`);
    }
    const redRuns = await timeEach(5, () => store.red({ groupBy: 'operation' }));
    const redExact = await timeEach(3, () => store.red({ groupBy: 'operation', exact: true }));
    const redMs = Math.round(latency(redRuns).p50 * 10) / 10;
    const redExactMs = Math.round(latency(redExact).p50);
    log(`RED over everything: ${redMs} ms from block aggregates (first ${Math.round(redRuns[0]!)}), ${redExactMs} ms exact (first ${Math.round(redExact[0]!)})`);
    return {
      spans: written,
      dataset,
      flushSpansPerSec,
      ingestSpansPerSec,
      writeMicrosPerSpan,
      eventLoopDelayMs,
      bytesOnDisk: stats.bytesOnDisk,
      bytesPerSpan: Math.round((stats.bytesOnDisk / written) * 10) / 10,
      blocks: store.diagnostics().blocks,
      compactMs,
      reopenMs,
      traceById: { coldMs, warmMs },
      search,
      redMs,
      redExactMs,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
  } finally {
    await store.close();
    if (!opts.dir) await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const json = process.argv.includes('--json');
  const store: Omit<BlockStoreOptions, 'dir'> = {};
  if (arg('page-rows')) store.pageRows = Number(arg('page-rows'));
  if (arg('codec')) store.compression = { codec: arg('codec') as 'brotli', ...(arg('level') ? { level: Number(arg('level')) } : {}) };
  if (arg('compaction')) store.compaction = arg('compaction') as 'worker';
  if (arg('flush-spans')) store.flushSpans = Number(arg('flush-spans'));
  const result = await runBlockBench({
    spans: Number(arg('spans') ?? 1_000_000),
    dataset: (arg('dataset') as 'jaeger' | 'fixtures' | undefined) ?? 'jaeger',
    store,
    dir: arg('dir'),
    reuse: process.argv.includes('--reuse'),
    log: json ? undefined : (m) => console.error(m),
  });
  console.log(json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
}
