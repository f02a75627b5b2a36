// RED metrics over blocks without reading their spans: every block carries,
// per (service, name, kind), the count, errors, sum of durations and a
// log-linear duration histogram (128 buckets per power of two). A block
// wholly inside the time range contributes those; a block the range cuts,
// and the head, contribute their rows. Quantiles then come from the merged
// histogram: the midpoint of the bucket holding the nearest-rank value, at
// most 1/256 (0.4%) away from the exact value, and exact below 256 ns.
// `exact: true` reads every row instead and answers exactly (slower).
// The query is TraceStore's optional `red` (store/types.ts).

import type { Nanos, RedMetrics } from '@ariadne/model';
import { StatusCode, exactQuantiles } from '@ariadne/model';
import type { RedQuery } from '../types.js';
import type { Block } from './block.js';
import type { Head } from './head.js';

const SUB = 128;
export const HIST_BUCKETS = 1 + 65 * SUB;

const F64 = new Float64Array(1);
const WORDS = new Uint32Array(F64.buffer);
/** the word holding sign, exponent and top of the mantissa */
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** Histogram bucket of a duration in ns (below 1, negative included, counts as 0): the exponent and top 7 mantissa bits of the double. */
export function bucketOf(d: number): number {
  if (!(d >= 1)) return 0;
  F64[0] = d;
  const hi = WORDS[HI]!;
  return 1 + ((hi >>> 20) - 1023) * SUB + ((hi >>> 13) & 127);
}

/** The value a bucket stands for: exact below 128, else the bucket's midpoint. */
export function bucketValue(b: number): number {
  if (b === 0) return 0;
  const e = Math.floor((b - 1) / SUB);
  const sub = (b - 1) % SUB;
  const lo = 2 ** e * (1 + sub / SUB);
  if (e <= 7) return lo; // buckets of one integer or less: exact
  const width = 2 ** (e - 7);
  return Math.round(lo + (width - 1) / 2);
}

interface Group {
  service: string;
  operation: string;
  count: number;
  errors: number;
  sum: number;
  hist: Float64Array | undefined;
  values: number[] | undefined;
}

class Groups {
  readonly map = new Map<string, Group>();
  constructor(
    private readonly byOperation: boolean,
    private readonly exact: boolean,
  ) {}

  get(service: string, operation: string): Group {
    const op = this.byOperation ? operation : '';
    const key = service + '\0' + op;
    let g = this.map.get(key);
    if (!g) {
      g = { service, operation: op, count: 0, errors: 0, sum: 0, hist: this.exact ? undefined : new Float64Array(HIST_BUCKETS), values: this.exact ? [] : undefined };
      this.map.set(key, g);
    }
    return g;
  }
}

function add(g: Group, d: number, error: boolean): void {
  if (d < 0) d = 0;
  g.count++;
  g.sum += d;
  if (error) g.errors++;
  if (g.hist) g.hist[bucketOf(d)]!++;
  else g.values!.push(d);
}

function quantilesOf(g: Group): number[] {
  if (g.values) return exactQuantiles(Float64Array.from(g.values), [0.5, 0.95, 0.99]);
  const h = g.hist!;
  return [0.5, 0.95, 0.99].map((q) => {
    const rank = Math.min(g.count, Math.max(1, Math.ceil(q * g.count - 1e-9)));
    let seen = 0;
    for (let b = 0; b < h.length; b++) {
      seen += h[b]!;
      if (seen >= rank) return bucketValue(b);
    }
    return NaN;
  });
}

