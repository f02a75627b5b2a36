// Self time: the part of a span during which none of its children ran.
//
//   time      0    5    10   15   20   25   30   35
//   span      |=============================|          0-30
//   child a      |======|                              3-10
//   child b           |========|                       8-17, overlaps a
//   child c                               |======|     28-35, outlives the span
//   union        |-------------|          |-|          3-17 + 28-30 (clipped) = 16
//   self      |--|             |----------|            30 - 16 = 14
//
// Bottlenecks are spans whose self time exceeds 10% of the trace; the
// service breakdown sums self time per service, so a parent never counts the
// time its children account for. Parallel work counts once per span (like CPU
// time); `wallTime` instead splits each instant evenly between the spans
// doing their own work at that instant, and so sums exactly to the covered
// time of the trace (the union of all spans).

import type { Span } from '../span.js';
import type { Nanos } from '../units.js';
import type { TraceIndex } from './trace-index.js';
import { buildIndex, spanRecord } from './trace-index.js';

export interface Bottleneck {
  spanId: string;
  service: string;
  operation: string;
  selfTimeNanos: Nanos;
  /** self time as a percentage of the trace duration, two decimals */
  percentage: number;
}

export interface SelfTimeResult {
  /** self time per span id */
  selfTimes: Record<string, Nanos>;
  /** spans with self time above `threshold` of the trace duration, largest first */
  bottlenecks: Bottleneck[];
  /** self time per service */
  serviceBreakdown: Record<string, Nanos>;
  /** covered time per service, concurrency split evenly; sums to coveredTimeNanos */
  wallTime: Record<string, Nanos>;
  /** from the earliest start to the latest end */
  totalDurationNanos: Nanos;
  /** the union of all span intervals: the trace duration minus its gaps */
  coveredTimeNanos: Nanos;
}

export interface SelfTimeOptions {
  /** fraction of the trace duration a span's self time must exceed to be a bottleneck; default 0.1 */
  threshold?: number;
}

export function selfTimes(spans: readonly Span[], opts: SelfTimeOptions = {}): SelfTimeResult {
  return selfTimesOnIndex(buildIndex(spans), opts);
}

export function selfTimesOnIndex(ix: TraceIndex, { threshold = 0.1 }: SelfTimeOptions = {}): SelfTimeResult {
  const { n, spans, start, end, childOffset, children, service, services } = ix;
  const self = new Float64Array(n);
  // Self intervals of every span, gathered for the wall-time split.
  let ivStart = new Float64Array(n + 16);
  let ivEnd = new Float64Array(n + 16);
  let ivSpan = new Int32Array(n + 16);
  let iv = 0;
  const pushInterval = (i: number, s: number, e: number) => {
    if (iv === ivStart.length) {
      ivStart = grow(ivStart);
      ivEnd = grow(ivEnd);
      const t = new Int32Array(ivSpan.length * 2);
      t.set(ivSpan);
      ivSpan = t;
    }
    ivStart[iv] = s;
    ivEnd[iv] = e;
    ivSpan[iv++] = i;
  };
  let minStart = Infinity;
  let maxEnd = -Infinity;
  for (let i = 0; i < n; i++) {
    const s = start[i]!;
    const e = end[i]!;
    if (s < minStart) minStart = s;
    if (e > maxEnd) maxEnd = e;
    // Children come ordered by start, so their clipped union is one sweep.
    let cursor = s; // everything before cursor is accounted for
    let own = 0;
    for (let k = childOffset[i]!; k < childOffset[i + 1]!; k++) {
      const c = children[k]!;
      const a = Math.max(start[c]!, s);
      const b = Math.min(end[c]!, e);
      if (b <= cursor || b <= a) continue;
      if (a > cursor) {
        own += a - cursor;
        pushInterval(i, cursor, a);
      }
      cursor = b;
      if (cursor >= e) break;
    }
    if (e > cursor) {
      own += e - cursor;
      pushInterval(i, cursor, e);
    }
    self[i] = own;
  }

  const total = n === 0 ? 0 : maxEnd - minStart;
  const selfById = spanRecord(ix) as Record<string, Nanos>;
  const perService = new Float64Array(services.length);
  const bottlenecks: Bottleneck[] = [];
  for (let i = 0; i < n; i++) {
    const st = self[i]! as Nanos;
    selfById[spans[i]!.spanId] = st;
    perService[service[i]!]! += st;
    if (total > 0 && st / total > threshold) {
      const span = spans[i]!;
      bottlenecks.push({
        spanId: span.spanId,
        service: span.service,
        operation: span.name,
        selfTimeNanos: st,
        percentage: Math.round((st / total) * 10000) / 100,
      });
    }
  }
  bottlenecks.sort((a, b) => b.selfTimeNanos - a.selfTimeNanos || (a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0));
  const breakdown = Object.fromEntries(services.map((name, v) => [name, perService[v]!])) as Record<string, Nanos>;
  const { covered, perSpan } = splitConcurrent(ivStart.subarray(0, iv), ivEnd.subarray(0, iv));
  const wallPerService = new Float64Array(services.length);
  const seen = new Uint8Array(services.length);
  const seenOrder: number[] = []; // the order roundToTotal sums in, which counts past 2^53 ns
  for (let k = 0; k < iv; k++) {
    const v = service[ivSpan[k]!]!;
    wallPerService[v]! += perSpan[k]!;
    if (!seen[v]) {
      seen[v] = 1;
      seenOrder.push(v);
    }
  }
  const wallRaw = new Map<string, number>();
  for (const v of seenOrder) wallRaw.set(services[v]!, wallPerService[v]!);
  return {
    selfTimes: selfById,
    bottlenecks,
    serviceBreakdown: breakdown,
    wallTime: roundToTotal(wallRaw, covered),
    totalDurationNanos: total as Nanos,
    coveredTimeNanos: covered as Nanos,
  };
}

