// Reading many traces through the TraceStore contract alone, for analyses
// across traces (RED metrics, dependencies, outliers, stats):
//
//   search(conditions, time range, limit = maxTraces) ──► trace ids, newest first
//        └──► getTrace, `concurrency` at a time ──► visit(spans of one trace)
//
// Bounded by a trace count and a span count; the result says when a bound
// cut the scan short. A store with a native scan (one query streaming the
// spans of a time range, or aggregating in place) would do the same work in
// one round trip instead of 1 + N; see docs/api-analysis.md.

import type { Span, TraceQuery, TraceSummary } from '@ariadne/model';
import { MAX_SEARCH_LIMIT } from '@ariadne/model';
import type { TraceStore } from './types.js';

export interface ScanQuery {
  service?: string;
  operation?: string;
  minDurationNanos?: number;
  /** inclusive bounds on the start of the matching span, unix ns */
  startUnixNano?: bigint;
  endUnixNano?: bigint;
  /** most traces read, newest first (at most the store's search limit, 10,000) */
  maxTraces: number;
  /** stop once this many spans were read (the trace that crosses it is still visited); default unbounded */
  maxSpans?: number;
}

export interface ScanResult {
  /** traces visited */
  traces: number;
  spans: number;
  /** a bound (maxTraces or maxSpans) stopped the scan: older matching traces were not read */
  truncated: boolean;
}

export interface ScanOptions {
  /** getTrace calls in flight at once; default 16 */
  concurrency?: number;
}

/**
 * Visits the whole traces that have a span matching the query (the store's
 * search semantics: every condition on one span), newest first as found,
 * but visits may interleave in any order. `visit` must not throw.
 */
export async function scanTraces(
  store: TraceStore,
  query: ScanQuery,
  visit: (spans: Span[], summary: TraceSummary) => void,
  opts: ScanOptions = {},
): Promise<ScanResult> {
  const maxTraces = Math.max(1, Math.min(MAX_SEARCH_LIMIT, Math.floor(query.maxTraces)));
  const q: TraceQuery = { limit: maxTraces };
  if (query.service !== undefined) q.service = query.service;
  if (query.operation !== undefined) q.operation = query.operation;
  if (query.minDurationNanos !== undefined) q.minDurationNanos = query.minDurationNanos as TraceQuery['minDurationNanos'];
  if (query.startUnixNano !== undefined) q.startUnixNano = query.startUnixNano;
  if (query.endUnixNano !== undefined) q.endUnixNano = query.endUnixNano;
  const summaries = await store.search(q);
  const maxSpans = query.maxSpans ?? Infinity;
  let spans = 0;
  let traces = 0;
  let stopped = false;
  await forEachLimited(summaries, opts.concurrency ?? 16, async (summary) => {
    if (spans >= maxSpans) {
      stopped = true;
      return;
    }
    const trace = await store.getTrace(summary.traceId);
    // Retention may have deleted it since the search.
    if (!trace.length) return;
    spans += trace.length;
    traces++;
    visit(trace, summary);
  });
  return { traces, spans, truncated: stopped || summaries.length >= maxTraces };
}

/** Runs `fn` over `items`, at most `limit` at a time, in order of starting. */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
