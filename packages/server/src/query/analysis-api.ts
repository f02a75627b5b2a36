// The analysis API under /api/v1 (documented in ./analysis-openapi.ts): one
// trace explained, and analyses across traces. The algorithms are the
// model's (packages/model/src/analysis); this file only fetches spans,
// bounds the work and shapes JSON (unix-ns times as decimal text, durations
// as integer nanoseconds, as the rest of /api/v1).
//
//   /traces/:id/analysis ── getTrace ──► analyzeTrace
//   /traces/slow ────────── search (minDuration) ──► trace durations ──► slowest first
//   /metrics/red ─┐
//   /dependencies ├──────── scanTraces (search + getTrace, bounded) ──► RedAggregator / dependencyGraph / outliers
//   /outliers ────┘
//   /compare ────────────── getTrace × 2 ──► compareTraces

import type { Context } from 'hono';
import { Hono } from 'hono';
import type { Nanos, RedMetrics, Span } from '@ariadne/model';
import {
  PEER_ATTRIBUTES,
  RedAggregator,
  StatusCode,
  analyzeTrace,
  compareTraces,
  dependencyGraph,
  exactQuantiles,
  isValidTraceId,
  outliers,
  summaryToJson,
  traceAnalysisToJson,
} from '@ariadne/model';
import type { RedQuery, TraceStore } from '../store/types.js';
import { scanTraces } from '../store/scan.js';
import {
  analysisParams,
  checkParams,
  compareParams,
  dependencyParams,
  outlierParams,
  quantileOf,
  redParams,
  slowParams,
  type Checked,
} from './analysis-params.js';

export interface AnalysisApiOptions {
  /** time range when neither start nor end is given, ending now; default 1 hour */
  defaultWindowNanos?: number;
  /** traces read by a scan unless maxTraces says otherwise; default 500 */
  defaultMaxTraces?: number;
  /** a scan stops once it has read this many spans; default 1,000,000 */
  maxSpans?: number;
  /** unix ns; injectable for tests */
  now?: () => bigint;
}

const HOUR = 3_600_000_000_000;

