// Search over blocks: the query compiled once per block (strings to
// dictionary ids, times to offsets from the block's base, attribute values
// to matching dictionary ids), pages skipped by their time range and by the
// top-k floor, then conditions evaluated column by column on the rest.
// Semantics are store/query.ts's: every condition on the same span.

import type { NormalizedQuery, SummarySpan } from '../query.js';
import type { Block, ScanColumn } from './block.js';
import type { TopTraces } from './top.js';
import type { TextProbe } from './values.js';
import { textProbe, valueMatches } from './values.js';
import { toHex } from './bytes.js';

interface AttrCondition {
  keyId: number | undefined;
  probe: TextProbe;
  /** per resource id: its attributes hold key = value */
  resourceOk: Uint8Array;
  /** pages that can hold a matching row, when the column's page index says (and no resource matches) */
  pages: Set<number> | undefined;
}

interface BlockQuery {
  service: number;
  name: number;
  status: number;
  lo: number;
  hi: number;
  dmin: number;
  dmax: number;
  attrs: AttrCondition[];
}

/** The query in this block's terms, or undefined when no row of it can match. */
function compile(block: Block, q: NormalizedQuery): BlockQuery | undefined {
  const m = block.meta;
  let service = -1;
  let name = -1;
  if (q.service !== undefined) {
    const id = block.stringId(q.service);
    if (id === undefined) return undefined;
    service = id;
  }
  if (q.operation !== undefined) {
    const id = block.stringId(q.operation);
    if (id === undefined) return undefined;
    name = id;
  }
  if (service >= 0 || name >= 0) {
    if (!m.ops.some((o) => (service < 0 || o.service === service) && (name < 0 || o.name === name))) return undefined;
  }
  let lo = q.startUnixNano === undefined ? -Infinity : Number(q.startUnixNano - m.base);
  const hi = q.endUnixNano === undefined ? Infinity : Number(q.endUnixNano - m.base);
  if (block.watermark > lo) lo = block.watermark;
  if (hi < m.minStart || lo > m.maxStart) return undefined;
  const attrs: AttrCondition[] = [];
  for (const { key, value } of q.attributes) {
    const probe = textProbe(value);
    const resourceOk = Uint8Array.from(m.resources, (r) => (r.attributes.some((kv) => kv.key === key && valueMatches(kv.value, probe)) ? 1 : 0));
    const keyId = block.stringId(key);
    const col = keyId === undefined ? undefined : block.columnOfKey.get(keyId);
    const anyResource = resourceOk.includes(1);
    if (col === undefined && !anyResource) return undefined;
    let pages: Set<number> | undefined;
    const pi = col === undefined ? undefined : m.attrColumns[col]!.pageIndex;
    if (pi && !anyResource) {
      pages = new Set();
      for (const id of block.acceptedIds(col!, probe)) for (let i = pi.offsets[id]!; i < pi.offsets[id + 1]!; i++) pages.add(pi.pages[i]!);
      if (pages.size === 0) return undefined;
    }
    attrs.push({ keyId: col === undefined ? undefined : keyId, probe, resourceOk, pages });
  }
  return {
    service,
    name,
    status: q.status ?? -1,
    lo,
    hi,
    dmin: q.minDurationNanos === undefined ? -Infinity : Number(q.minDurationNanos),
    dmax: q.maxDurationNanos === undefined ? Infinity : Number(q.maxDurationNanos),
    attrs,
  };
}

