// Storage benchmark of the embedded store: flush throughput, bytes per span,
// trace-by-id and search latency on seeded, realistic generated traffic.
// The figures in docs/design/storage.md come from:
//
//   node --expose-gc --max-old-space-size=6144 packages/server/dist/store/embedded/bench.js [--spans 1000000] [--loader appender|csv] [--json]
//
// With `--dir D` the database is kept; `--dir D --reuse` measures the reads
// again on it (after a code change) without ingesting.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Span, TraceQuery } from '@ariadne/model';
import { generateTraces } from '../../testing/fixtures.js';
import type { Loader } from './loaders.js';
import { EmbeddedStore } from './store.js';

export interface StorageBenchOptions {
  spans?: number;
  loader?: Loader;
  /** Database directory; a temporary one (deleted after) by default. */
  dir?: string;
  /** Only measure reads on the database a previous run left in `dir`. */
  reuse?: boolean;
  log?: (msg: string) => void;
}

export interface Latency {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface StorageBenchResult {
  spans: number;
  loader: Loader;
  /** rows/s of the flush path (sort, encode, load, commit: wall time of the flushes in the timed phase) */
  flushRowsPerSec: number;
  /** spans/s over the first 200k spans, from first write to the end of flush(), as 1,000-span requests */
  ingestSpansPerSec: number;
  /** event-loop delay while ingesting, ms: what a concurrent HTTP request would wait */
  eventLoopDelayMs: { p99: number; max: number };
  bytesOnDisk: number;
  bytesPerSpan: number;
  /** the database file's 256 KiB blocks: used, and free (left by checkpoints rewriting the last row group, reused as it grows) */
  blocks: { used: number; free: number };
  /** bytes per span in used blocks only */
  usedBytesPerSpan: number;
  getTraceMs: Latency;
  searchMs: Record<string, Latency>;
  reopenMs: number;
}

function latency(samples: number[]): Latency {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 100) / 100;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) };
}

async function time(n: number, fn: (i: number) => Promise<unknown>): Promise<Latency> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    samples.push(performance.now() - t);
  }
  return latency(samples);
}

interface IngestFigures {
  start: bigint;
  written: number;
  sampleIds: string[];
  flushRowsPerSec: number;
  ingestSpansPerSec: number;
  eventLoopDelayMs: { p99: number; max: number };
}

async function ingestPhase(store: EmbeddedStore, total: number, log: (msg: string) => void): Promise<IngestFigures> {
  const start = BigInt(Date.now()) * 1_000_000n - 3_600n * 1_000_000_000n;
  // 200 traces/s of simulated time: 1M spans cover about 5.5 minutes.
  const traces = generateTraces(Number.MAX_SAFE_INTEGER, { seed: 11, start });
  const sampleIds: string[] = [];
  // Phase 1, timed: 200k spans generated up front (so the generator's own
  // work and garbage stay out of the figures), written as 1,000-span
  // requests on separate event-loop turns while the store flushes in the
  // background as it would under load.
  const phase1: Span[] = [];
  const take = (into: Span[], n: number) => {
    while (into.length < n) {
      const t = traces.next().value as Span[];
      if (sampleIds.length < 2000 && Math.random() < 0.05) sampleIds.push(t[0]!.traceId);
      into.push(...t);
    }
  };
  take(phase1, Math.min(total, 200_000));
  (globalThis as { gc?: () => void }).gc?.();
  const delay = monitorEventLoopDelay({ resolution: 5 });
  const before = store.diagnostics();
  delay.enable();
  const t1 = performance.now();
  for (let i = 0; i < phase1.length; i += 1000) {
    await store.write(phase1.slice(i, i + 1000));
    await new Promise((r) => setImmediate(r)); // the next request arrives on a later turn
  }
  await store.flush();
  const ingestMs = performance.now() - t1;
  delay.disable();
  const phase1Flushes = store.diagnostics();
  const flushRowsPerSec = Math.round((phase1Flushes.loadedSpans - before.loadedSpans) / ((phase1Flushes.loadMillis - before.loadMillis) / 1000));
  let written = phase1.length;
  phase1.length = 0;
  log(`phase 1: ${written} spans in ${Math.round(ingestMs)} ms`);

  // Phase 2, untimed: fill up to the requested size (the flush counters still count).
  while (written < total) {
    const slice: Span[] = [];
    take(slice, Math.min(50_000, total - written));
    for (let i = 0; i < slice.length; i += 1000) await store.write(slice.slice(i, i + 1000));
    written += slice.length;
    if (written % 200_000 < 50_000) log(`written ${written}`);
  }
  await store.flush();
  const d = store.diagnostics();
  log(`ingest done: ${d.flushes} flushes, ${d.csvFallbacks} CSV fallbacks`);
  return {
    start,
    written,
    sampleIds,
    flushRowsPerSec,
    ingestSpansPerSec: Math.round(Math.min(total, 200_000) / (ingestMs / 1000)),
    eventLoopDelayMs: { p99: Math.round(delay.percentile(99) / 1e4) / 100, max: Math.round(delay.max / 1e4) / 100 },
  };
}

