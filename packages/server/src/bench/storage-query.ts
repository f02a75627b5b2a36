// `ariadne bench storage` and `ariadne bench query`: the block store on the
// shared benchmark dataset (bench/dataset.ts), through store/blocks/bench.ts,
// reported in the field names docs/benchmarks.md uses. TraceQL searches run
// here, on the same data reopened, since they go through the query layer.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeTrace, bytesToHex, emptyResource, emptyScope, parseTraceQL, SpanKind, StatusCode, type Span } from '@ariadne/model';
import { generateTraces, prng } from './dataset.js';
import { encodeTraceRequestProto } from '../receive/otlp/index.js';
import { runBlockBench, type BlockBenchResult } from '../store/blocks/bench.js';
import { BlockStore } from '../store/blocks/index.js';
import { searchTraceQL } from '../query/traceql.js';

/** Raw OTLP protobuf bytes per span of the dataset, in 100-span requests. */
export function otlpBytesPerSpan(): number {
  let bytes = 0;
  let spans = 0;
  for (let i = 0; i < 50; i++) {
    const batch = generateTraces(5000 + i, 10, 1_700_000_000_000_000_000n);
    bytes += encodeTraceRequestProto(batch).length;
    spans += batch.length;
  }
  return bytes / spans;
}

export interface StorageBenchReport {
  spans: number;
  bytesOnDisk: number;
  bytesPerSpan: number;
  otlpBytesPerSpan: number;
  compressionRatio: number;
  flushSpansPerSec: number;
  ingestSpansPerSec: number;
  blocks: number;
  peakRssBytes: number;
}

export interface QueryBenchReport {
  spans: number;
  traceById: { p50Ms: number; p99Ms: number; coldP50Ms: number; coldP99Ms: number };
  search: Record<string, { p50Ms: number; p95Ms: number }>;
  redMs: number;
  redExactMs: number;
  /** analyzeTrace on one 100k-span trace: median of 5 warm runs, and the first (cold) run */
  analyze100kMs: number;
  analyze100kColdMs: number;
  peakRssBytes: number;
}

/** One wide, deep trace of `count` spans over 20 services, with overlapping children. */
export function bigTrace(count: number, seed = 7): Span[] {
  const rand = prng(seed);
  const traceId = 'ab'.repeat(16);
  const resources = Array.from({ length: 20 }, (_, i) => ({ ...emptyResource(), attributes: [{ key: 'service.name', value: { stringValue: `svc-${i}` } }] }));
  const scope = emptyScope();
  const spans: Span[] = [];
  const t0 = 1_700_000_000_000_000_000n;
  for (let i = 0; i < count; i++) {
    const parent = i === 0 ? undefined : spans[Math.floor(rand() * Math.min(i, 1 + i / 2))]!;
    const pStart = parent?.startTimeUnixNano ?? t0;
    const pDur = parent ? Number(parent.endTimeUnixNano - parent.startTimeUnixNano) : 60e9;
    const start = pStart + BigInt(Math.floor(rand() * pDur * 0.5));
    const dur = Math.max(1000, Math.floor(pDur * (0.05 + rand() * 0.5)));
    const id = new Uint8Array(8);
    new DataView(id.buffer).setUint32(4, i + 1);
    const r = resources[Math.floor(rand() * 20)]!;
    spans.push({
      traceId,
      spanId: bytesToHex(id),
      parentSpanId: parent?.spanId ?? '',
      traceState: '',
      flags: 1,
      name: `op-${i % 50}`,
      kind: SpanKind.INTERNAL,
      startTimeUnixNano: start,
      endTimeUnixNano: start + BigInt(dur),
      attributes: [],
      droppedAttributesCount: 0,
      events: [],
      droppedEventsCount: 0,
      links: [],
      droppedLinksCount: 0,
      status: { code: StatusCode.UNSET, message: '' },
      resource: r,
      scope,
      service: r.attributes[0]!.value.stringValue!,
    });
  }
  return spans;
}

function timeAnalysis(): { cold: number; median: number } {
  const spans = bigTrace(100_000);
  const runs: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t = performance.now();
    analyzeTrace(spans);
    runs.push(performance.now() - t);
  }
  const warm = runs.slice(1).sort((a, b) => a - b);
  return { cold: runs[0]!, median: warm[2]! };
}

