// `ariadne bench storage` and `ariadne bench query`: the block store on the
// shared benchmark dataset (bench/dataset.ts), through store/blocks/bench.ts,
// reported in the field names docs/benchmarks.md uses.

import { generateTraces } from './dataset.js';
import { encodeTraceRequestProto } from '../receive/otlp/index.js';
import { runBlockBench, type BlockBenchResult } from '../store/blocks/bench.js';

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
  peakRssBytes: number;
}

export async function runStorageBench(spans: number, log: (m: string) => void): Promise<{ storage: StorageBenchReport; query: QueryBenchReport; raw: BlockBenchResult }> {
  const raw = await runBlockBench({ spans, dataset: 'jaeger', log });
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
  const search: QueryBenchReport['search'] = {};
  for (const [name, l] of Object.entries(raw.search)) search[name] = { p50Ms: l.p50, p95Ms: l.p95 };
  const query: QueryBenchReport = {
    spans: raw.spans,
    traceById: { p50Ms: raw.traceById.warmMs.p50, p99Ms: raw.traceById.warmMs.p99, coldP50Ms: raw.traceById.coldMs.p50, coldP99Ms: raw.traceById.coldMs.p99 },
    search,
    redMs: raw.redMs,
    redExactMs: raw.redExactMs,
    peakRssBytes: raw.peakRssBytes,
  };
  return { storage, query, raw };
}