export async function redMetricsOf(blocks: readonly Block[], heads: readonly Head[], q: RedQuery): Promise<RedMetrics[]> {
  const groups = new Groups(q.groupBy === 'operation', q.exact === true);
  const kinds = q.kinds ? new Set(q.kinds) : undefined;
  let minSeen: bigint | undefined;
  let maxSeen: bigint | undefined;
  const seen = (lo: bigint, hi: bigint) => {
    if (minSeen === undefined || lo < minSeen) minSeen = lo;
    if (maxSeen === undefined || hi > maxSeen) maxSeen = hi;
  };
  for (const b of blocks) {
    const m = b.meta;
    const svc = q.service === undefined ? -1 : b.stringId(q.service);
    const name = q.operation === undefined ? -1 : b.stringId(q.operation);
    if (svc === undefined || name === undefined) continue;
    let lo = q.startUnixNano === undefined ? -Infinity : Number(q.startUnixNano - m.base);
    const hi = q.endUnixNano === undefined ? Infinity : Number(q.endUnixNano - m.base);
    if (b.watermark > lo) lo = b.watermark;
    if (hi < m.minStart || lo > m.maxStart) continue;
    seen(m.base + BigInt(Math.max(m.minStart, lo)), m.base + BigInt(Math.min(m.maxStart, hi)));
    if (!q.exact && lo <= m.minStart && hi >= m.maxStart) {
      for (const o of m.ops) {
        if ((svc >= 0 && o.service !== svc) || (name >= 0 && o.name !== name) || (kinds && !kinds.has(o.kind))) continue;
        const g = groups.get(m.strings[o.service]!, m.strings[o.name]!);
        g.count += o.count;
        g.errors += o.errors;
        g.sum += o.sumDur;
        for (let j = 0; j < o.hist.length; j += 2) g.hist![o.hist[j]!]! += o.hist[j + 1]!;
      }
      continue;
    }
    const cache = new Map<number, Group>();
    for (let pi = 0; pi < m.pages.length; pi++) {
      const p = m.pages[pi]!;
      if (p.maxStart < lo || p.minStart > hi) continue;
      const c = await b.scanColumns(pi, ['service', 'name', 'kind', 'status', 'start', 'dur']);
      for (let i = 0; i < p.rows; i++) {
        const st = c.start![i]!;
        if (st < lo || st > hi) continue;
        const s = c.service![i]!;
        const nm = c.name![i]!;
        if ((svc >= 0 && s !== svc) || (name >= 0 && nm !== name) || (kinds && !kinds.has(c.kind![i]!))) continue;
        const key = s * 2 ** 26 + nm;
        let g = cache.get(key);
        if (!g) cache.set(key, (g = groups.get(m.strings[s]!, m.strings[nm]!)));
        const big = c.bigDur!.size ? c.bigDur!.get(i) : undefined;
        add(g, big !== undefined ? Number(big) : c.dur![i]!, c.status![i] === StatusCode.ERROR);
      }
    }
  }
  for (const h of heads) {
    if (h.live === 0) continue;
    const sv = q.service === undefined ? -1 : h.strings.get(q.service);
    const nm = q.operation === undefined ? -1 : h.strings.get(q.operation);
    if (sv === undefined || nm === undefined) continue;
    for (let r = 0; r < h.rows; r++) {
      if (h.deleted[r]) continue;
      if ((sv >= 0 && h.service[r] !== sv) || (nm >= 0 && h.name[r] !== nm) || (kinds && !kinds.has(h.kind[r]!))) continue;
      const start = h.startOf(r);
      if ((q.startUnixNano !== undefined && start < q.startUnixNano) || (q.endUnixNano !== undefined && start > q.endUnixNano)) continue;
      seen(start, start);
      const g = groups.get(h.strings.values[h.service[r]!]!, h.strings.values[h.name[r]!]!);
      const d = h.odd.size && h.odd.has(r) ? Number(h.endOf(r) - start) : h.dur[r]!;
      add(g, d, h.status[r] === StatusCode.ERROR);
    }
  }
  const start = q.startUnixNano ?? minSeen;
  const end = q.endUnixNano ?? maxSeen;
  const windowNanos = start !== undefined && end !== undefined && end > start ? Number(end - start) : 1;
  const seconds = windowNanos / 1e9;
  const out: RedMetrics[] = [];
  for (const g of groups.map.values()) {
    if (g.count === 0) continue;
    const [p50, p95, p99] = quantilesOf(g);
    const row: RedMetrics = {
      service: g.service,
      count: g.count,
      errorCount: g.errors,
      rate: g.count / seconds,
      errorRate: g.errors / g.count,
      p50Nanos: p50 as Nanos,
      p95Nanos: p95 as Nanos,
      p99Nanos: p99 as Nanos,
      avgNanos: Math.round(g.sum / g.count) as Nanos,
    };
    if (q.groupBy === 'operation') row.operation = g.operation;
    out.push(row);
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return out.sort((a, b) => cmp(a.service, b.service) || cmp(a.operation ?? '', b.operation ?? ''));
}