/**
 * Splits time among intervals: during an instant covered by k intervals each
 * gets 1/k. With G(t) = ∫ 1/k, an interval [a, b) gets G(b) - G(a): one sweep
 * over the starts and ends in time order (radix-sorted: no comparisons).
 * Events at one instant all see the same G, so their order does not matter.
 */
function splitConcurrent(s: Float64Array, e: Float64Array): { covered: number; perSpan: Float64Array } {
  const m = s.length;
  // Event x < m is the start of interval x, event m + x its end.
  const at = new Float64Array(2 * m);
  at.set(s);
  at.set(e, m);
  const events = radixOrder(at);
  const share = new Float64Array(m);
  let covered = 0;
  let acc = 0;
  let active = 0;
  let prev = 0;
  for (let k = 0; k < 2 * m; k++) {
    const x = events[k]!;
    const t = at[x]!;
    if (t !== prev) {
      if (active > 0) {
        covered += t - prev;
        acc += (t - prev) / active;
      }
      prev = t;
    }
    if (x < m) {
      share[x] = -acc;
      active++;
    } else {
      share[x - m]! += acc;
      active--;
    }
  }
  return { covered, perSpan: share };
}

/**
 * Indices of `keys` (integers) in ascending key order, stable: LSD radix
 * sort on the offset from the smallest key, in as few
 * passes as 16-bit digits need, with digits of equal width (a trace of a
 * minute spans ~2^36 ns: three passes of 12 bits, whose counts fit in L1).
 */
function radixOrder(keys: Float64Array): Int32Array {
  const m = keys.length;
  let order = new Int32Array(m);
  for (let k = 0; k < m; k++) order[k] = k;
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < m; k++) {
    const v = keys[k]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi > lo)) return order;
  // Offsets from lo round beyond 2^53 (a trace of 104 days or more): compare.
  if (!(hi - lo < 2 ** 53)) return order.sort((a, b) => keys[a]! - keys[b]! || a - b);
  let bits = 1;
  while (2 ** bits <= hi - lo) bits++;
  const passes = Math.ceil(bits / 16);
  const radix = 2 ** Math.ceil(bits / passes);
  // Every digit and every pass's counts in one read of the keys.
  const digits = new Uint16Array(m * passes);
  const count = new Int32Array(radix * passes);
  for (let k = 0; k < m; k++) {
    let v = keys[k]! - lo;
    for (let p = 0; p < passes; p++) {
      const q = Math.floor(v / radix);
      const d = v - q * radix;
      digits[p * m + k] = d;
      count[p * radix + d]!++;
      v = q;
    }
  }
  let spare = new Int32Array(m);
  for (let p = 0; p < passes; p++) {
    const c0 = p * radix;
    const d0 = p * m;
    for (let d = 0, sum = 0; d < radix; d++) {
      const c = count[c0 + d]!;
      count[c0 + d] = sum;
      sum += c;
    }
    for (let k = 0; k < m; k++) {
      const x = order[k]!;
      spare[count[c0 + digits[d0 + x]!]!++] = x;
    }
    [order, spare] = [spare, order];
  }
  return order;
}

/** Rounds shares to whole nanoseconds summing exactly to `total` (largest remainder). */
function roundToTotal(shares: Map<string, number>, total: number): Record<string, Nanos> {
  const entries = [...shares].map(([k, v]) => ({ k, floor: Math.floor(v), rest: v - Math.floor(v) }));
  let left = total - entries.reduce((sum, x) => sum + x.floor, 0);
  entries.sort((a, b) => b.rest - a.rest || (a.k < b.k ? -1 : 1));
  const out: Record<string, Nanos> = {};
  for (const x of entries) {
    let v = x.floor;
    if (left > 0) (v++, left--);
    out[x.k] = v as Nanos;
  }
  // Float drift (far below a nanosecond per share) can leave a remainder: the largest share absorbs it.
  if (left !== 0 && entries.length) {
    const big = entries.reduce((a, b) => (out[a.k]! >= out[b.k]! ? a : b));
    out[big.k] = (out[big.k]! + left) as Nanos;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1))) as Record<string, Nanos>;
}

function grow(a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const t = new Float64Array(a.length * 2);
  t.set(a);
  return t;
}
