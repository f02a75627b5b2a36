// Across traces: RED metrics (rate, errors, duration quantiles) per service
// or operation, and the service dependency graph.
//
//   spans ──group by service[/operation]──► count, errors, durations ──► rate, error rate, p50/p95/p99
//   spans ──calls (see calls.ts)──► caller → callee: count, errors, latencies ──► p50, avg
//
// Quantiles are exact, by nearest rank (the smallest observed value with at
// least q of all values at or below it), found by quickselect in expected
// O(n) without sorting everything: the answer is always a duration that
// really occurred, and a test can check it against a plain sort.

import type { Span } from '../span.js';
import { SpanKind, StatusCode } from '../span.js';
import type { Nanos } from '../units.js';
import { forEachCall } from './calls.js';

export interface RedOptions {
  groupBy: 'service' | 'operation';
  /** length of the time range the spans were selected from; the rate is count / window */
  windowNanos: Nanos | number;
  /** count only spans of these kinds (e.g. [SpanKind.SERVER] for request rate); default all */
  kinds?: readonly SpanKind[];
}

export interface RedMetrics {
  service: string;
  /** present when grouped by operation */
  operation?: string;
  count: number;
  errorCount: number;
  /** spans per second over the window */
  rate: number;
  /** errors / count, 0..1 */
  errorRate: number;
  p50Nanos: Nanos;
  p95Nanos: Nanos;
  p99Nanos: Nanos;
  avgNanos: Nanos;
}

/** RED metrics of the given spans, one row per service or per service+operation, sorted. */
export function redMetrics(spans: readonly Span[], opts: RedOptions): RedMetrics[] {
  const agg = new RedAggregator(opts.groupBy);
  const kinds = opts.kinds ? new Set<number>(opts.kinds) : undefined;
  for (const s of spans) {
    if (kinds && !kinds.has(s.kind)) continue;
    const d = s.endTimeUnixNano - s.startTimeUnixNano;
    agg.add(s.service, s.name, d > 0n ? Number(d) : 0, s.status.code === StatusCode.ERROR);
  }
  return agg.result(opts.windowNanos);
}

/**
 * The accumulator behind `redMetrics`, for callers that hold spans in
 * another form (a store scanning columns need not build Span objects).
 */
export class RedAggregator {
  readonly #groupBy: 'service' | 'operation';
  // service -> operation ('' when grouping by service) -> group; two levels, so no key strings are built per span
  readonly #groups = new Map<string, Map<string, RedGroup>>();

  constructor(groupBy: 'service' | 'operation') {
    this.#groupBy = groupBy;
  }

  add(service: string, operation: string, durationNanos: number, isError: boolean): void {
    let ops = this.#groups.get(service);
    if (!ops) this.#groups.set(service, (ops = new Map()));
    const op = this.#groupBy === 'service' ? '' : operation;
    let g = ops.get(op);
    if (!g) ops.set(op, (g = { service, operation: op, errors: 0, sum: 0, d: new GrowableArray() }));
    g.d.push(durationNanos);
    g.sum += durationNanos;
    if (isError) g.errors++;
  }