export function analysisApi(store: TraceStore, opts: AnalysisApiOptions = {}): Hono {
  const defaultWindow = BigInt(opts.defaultWindowNanos ?? HOUR);
  const defaultMaxTraces = opts.defaultMaxTraces ?? 500;
  const maxSpans = opts.maxSpans ?? 1_000_000;
  const now = opts.now ?? (() => BigInt(Date.now()) * 1_000_000n);
  const api = new Hono();

  const params = <T>(c: Context, checked: Checked<T>): T | Response =>
    checked.ok ? checked.value : c.json({ error: checked.message, param: checked.param }, 400);
  const search = (c: Context) => new URL(c.req.url).searchParams;

  /** [start, end] from the parameters: default the last hour; end defaults to now, start to an hour before end. */
  const windowOf = (c: Context, p: { start?: bigint; end?: bigint }): { start: bigint; end: bigint } | Response => {
    const end = p.end ?? now();
    const start = p.start ?? (end > defaultWindow ? end - defaultWindow : 0n);
    if (start >= end) return c.json({ error: `parameter 'start' must be before end`, param: 'start' }, 400);
    return { start, end };
  };

  api.get('/traces/slow', async (c) => {
    const p = params(c, checkParams(slowParams, search(c)));
    if (p instanceof Response) return p;
    if (p.start !== undefined && p.end !== undefined && p.start > p.end) return c.json({ error: `parameter 'start' must not be after end`, param: 'start' }, 400);
    const maxTraces = p.maxTraces ?? defaultMaxTraces;
    // A span lasting `threshold` makes the trace at least that long, so the store can pre-select.
    const candidates = await store.search({
      minDurationNanos: p.threshold,
      limit: maxTraces,
      ...(p.start !== undefined ? { startUnixNano: p.start } : {}),
      ...(p.end !== undefined ? { endUnixNano: p.end } : {}),
    });
    const traces = candidates
      .filter((t) => t.durationNanos >= p.threshold && (p.service === undefined || t.services.includes(p.service)))
      .sort((a, b) => b.durationNanos - a.durationNanos || (a.traceId < b.traceId ? -1 : 1))
      .slice(0, p.limit);
    return c.json({ thresholdNanos: p.threshold, traces: traces.map(summaryToJson), candidates: candidates.length, truncated: candidates.length >= maxTraces });
  });

  api.get('/traces/:traceId/analysis', async (c) => {
    const traceId = c.req.param('traceId').toLowerCase();
    if (!isValidTraceId(traceId)) return c.json({ error: `parameter 'traceId' must be 32 hex characters, not all zero`, param: 'traceId' }, 400);
    const p = params(c, checkParams(analysisParams, search(c)));
    if (p instanceof Response) return p;
    const spans = await store.getTrace(traceId);
    if (!spans.length) return c.json({ error: `trace ${traceId} not found` }, 404);
    const analysis = analyzeTrace(spans, p.bottleneckThreshold !== undefined ? { bottleneckThreshold: p.bottleneckThreshold } : {});
    return c.json({ traceId, spanCount: spans.length, ...traceAnalysisToJson(analysis) });
  });

  api.get('/metrics/red', async (c) => {
    const p = params(c, checkParams(redParams, search(c)));
    if (p instanceof Response) return p;
    const w = windowOf(c, p);
    if (w instanceof Response) return w;
    const windowNanos = Number(w.end - w.start);
    const native = p.source === 'scan' ? undefined : await nativeRed(store, {
      groupBy: p.groupBy,
      ...(p.service !== undefined ? { service: p.service } : {}),
      ...(p.operation !== undefined ? { operation: p.operation } : {}),
      ...(p.kind ? { kinds: p.kind } : {}),
      startUnixNano: w.start,
      endUnixNano: w.end,
      exact: p.exact === 'true',
    });
    if (native) {
      // Every span in the window, straight from the store (no trace sampling).
      const counted = native.reduce((a, m) => a + m.count, 0);
      return c.json({ groupBy: p.groupBy, ...windowJson(w), windowSeconds: windowNanos / 1e9, source: 'store', exact: p.exact === 'true', spansCounted: counted, truncated: false, metrics: native });
    }
    const kinds = p.kind ? new Set<number>(p.kind) : undefined;
    const agg = new RedAggregator(p.groupBy);
    let counted = 0;
    const scan = await scanTraces(store, { ...scope(p), startUnixNano: w.start, endUnixNano: w.end, maxTraces: p.maxTraces ?? defaultMaxTraces, maxSpans }, (spans) => {
      for (const s of spans) {
        // Whole traces come back; only their spans inside the window and the filters count.
        if (s.startTimeUnixNano < w.start || s.startTimeUnixNano > w.end) continue;
        if ((p.service !== undefined && s.service !== p.service) || (p.operation !== undefined && s.name !== p.operation)) continue;
        if (kinds && !kinds.has(s.kind)) continue;
        const d = s.endTimeUnixNano - s.startTimeUnixNano;
        agg.add(s.service, s.name, d > 0n ? Number(d) : 0, s.status.code === StatusCode.ERROR);
        counted++;
      }
    });
    return c.json({
      groupBy: p.groupBy,
      ...windowJson(w),
      windowSeconds: windowNanos / 1e9,
      source: 'scan',
      tracesScanned: scan.traces,
      spansCounted: counted,
      truncated: scan.truncated,
      metrics: counted ? agg.result(windowNanos) : [],
    });
  });

  api.get('/dependencies', async (c) => {
    const p = params(c, checkParams(dependencyParams, search(c)));
    if (p instanceof Response) return p;
    const w = windowOf(c, p);
    if (w instanceof Response) return w;
    const spans: Span[] = [];
    const scan = await scanTraces(store, { startUnixNano: w.start, endUnixNano: w.end, maxTraces: p.maxTraces ?? defaultMaxTraces, maxSpans }, (trace) => {
      for (const s of trace) spans.push(lightSpan(s));
    });
    const edges = dependencyGraph(spans);
    const services = new Set<string>();
    for (const e of edges) services.add(e.from).add(e.to);
    return c.json({ ...windowJson(w), tracesScanned: scan.traces, truncated: scan.truncated, services: [...services].sort(), edges });
  });

  api.get('/compare', async (c) => {
    const p = params(c, checkParams(compareParams, search(c)));
    if (p instanceof Response) return p;
    const [a, b] = await Promise.all([store.getTrace(p.a), store.getTrace(p.b)]);
    if (!a.length) return c.json({ error: `trace ${p.a} not found`, param: 'a' }, 404);
    if (!b.length) return c.json({ error: `trace ${p.b} not found`, param: 'b' }, 404);
    const cmp = compareTraces(a, b, {
      ...(p.tolerance !== undefined ? { tolerance: p.tolerance } : {}),
      ...(p.minDelta !== undefined ? { minDeltaNanos: p.minDelta } : {}),
    });
    return c.json({ a: p.a, b: p.b, ...cmp });
  });

  api.get('/outliers', async (c) => {
    const p = params(c, checkParams(outlierParams, search(c)));
    if (p instanceof Response) return p;
    const w = windowOf(c, p);
    if (w instanceof Response) return w;
    const traces: { spans: Span[]; d: number }[] = [];
    const scan = await scanTraces(store, { ...scope(p), startUnixNano: w.start, endUnixNano: w.end, maxTraces: p.maxTraces ?? defaultMaxTraces, maxSpans }, (spans) => {
      traces.push({ spans, d: measure(spans, p) });
    });
    const durations = Float64Array.from(traces, (t) => t.d);
    let rule: string;
    let threshold: number;
    let selected: (t: { d: number }) => boolean;
    if (p.minDuration !== undefined) {
      rule = 'minDuration';
      threshold = p.minDuration;
      selected = (t) => t.d >= threshold;
    } else {
      const sel = p.selection ?? 'p95';
      rule = sel;
      threshold = traces.length ? exactQuantiles(durations, [quantileOf(sel)])[0]! : 0;
      selected = (t) => t.d > threshold;
    }
    const selection: Span[][] = [];
    const baseline: Span[][] = [];
    for (const t of traces) (selected(t) ? selection : baseline).push(t.spans);
    const result = outliers(selection, baseline, { limit: p.limit });
    return c.json({
      selection: { rule, thresholdNanos: threshold as Nanos, measured: p.service !== undefined || p.operation !== undefined ? 'longest matching span' : 'trace duration' },
      ...windowJson(w),
      tracesScanned: scan.traces,
      truncated: scan.truncated,
      ...result,
    });
  });

  return api;
}

