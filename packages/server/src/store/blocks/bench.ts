// Storage benchmark of the block store: write()/flush throughput, event-loop
// delay while ingesting, bytes per span after compaction, trace-by-id (cold
// and warm), search per filter, RED over everything, peak RSS. The figures in
// docs/design/storage.md come from:
//
//   node --expose-gc --max-old-space-size=8192 packages/server/dist/store/blocks/bench.js [--spans 1000000] [--json]
//     [--dataset jaeger|fixtures] [--page-rows 4096] [--codec brotli|deflate|none] [--level N]
//     [--compaction worker|inline|off] [--flush-in worker|inline] [--flush-spans N] [--ingest-spans N] [--dir DIR [--reuse]]
//
// `jaeger` is bench/dataset.ts (traces of 10 spans, 11 attributes, the shape
// of Jaeger's ClickHouse benchmark); `fixtures` is testing/fixtures.ts's
// workload, the one the DuckDB store's figures were measured on.

import { readFileSync } from 'node:fs';
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
  /** spans written in the timed ingest phase; default min(spans, 1M) */
  ingestSpans?: number;
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

export interface IngestFigures {
  /** spans written in the timed phase */
  ingestSpans: number;
  /** spans/s of the flush path: copy to the worker, sort, encode, compress, write, fsync, open (wall time of the flushes) */
  flushSpansPerSec: number;
  /** spans/s over the timed phase, from the first write to the end of flush(), as 1,000-span requests */
  ingestSpansPerSec: number;
  /** wall time inside write() per span, µs (validation and the head's dictionary work) */
  writeMicrosPerSpan: number;
  /** CPU time of the event-loop thread per span over the timed phase, µs (Linux only; 0 elsewhere) */
  mainThreadMicrosPerSpan: number;
  /** CPU time of the whole process (flush and compaction workers, GC threads) per span, µs */
  processCpuMicrosPerSpan: number;
  /** what a concurrent request would have waited for the event loop during the timed phase, ms */
  eventLoopDelayMs: { p99: number; max: number };
  /** the largest resident set sampled every 50 ms during the timed phase (the process: store, workers, the bench's pool) */
  ingestPeakRssBytes: number;
}

export interface BlockBenchResult extends IngestFigures {
  spans: number;
  dataset: string;
  bytesOnDisk: number;
  bytesPerSpan: number;
  /** bytes per span by column, largest first */
  bytesPerSpanByColumn: Record<string, number>;
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

/** CPU time of the calling thread (the main thread here), ms; 0 where /proc is missing. */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * (1000 / 100);
  } catch {
    return 0;
  }
}

/**
 * The timed phase, on a store of its own: requests of 1,000 spans as a
 * receiver would hand them over, fresh objects each time (a pool of 50,000
 * generated spans, shallow-copied with new trace, span and request ids), so
 * the heap holds what a server's would and GC costs what it would. The
 * store flushes and compacts in the background as it would under load.
 */
