// One trace, explained: skew removed first, then critical path, self times,
// bottlenecks, service breakdown and service calls, all from one index.
//
//   spans ─► index ─► skew (shifts the index) ─┬─► critical path
//                                               ├─► self times ─► bottlenecks, breakdown
//                                               └─► service calls

import type { Span } from '../span.js';
import type { Nanos } from '../units.js';
import { buildTree, renderTree } from '../tree.js';
import { buildIndex } from './trace-index.js';
import type { SkewAdjustment } from './skew.js';
import { adjustClockSkewOnIndex } from './skew.js';
import type { CriticalPathSegment } from './critical-path.js';
import { criticalPathOnIndex } from './critical-path.js';
import type { Bottleneck } from './self-time.js';
import { selfTimesOnIndex } from './self-time.js';
import { scanCalls } from './calls.js';
import type { TraceIndex } from './trace-index.js';

export interface ServiceCallCount {
  from: string;
  to: string;
  count: number;
}

export interface TraceAnalysis {
  criticalPath: CriticalPathSegment[];
  bottlenecks: Bottleneck[];
  /** self time per service (parallel work counts once per span) */
  serviceBreakdown: Record<string, Nanos>;
  /** covered time per service with concurrency split evenly; sums to coveredTimeNanos */
  wallTimeBreakdown: Record<string, Nanos>;
  selfTimes: Record<string, Nanos>;
  skewAdjustments: SkewAdjustment[];
  /** earliest start to latest end, after skew adjustment */
  totalDurationNanos: Nanos;
  /** union of all span intervals, after skew adjustment */
  coveredTimeNanos: Nanos;
  serviceCalls: ServiceCallCount[];
}

export interface AnalyzeOptions {
  /** bottleneck threshold as a fraction of the trace duration; default 0.1 */
  bottleneckThreshold?: number;
}

/** Analyzes the spans of one trace. Pure; O(n log n). */
export function analyzeTrace(spans: readonly Span[], opts: AnalyzeOptions = {}): TraceAnalysis {
  return analyzeWithSpans(spans, opts).analysis;
}

/** The analysis and the skew-adjusted spans it was computed on. */
export function analyzeWithSpans(spans: readonly Span[], opts: AnalyzeOptions = {}): { analysis: TraceAnalysis; spans: Span[] } {
  const { result: skew, index: ix } = adjustClockSkewOnIndex(buildIndex(spans));
  const st = selfTimesOnIndex(ix, { threshold: opts.bottleneckThreshold ?? 0.1 });
  const serviceCalls = countCalls(ix);
  const analysis: TraceAnalysis = {
    criticalPath: criticalPathOnIndex(ix),
    bottlenecks: st.bottlenecks,
    serviceBreakdown: st.serviceBreakdown,
    wallTimeBreakdown: st.wallTime,
    selfTimes: st.selfTimes,
    skewAdjustments: skew.skewAdjustments,
    totalDurationNanos: st.totalDurationNanos,
    coveredTimeNanos: st.coveredTimeNanos,
    serviceCalls,
  };
  return { analysis, spans: skew.spans };
}

/** Calls per (caller, callee) service pair, sorted by both names. */
function countCalls(ix: TraceIndex): ServiceCallCount[] {
  const { service, services, parent } = ix;
  const m = services.length;
  // Counted by service number first: most calls share a handful of pairs.
  const matrix = m <= 256 ? new Int32Array(m * m) : undefined;
  const pairs = new Map<number, number>();
  const byName = new Map<string, ServiceCallCount>();
  const add = (from: string, to: string, count: number) => {
    const key = from + '\u0000' + to;
    const c = byName.get(key);
    if (c) c.count += count;
    else byName.set(key, { from, to, count });
  };
  scanCalls(ix.spans, parent, service, ix.kind, {
    call(i) {
      const key = service[parent[i]!]! * m + service[i]!;
      if (matrix) matrix[key]!++;
      else pairs.set(key, (pairs.get(key) ?? 0) + 1);
    },
    virtual(i, peer) {
      add(services[service[i]!]!, peer, 1);
    },
  });
  if (matrix) for (let key = 0; key < m * m; key++) if (matrix[key]) pairs.set(key, matrix[key]!);
  for (const [key, count] of pairs) add(services[Math.floor(key / m)]!, services[key % m]!, count);
  return [...byName.values()].sort((a, b) => cmp(a.from, b.from) || cmp(a.to, b.to));
}

export interface AnalyzedTreeOptions extends AnalyzeOptions {
  /** mark spans on the critical path; default true */
  criticalPath?: boolean;
}

/**
 * The span tree as text in seed 002's form, skew-adjusted, with marks:
 *
 *   └─ checkout (frontend) - 1.2s ◆ critical
 *      ├─ getCart (cart) - 80ms
 *      └─ charge (payments) - 1.1s ◆ critical ⚠ bottleneck 91.6%
 */
export function renderAnalyzedTree(spans: readonly Span[], opts: AnalyzedTreeOptions = {}): string[] {
  const { analysis, spans: adjusted } = analyzeWithSpans(spans, opts);
  const onPath = new Set(opts.criticalPath === false ? [] : analysis.criticalPath.map((s) => s.spanId));
  const hot = new Map(analysis.bottlenecks.map((b) => [b.spanId, b]));
  return renderTree(buildTree(adjusted), {
    mark: (s) => {
      const marks: string[] = [];
      if (onPath.has(s.spanId)) marks.push('◆ critical');
      const b = hot.get(s.spanId);
      if (b) marks.push(`⚠ bottleneck ${((b.selfTimeNanos / analysis.totalDurationNanos) * 100).toFixed(1)}%`);
      return marks.length ? marks.join(' ') : undefined;
    },
  });
}

/** The analysis with bigint timestamps as decimal text, ready for JSON.stringify. */
export type TraceAnalysisJson = Omit<TraceAnalysis, 'criticalPath'> & {
  criticalPath: (Omit<CriticalPathSegment, 'startTimeUnixNano' | 'endTimeUnixNano'> & {
    startTimeUnixNano: string;
    endTimeUnixNano: string;
  })[];
};

export function traceAnalysisToJson(a: TraceAnalysis): TraceAnalysisJson {
  return {
    ...a,
    criticalPath: a.criticalPath.map((s) => ({
      ...s,
      startTimeUnixNano: s.startTimeUnixNano.toString(),
      endTimeUnixNano: s.endTimeUnixNano.toString(),
    })),
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