/**
 * TraceQL searches (limit 20) on the benchmark dataset, each with a part the
 * store answers (pushdown) and a part only whole-trace evaluation can:
 *   traceql                 errors of payment calls, client side only (kind is not a store column)
 *   traceql (two spansets)  slow requests that hit an error anywhere below
 */
export const TRACEQL_BENCH_QUERIES: Record<string, string> = {
  traceql: '{ resource.service.name = "payment" && span.http.status_code = 500 && kind = client }',
  'traceql (two spansets)': '{ resource.service.name = "frontend" && duration > 50ms } && { status = error }',
};

/** Reopens the block store in `dir` (caches cold) and times each query: the first run, then p50/p95 of 20. */
async function timeTraceQL(dir: string, log: (m: string) => void): Promise<Record<string, { p50Ms: number; p95Ms: number; coldMs: number; traces: number; candidates: number }>> {
  const store = await BlockStore.open({ dir, compaction: 'off' });
  const out: Record<string, { p50Ms: number; p95Ms: number; coldMs: number; traces: number; candidates: number }> = {};
  try {
    for (const [name, text] of Object.entries(TRACEQL_BENCH_QUERIES)) {
      const query = parseTraceQL(text);
      const samples: number[] = [];
      let last = { traces: 0, candidates: 0 };
      for (let i = 0; i < 21; i++) {
        const t = performance.now();
        const r = await searchTraceQL(store, query, { limit: 20 });
        samples.push(performance.now() - t);
        last = { traces: r.traces.length, candidates: r.candidates };
      }
      const warm = samples.slice(1).sort((a, b) => a - b);
      const at = (p: number) => Math.round(warm[Math.min(warm.length - 1, Math.ceil(p * warm.length) - 1)]! * 100) / 100;
      out[name] = { p50Ms: at(0.5), p95Ms: at(0.95), coldMs: Math.round(samples[0]! * 100) / 100, ...last };
      log(`search ${name}: cold ${out[name]!.coldMs}, p50 ${out[name]!.p50Ms}, p95 ${out[name]!.p95Ms} ms (${last.traces} traces from ${last.candidates} candidates) ${text}`);
    }
  } finally {
    await store.close();
  }
  return out;
}

export async function runStorageBench(spans: number, log: (m: string) => void): Promise<{ storage: StorageBenchReport; query: QueryBenchReport; raw: BlockBenchResult }> {
  const dir = await mkdtemp(join(tmpdir(), 'ariadne-bench-'));
  let raw: BlockBenchResult;
  let traceql: Awaited<ReturnType<typeof timeTraceQL>>;
  try {
    raw = await runBlockBench({ spans, dataset: 'jaeger', dir, log });
    traceql = await timeTraceQL(dir, log);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const otlp = otlpBytesPerSpan();
  const storage: StorageBenchReport = {
    spans: raw.spans,
    bytesOnDisk: raw.bytesOnDisk,
    bytesPerSpan: raw.bytesPerSpan,
    otlpBytesPerSpan: otlp,
    compressionRatio: otlp / raw.bytesPerSpan,
    flushSpansPerSec: raw.flushSpansPerSec,
    ingestSpansPerSec: raw.ingestSpansPerSec,
    blocks: raw.blocks,
    peakRssBytes: raw.peakRssBytes,
  };
  const analysis = timeAnalysis();
  const search: QueryBenchReport['search'] = {};
  for (const [name, l] of Object.entries(raw.search)) search[name] = { p50Ms: l.p50, p95Ms: l.p95 };
  for (const [name, l] of Object.entries(traceql)) search[name] = { p50Ms: l.p50Ms, p95Ms: l.p95Ms };
  const query: QueryBenchReport = {
    spans: raw.spans,
    traceById: { p50Ms: raw.traceById.warmMs.p50, p99Ms: raw.traceById.warmMs.p99, coldP50Ms: raw.traceById.coldMs.p50, coldP99Ms: raw.traceById.coldMs.p99 },
    search,
    redMs: raw.redMs,
    redExactMs: raw.redExactMs,
    analyze100kMs: Math.round(analysis.median * 10) / 10,
    analyze100kColdMs: Math.round(analysis.cold * 10) / 10,
    peakRssBytes: raw.peakRssBytes,
  };
  return { storage, query, raw };
}