  result(windowNanos: Nanos | number): RedMetrics[] {
    if (!(windowNanos > 0)) throw new RangeError(`windowNanos must be positive, got ${windowNanos}`);
    const seconds = windowNanos / 1e9;
    const out: RedMetrics[] = [];
    for (const g of [...this.#groups.values()].flatMap((ops) => [...ops.values()])) {
      const values = g.d.view();
      const count = values.length;
      const [p50, p95, p99] = exactQuantiles(values, [0.5, 0.95, 0.99]);
      const row: RedMetrics = {
        service: g.service,
        count,
        errorCount: g.errors,
        rate: count / seconds,
        errorRate: g.errors / count,
        p50Nanos: p50 as Nanos,
        p95Nanos: p95 as Nanos,
        p99Nanos: p99 as Nanos,
        avgNanos: Math.round(g.sum / count) as Nanos,
      };
      if (this.#groupBy === 'operation') row.operation = g.operation;
      out.push(row);
    }
    return out.sort((a, b) => cmp(a.service, b.service) || cmp(a.operation ?? '', b.operation ?? ''));
  }
}

/**
 * Exact nearest-rank quantiles of `values` (reordered in place): for each q in
 * [0, 1] the value at rank ceil(q·n) of the sorted values (rank 1 for q = 0).
 * NaN for an empty array. Expected O(n) per quantile; never worse than a sort.
 */
export function exactQuantiles(values: Float64Array, qs: readonly number[]): number[] {
  const n = values.length;
  if (n === 0) return qs.map(() => NaN);
  const ranks = qs.map((q, i) => ({ i, k: Math.min(n, Math.max(1, Math.ceil(q * n - 1e-9))) - 1 }));
  ranks.sort((a, b) => a.k - b.k);
  const out = new Array<number>(qs.length);
  let lo = 0;
  for (const { i, k } of ranks) {
    select(values, lo, n - 1, k);
    out[i] = values[k]!;
    lo = k; // everything from k on is now >= values[k]
  }
  return out;
}

/** Moves the k-th smallest of a[lo..hi] to a[k], smaller before, larger after. */
function select(a: Float64Array, lo: number, hi: number, k: number): void {
  // Median-of-three Hoare partitioning; after a logarithmic budget of rounds,
  // sort what is left, so a hostile input cannot make it quadratic.
  let budget = 2 * Math.ceil(Math.log2(hi - lo + 2)) + 4;
  while (hi > lo) {
    if (hi - lo < 24 || budget-- <= 0) {
      a.subarray(lo, hi + 1).sort();
      return;
    }
    const mid = (lo + hi) >>> 1;
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i++] = a[j]!;
        a[j--] = t;
      }
    }
    // Now a[lo..j] <= pivot <= a[i..hi], and anything between equals the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

export interface DependencyEdge {
  /** calling service */
  from: string;
  /** called service, or the peer named by the caller when the callee is not instrumented */
  to: string;
  /** the callee has no spans of its own: named from peer.service / db.name / db.system */
  virtual: boolean;
  callCount: number;
  errorCount: number;
  p50LatencyNanos: Nanos;
  avgLatencyNanos: Nanos;
}

/**
 * The service dependency graph of spans from any number of traces: one edge
 * per caller → callee pair. A CLIENT span in A whose child SERVER span is in B
 * is one call A→B (see calls.ts for the rules).
 */
export function dependencyGraph(spans: readonly Span[]): DependencyEdge[] {
  const byKey = new Map<string, number>();
  for (let i = 0; i < spans.length; i++) {
    const key = spans[i]!.traceId + '/' + spans[i]!.spanId;
    if (!byKey.has(key)) byKey.set(key, i);
  }
  const parent = new Int32Array(spans.length);
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    const p = s.parentSpanId ? byKey.get(s.traceId + '/' + s.parentSpanId) : undefined;
    parent[i] = p === undefined || p === i ? -1 : p;
  }
  const edges = new Map<string, { from: string; to: string; virtual: boolean; errors: number; sum: number; lat: GrowableArray }>();
  forEachCall(spans, parent, (from, to, virtual, error, latency) => {
    const key = from + '\u0000' + to;
    let e = edges.get(key);
    if (!e) {
      e = { from, to, virtual, errors: 0, sum: 0, lat: new GrowableArray() };
      edges.set(key, e);
    }
    // An edge is virtual only while no instrumented callee of that name has been seen.
    e.virtual &&= virtual;
    if (error) e.errors++;
    e.sum += latency;
    e.lat.push(latency);
  });
  const out: DependencyEdge[] = [];
  for (const e of edges.values()) {
    const count = e.lat.length;
    out.push({
      from: e.from,
      to: e.to,
      virtual: e.virtual,
      callCount: count,
      errorCount: e.errors,
      p50LatencyNanos: exactQuantiles(e.lat.view(), [0.5])[0]! as Nanos,
      avgLatencyNanos: Math.round(e.sum / count) as Nanos,
    });
  }
  return out.sort((a, b) => cmp(a.from, b.from) || cmp(a.to, b.to));
}

interface RedGroup {
  service: string;
  operation: string;
  errors: number;
  sum: number;
  d: GrowableArray;
}

class GrowableArray {
  #a = new Float64Array(16);
  length = 0;
  push(v: number): void {
    if (this.length === this.#a.length) {
      const t = new Float64Array(this.#a.length * 2);
      t.set(this.#a);
      this.#a = t;
    }
    this.#a[this.length++] = v;
  }
  view(): Float64Array {
    return this.#a.subarray(0, this.length);
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