export async function runStorageBench(opts: StorageBenchOptions = {}): Promise<StorageBenchResult> {
  const loader = opts.loader ?? 'appender';
  const log = opts.log ?? (() => {});
  if (opts.reuse && !opts.dir) throw new Error('reuse needs dir');
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'ariadne-storage-bench-')));
  const metaFile = join(dir, 'bench.json');
  let store = await EmbeddedStore.open({ dir, loader });
  try {
    // Reused: the ingest figures are those of the run that built the database.
    const ingest = opts.reuse
      ? (JSON.parse(await readFile(metaFile, 'utf8'), (k, v) => (k === 'start' ? BigInt(v) : v)) as IngestFigures)
      : await ingestPhase(store, opts.spans ?? 1_000_000, log);
    if (!opts.reuse) await writeFile(metaFile, JSON.stringify(ingest, (_, v) => (typeof v === 'bigint' ? v.toString() : v)));
    const { start, written, sampleIds } = ingest;
    const stats = await store.stats();

    // Reopen (cold caches), then read.
    const r0 = performance.now();
    await store.close();
    store = await EmbeddedStore.open({ dir, loader });
    const reopenMs = performance.now() - r0;
    const blocks = await store.blockCounts();

    const getTraceMs = await time(400, (i) => store.getTrace(sampleIds[i % sampleIds.length]!));
    // The workload's traces average 15 spans, 200 a second: the data's last second.
    const end = start + BigInt(Math.ceil(written / 15 / 200)) * 1_000_000_000n;
    const queries: Record<string, TraceQuery> = {
      'service': { service: 'service-3' },
      'service+operation': { service: 'service-3', operation: 'GET /api/cart' },
      'service+minDuration': { service: 'service-3', minDurationNanos: 300_000_000 as TraceQuery['minDurationNanos'] },
      'status=error': { status: 'error' },
      'attribute (common)': { attributes: [{ key: 'http.status_code', value: '500' }] },
      'attribute (rare)': { attributes: [{ key: 'user.id', value: 'u-4242' }] },
      'resource attribute': { attributes: [{ key: 'host.name', value: 'node-3' }] },
      'service+attribute': { service: 'service-5', attributes: [{ key: 'http.method', value: 'DELETE' }] },
      'last 5 minutes': { startUnixNano: end - 300n * 1_000_000_000n, endUnixNano: end },
      'service, last 5 min': { service: 'service-7', startUnixNano: end - 300n * 1_000_000_000n, endUnixNano: end },
    };
    const searchMs: Record<string, Latency> = {};
    for (const [name, q] of Object.entries(queries)) {
      searchMs[name] = await time(20, () => store.search(q));
      log(`search ${name}: p50 ${searchMs[name]!.p50} ms`);
    }
    return {
      spans: written,
      loader,
      flushRowsPerSec: ingest.flushRowsPerSec,
      ingestSpansPerSec: ingest.ingestSpansPerSec,
      eventLoopDelayMs: ingest.eventLoopDelayMs,
      bytesOnDisk: stats.bytesOnDisk,
      bytesPerSpan: Math.round((stats.bytesOnDisk / written) * 10) / 10,
      blocks,
      usedBytesPerSpan: Math.round(((blocks.used * 262_144) / written) * 10) / 10,
      getTraceMs,
      searchMs,
      reopenMs: Math.round(reopenMs),
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
  const result = await runStorageBench({
    spans: Number(arg('spans') ?? 1_000_000),
    loader: (arg('loader') as Loader | undefined) ?? 'appender',
    dir: arg('dir'),
    reuse: process.argv.includes('--reuse'),
    log: json ? undefined : (m) => console.error(m),
  });
  console.log(json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
}