/** The trace ordinal holding a row. */
function traceOfRow(block: Block, row: number): number {
  const tr = block.meta.traceRows;
  let lo = 0;
  let hi = tr.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (tr[mid]! <= row) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Offers every trace of the block with a matching span to `top`, with its newest matching start. */
export async function searchBlock(block: Block, q: NormalizedQuery, top: TopTraces): Promise<void> {
  const bq = compile(block, q);
  if (!bq) return;
  const m = block.meta;
  const want: ScanColumn[] = ['start'];
  if (bq.service >= 0) want.push('service');
  if (bq.name >= 0) want.push('name');
  if (bq.status >= 0) want.push('status');
  const durations = bq.dmin !== -Infinity || bq.dmax !== Infinity;
  if (durations) want.push('dur');
  if (bq.attrs.length) want.push('resource');
  const tr = m.traceRows;
  let floor = top.floorFor(m.base);
  for (let pi = 0; pi < m.pages.length; pi++) {
    const p = m.pages[pi]!;
    if (p.maxStart < bq.lo || p.minStart > bq.hi || p.maxStart < floor) continue;
    if (bq.attrs.some((a) => a.pages !== undefined && !a.pages.has(pi))) continue;
    const c = await block.scanColumns(pi, want);
    const masks: (Uint8Array | undefined)[] = [];
    for (const a of bq.attrs) masks.push(a.keyId === undefined ? undefined : await block.attributeRows(pi, a.keyId, a.probe));
    const start = c.start!;
    const lo = Math.max(bq.lo, floor);
    let t = traceOfRow(block, p.firstRow);
    let tEnd = tr[t + 1]! - p.firstRow;
    let best = -Infinity;
    for (let i = 0; i < p.rows; i++) {
      if (i >= tEnd) {
        if (best !== -Infinity && best >= floor) {
          top.offer(block.traceIdOf(t), m.base + BigInt(best));
          floor = top.floorFor(m.base);
        }
        best = -Infinity;
        t++;
        tEnd = tr[t + 1]! - p.firstRow;
      }
      const st = start[i]!;
      if (st < lo || st > bq.hi || st <= best) continue;
      if (bq.service >= 0 && c.service![i] !== bq.service) continue;
      if (bq.name >= 0 && c.name![i] !== bq.name) continue;
      if (bq.status >= 0 && c.status![i] !== bq.status) continue;
      if (durations) {
        const big = c.bigDur!.size ? c.bigDur!.get(i) : undefined;
        if (big !== undefined) {
          const d = big < 0n ? 0n : big;
          if ((q.minDurationNanos !== undefined && d < q.minDurationNanos) || (q.maxDurationNanos !== undefined && d > q.maxDurationNanos)) continue;
        } else {
          let d = c.dur![i]!;
          if (d < 0) d = 0;
          if (d < bq.dmin || d > bq.dmax) continue;
        }
      }
      let ok = true;
      for (let a = 0; a < bq.attrs.length && ok; a++) {
        const mask = masks[a];
        ok = bq.attrs[a]!.resourceOk[c.resource![i]!] === 1 || (mask !== undefined && mask[i] === 1);
      }
      if (!ok) continue;
      best = st;
    }
    if (best !== -Infinity && best >= floor) {
      top.offer(block.traceIdOf(t), m.base + BigInt(best));
      floor = top.floorFor(m.base);
    }
  }
}

const SUMMARY_COLUMNS: ScanColumn[] = ['service', 'name', 'start', 'dur', 'status', 'root'];

/**
 * What summarizeTrace needs of each visible span of trace ordinal t. The
 * parent is only told apart as root ('') or not ('-'): the summary needs no
 * more, and the parent's id would cost a page decode.
 */
export async function blockSummarySpans(block: Block, t: number): Promise<SummarySpan[]> {
  const m = block.meta;
  const a = m.traceRows[t]!;
  const b = m.traceRows[t + 1]!;
  const out: SummarySpan[] = [];
  for (let pi = block.pageOf(a); pi < m.pages.length && m.pages[pi]!.firstRow < b; pi++) {
    const p = m.pages[pi]!;
    const c = await block.scanColumns(pi, SUMMARY_COLUMNS);
    const ids = await block.spanIds(pi);
    const from = Math.max(a, p.firstRow) - p.firstRow;
    const to = Math.min(b, p.firstRow + p.rows) - p.firstRow;
    for (let i = from; i < to; i++) {
      const off = c.start![i]!;
      if (off < block.watermark) continue;
      const start = m.base + BigInt(off);
      const big = c.bigDur!.size ? c.bigDur!.get(i) : undefined;
      out.push({
        spanId: toHex(ids, i * 8, 8),
        parentSpanId: c.root![i] ? '' : '-',
        service: m.strings[c.service![i]!]!,
        name: m.strings[c.name![i]!]!,
        startTimeUnixNano: start,
        endTimeUnixNano: start + (big ?? BigInt(c.dur![i]!)),
        statusCode: c.status![i]!,
      });
    }
  }
  return out;
}