function scope(p: { service?: string; operation?: string }): { service?: string; operation?: string } {
  return { ...(p.service !== undefined ? { service: p.service } : {}), ...(p.operation !== undefined ? { operation: p.operation } : {}) };
}

function windowJson(w: { start: bigint; end: bigint }): { start: string; end: string } {
  return { start: w.start.toString(), end: w.end.toString() };
}

/** The duration a trace is judged by: its longest span of the given service/operation, else the whole trace. */
function measure(spans: readonly Span[], p: { service?: string; operation?: string }): number {
  if (p.service === undefined && p.operation === undefined) {
    let lo = spans[0]!.startTimeUnixNano;
    let hi = spans[0]!.endTimeUnixNano;
    for (const s of spans) {
      if (s.startTimeUnixNano < lo) lo = s.startTimeUnixNano;
      if (s.endTimeUnixNano > hi) hi = s.endTimeUnixNano;
    }
    return hi > lo ? Number(hi - lo) : 0;
  }
  let best = 0;
  for (const s of spans) {
    if ((p.service !== undefined && s.service !== p.service) || (p.operation !== undefined && s.name !== p.operation)) continue;
    const d = Number(s.endTimeUnixNano - s.startTimeUnixNano);
    if (d > best) best = d;
  }
  return best;
}

const PEERS = new Set<string>(PEER_ATTRIBUTES);

/** What the dependency graph reads of a span: ids, service, kind, times, status and the peer attributes. */
function lightSpan(s: Span): Span {
  return { ...s, attributes: s.attributes.filter((kv) => PEERS.has(kv.key)), events: [], links: [] };
}

/**
 * The store's own RED when it has one; undefined when it does not (a store
 * without the method, or a worker-hosted one that answers TypeError).
 */
async function nativeRed(store: TraceStore, query: RedQuery): Promise<RedMetrics[] | undefined> {
  if (typeof store.red !== 'function') return undefined;
  try {
    return await store.red(query);
  } catch (e) {
    if ((e as Error).name === 'TypeError') return undefined;
    throw e;
  }
}