async function timedIngest(n: number, dataset: 'jaeger' | 'fixtures', storeOpts: Omit<BlockStoreOptions, 'dir'>, log: (m: string) => void): Promise<IngestFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'ariadne-blocks-ingest-'));
  const pool: Span[] = chunks(dataset, BigInt(Date.now()) * 1_000_000n - 3_600n * SECOND).next().value!;
  const store = await BlockStore.open({ dir, ...storeOpts });
  const hex8 = (v: number) => v.toString(16).padStart(8, '0');
  const request = (k: number): Span[] => {
    const round = Math.floor((k * 1000) / pool.length);
    const at = (k * 1000) % pool.length;
    const pre = hex8(round + 1);
    const shift = BigInt(round) * 25n * SECOND;
    return pool.slice(at, at + 1000).map((s) => ({
      ...s,
      traceId: pre + s.traceId.slice(8),
      spanId: pre + s.spanId.slice(8),
      parentSpanId: s.parentSpanId === '' ? '' : pre + s.parentSpanId.slice(8),
      startTimeUnixNano: s.startTimeUnixNano + shift,
      endTimeUnixNano: s.endTimeUnixNano + shift,
      attributes: s.attributes.map((kv) => (kv.key === 'request.id' && kv.value.stringValue ? { key: kv.key, value: { stringValue: pre + kv.value.stringValue.slice(8) } } : kv)),
    }));
  };
  try {
    (globalThis as { gc?: () => void }).gc?.();
    const delay = monitorEventLoopDelay({ resolution: 2 });
    delay.enable();
    let inWrite = 0;
    let peakRss = process.memoryUsage.rss();
    const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
    const cpu0 = process.cpuUsage();
    const main0 = mainThreadCpuMs();
    const t1 = performance.now();
    for (let k = 0; k * 1000 < n; k++) {
      const spans = request(k);
      const w0 = performance.now();
      await store.write(spans);
      inWrite += performance.now() - w0;
      await new Promise((r) => setImmediate(r)); // the next request arrives on a later turn
    }
    await store.flush();
    const ms = performance.now() - t1;
    const mainMs = mainThreadCpuMs() - main0;
    const cpu = process.cpuUsage(cpu0);
    clearInterval(rssTimer);
    delay.disable();
    const d = store.diagnostics();
    const figures: IngestFigures = {
      ingestSpans: n,
      flushSpansPerSec: Math.round(d.flushedSpans / (d.flushMillis / 1000)),
      ingestSpansPerSec: Math.round(n / (ms / 1000)),
      writeMicrosPerSpan: Math.round((inWrite * 1000 * 100) / n) / 100,
      mainThreadMicrosPerSpan: Math.round((mainMs * 1000 * 100) / n) / 100,
      processCpuMicrosPerSpan: Math.round(((cpu.user + cpu.system) * 100) / n) / 100,
      eventLoopDelayMs: { p99: Math.round(delay.percentile(99) / 1e4) / 100, max: Math.round(delay.max / 1e4) / 100 },
      ingestPeakRssBytes: peakRss,
    };
    log(`ingest: ${figures.ingestSpansPerSec} spans/s, write ${figures.writeMicrosPerSpan} µs/span, main thread ${figures.mainThreadMicrosPerSpan} µs/span, process ${figures.processCpuMicrosPerSpan} µs/span, flush ${figures.flushSpansPerSec} spans/s, event loop p99 ${figures.eventLoopDelayMs.p99} max ${figures.eventLoopDelayMs.max} ms`);
    return figures;
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
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
  let written = 0;
  let ingest: IngestFigures | undefined;
  let compactMs = 0;
  let store = await BlockStore.open({ dir, ...storeOpts });
  try {
    if (!opts.reuse) {
      ingest = await timedIngest(opts.ingestSpans ?? Math.min(total, 1_000_000), dataset, storeOpts, log);
      // The measured store: the whole dataset, as it would arrive, then compacted.
      const t0 = performance.now();
      while (written < total) {
        const slice = source.next().value!.slice(0, total - written);
        sample(slice);
        for (let i = 0; i < slice.length; i += 1000) await store.write(slice.slice(i, i + 1000));
        written += slice.length;
        if (written % 1_000_000 < 50_000) log(`written ${written} (${Math.round(written / ((performance.now() - t0) / 1000))} spans/s with generation)`);
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
      sampleIds.push(...store.sampleTraceIds(2000));
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
    // Warm the code (JIT) on other traces, then forget every cached page:
    // "cold" is the first read of a page by a running server.
    for (let i = 0; i < 50; i++) await store.getTrace(sampleIds[(Math.random() * sampleIds.length) | 0]!);
    await store.search({ service: dataset === 'jaeger' ? 'payment' : 'service-3' });
    store.dropCaches();
    let found = 0;
    const coldMs = latency(await timeEach(ids.length, async (i) => (found += (await store.getTrace(ids[i]!)).length)));
    const warmMs = latency(await timeEach(ids.length, (i) => store.getTrace(ids[i]!)));
    log(`trace by id: cold p50 ${coldMs.p50} p99 ${coldMs.p99}, warm p50 ${warmMs.p50} p99 ${warmMs.p99} ms (${found} spans)`);

    const newest = opts.reuse ? (await store.search({ limit: 1 }))[0]?.startTimeUnixNano : undefined;
    const end = newest ?? start + BigInt(Math.ceil(written / 2000)) * SECOND;
    const lastMinutes = { startUnixNano: end - 300n * SECOND, endUnixNano: end };
    const ms = (n: number) => (n * 1e6) as TraceQuery['minDurationNanos'] & number;
    const queries: Record<string, TraceQuery> =
      dataset === 'jaeger'
        ? {
            service: { service: 'payment' },
            'service+operation': { service: 'payment', operation: 'charge' },
            'attribute (common)': { attributes: [{ key: 'customer.tier', value: 'enterprise' }] },
            'attribute (rare)': { attributes: [{ key: 'user.id', value: 'user-4242' }] },
            'attribute (errors only)': { attributes: [{ key: 'http.status_code', value: '500' }] },
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
    store.dropCaches();
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
      ...(ingest ?? { ingestSpans: 0, flushSpansPerSec: 0, ingestSpansPerSec: 0, writeMicrosPerSpan: 0, mainThreadMicrosPerSpan: 0, processCpuMicrosPerSpan: 0, eventLoopDelayMs: { p99: 0, max: 0 }, ingestPeakRssBytes: 0 }),
      bytesOnDisk: stats.bytesOnDisk,
      bytesPerSpan: Math.round((stats.bytesOnDisk / written) * 10) / 10,
      bytesPerSpanByColumn: Object.fromEntries(
        Object.entries(store.columnBytes())
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => [k, Math.round((v / written) * 100) / 100]),
      ),
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
  if (arg('flush-in')) store.flushIn = arg('flush-in') as 'worker';
  const result = await runBlockBench({
    spans: Number(arg('spans') ?? 1_000_000),
    ...(arg('ingest-spans') ? { ingestSpans: Number(arg('ingest-spans')) } : {}),
    dataset: (arg('dataset') as 'jaeger' | 'fixtures' | undefined) ?? 'jaeger',
    store,
    dir: arg('dir'),
    reuse: process.argv.includes('--reuse'),
    log: json ? undefined : (m) => console.error(m),
  });
  console.log(json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
}
