// Head -> block: sorts the head's live rows by trace id, start and span id,
// cuts them into pages of whole traces, writes each column of each page, and
// compresses every chunk (async: on the threadpool) while the next page is
// encoded. The encoder yields to the event loop between pages, so a flush
// never holds it for more than a few milliseconds.

import type { AnyValue, SpanEvent, SpanLink } from '@ariadne/model';
import { ByteWriter, isLowerHex } from './bytes.js';
import type { CompressOptions } from './codec.js';
import { compress, compressChunks } from './codec.js';
import type { AttrColumn, BlockMeta, ChunkRef, OpStats, PageIndex, PageMeta } from './format.js';
import { AttrMode, Codec, Col, HEADER_BYTES, checksum, encodeMeta, writeHeader, writeTrailer } from './format.js';
import type { Head } from './head.js';
import type { ValueDict } from './dict.js';
import { HIST_BUCKETS, bucketOf } from './red.js';
import { ArrayDict, VType, writeIntText, writeKeyValues, writePayload } from './values.js';

export const FORMAT_VERSION = 1;
const TWO52 = 2 ** 52;
const TWO51 = 2 ** 51;

export interface EncodeOptions {
  /** rows a page aims at (pages end at a trace boundary past this) */
  pageRows: number;
  compression: CompressOptions;
  /** footer compression */
  footerCompression: CompressOptions;
  /** names of blocks this one replaces (compaction) */
  replaces?: string[];
  /** called every thousand rows or so; the encoder awaits what it returns */
  pause?: () => Promise<void> | undefined;
  /** compresses a page's chunks (undefined where it does not pay); default: the shared compression worker */
  compressPage?: (chunks: Uint8Array[], o: CompressOptions) => Promise<(Uint8Array | undefined)[]>;
}

export interface EncodedBlock {
  parts: Uint8Array[];
  size: number;
  meta: BlockMeta;
}

/** Rows of one block: head rows in block order, with exact start offsets from `base`. */
interface Partition {
  rows: Uint32Array;
  /** start offset of rows[i] from base */
  offs: Float64Array;
  /** duration of rows[i]; exact unless in `bigDur` */
  durs: Float64Array;
  bigDur: Map<number, bigint>;
  base: bigint;
  /** positions where traces start, plus the end */
  traceStarts: number[];
  traceOrds: number[];
}

/** Trace ordinals in trace id order. */
function sortTraces(head: Head): Uint32Array {
  const w = head.traceWords;
  const n = head.traceCount;
  const out = new Uint32Array(n);
  const cmp = (a: number, b: number) => {
    for (let i = 0; i < 4; i++) if (w[a * 4 + i] !== w[b * 4 + i]) return w[a * 4 + i]! - w[b * 4 + i]!;
    return 0;
  };
  if (n < 2 ** 21) {
    // first word and ordinal in one exactly representable double
    const keys = new Float64Array(n);
    for (let t = 0; t < n; t++) keys[t] = w[t * 4]! * 2 ** 21 + t;
    keys.sort();
    for (let i = 0; i < n; i++) out[i] = keys[i]! % 2 ** 21;
    // equal first words: order the run by the whole id
    for (let i = 0; i < n; ) {
      const hi = w[out[i]! * 4]!;
      let j = i + 1;
      while (j < n && w[out[j]! * 4] === hi) j++;
      if (j - i > 1) out.set(Array.from(out.subarray(i, j)).sort(cmp), i);
      i = j;
    }
  } else {
    out.set(Array.from({ length: n }, (_, t) => t).sort(cmp));
  }
  return out;
}

function compareRows(head: Head, a: number, b: number): number {
  const sa = head.odd.size !== 0 && (head.odd.has(a) || head.odd.has(b)) ? undefined : head.start[a]! - head.start[b]!;
  if (sa === undefined) {
    const x = head.startOf(a);
    const y = head.startOf(b);
    if (x !== y) return x < y ? -1 : 1;
  } else if (sa !== 0) return sa;
  if (head.spanHi[a] !== head.spanHi[b]) return head.spanHi[a]! - head.spanHi[b]!;
  return head.spanLo[a]! - head.spanLo[b]!;
}

/** Live rows in block order, split so no block spans 2^52 ns. */
async function partition(head: Head, pause?: () => Promise<void> | undefined): Promise<Partition[]> {
  const order = sortTraces(head);
  const rows = new Uint32Array(head.live);
  const traceStarts: number[] = [];
  const traceOrds: number[] = [];
  let n = 0;
  const tmp: number[] = [];
  for (let i = 0; i < order.length; i++) {
    if ((i & 1023) === 1023) {
      const p = pause?.();
      if (p) await p;
    }
    const t = order[i]!;
    tmp.length = 0;
    for (let r = head.traceFirst[t]!; r >= 0; r = head.next[r]!) if (!head.deleted[r]) tmp.push(r);
    if (tmp.length === 0) continue;
    if (tmp.length > 1) {
      // usually already in order, or nearly: insertion sort, a real sort for big traces
      if (tmp.length <= 64) {
        for (let a = 1; a < tmp.length; a++) {
          const x = tmp[a]!;
          let b = a - 1;
          while (b >= 0 && compareRows(head, tmp[b]!, x) > 0) {
            tmp[b + 1] = tmp[b]!;
            b--;
          }
          tmp[b + 1] = x;
        }
      } else tmp.sort((a, b) => compareRows(head, a, b));
    }
    traceStarts.push(n);
    traceOrds.push(t);
    for (const r of tmp) rows[n++] = r;
  }
  traceStarts.push(n);
  const simple = head.odd.size === 0 && head.maxStart - head.minStart < TWO52;
  if (simple) {
    const min = head.minStart;
    const offs = new Float64Array(n);
    const durs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      offs[i] = head.start[rows[i]!]! - min;
      durs[i] = head.dur[rows[i]!]!;
    }
    return [{ rows, offs, durs, bigDur: new Map(), base: head.base! + BigInt(min), traceStarts, traceOrds }];
  }
  // Slow path (times far apart, or beyond what a double holds): group rows by
  // 2^52 ns epoch, each group a block of its own.
  const groups = new Map<bigint, { rows: number[]; starts: bigint[]; traceStarts: number[]; traceOrds: number[]; lastTrace: number }>();
  for (let k = 0; k < traceOrds.length; k++) {
    for (let i = traceStarts[k]!; i < traceStarts[k + 1]!; i++) {
      const r = rows[i]!;
      const s = head.startOf(r);
      const e = s >> 52n;
      let g = groups.get(e);
      if (!g) groups.set(e, (g = { rows: [], starts: [], traceStarts: [], traceOrds: [], lastTrace: -1 }));
      if (g.lastTrace !== k) {
        g.traceStarts.push(g.rows.length);
        g.traceOrds.push(traceOrds[k]!);
        g.lastTrace = k;
      }
      g.rows.push(r);
      g.starts.push(s);
    }
  }
  const out: Partition[] = [];
  for (const g of [...groups.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, g]) => g)) {
    let base = g.starts[0]!;
    for (const s of g.starts) if (s < base) base = s;
    const m = g.rows.length;
    const offs = new Float64Array(m);
    const durs = new Float64Array(m);
    const bigDur = new Map<number, bigint>();
    for (let i = 0; i < m; i++) {
      offs[i] = Number(g.starts[i]! - base);
      const d = head.endOf(g.rows[i]!) - g.starts[i]!;
      durs[i] = Number(d);
      if (d >= 2n ** 52n || d <= -(2n ** 52n)) bigDur.set(i, d);
    }
    g.traceStarts.push(m);
    out.push({ rows: Uint32Array.from(g.rows), offs, durs, bigDur, base, traceStarts: g.traceStarts, traceOrds: g.traceOrds });
  }
  return out;
}

/** How each attribute key is stored in this block. */
interface KeyPlan {
  column: number;
  mode: AttrMode;
  /** DICT: head value id + offset[vtype] = block dictionary id */
  offsets: Int32Array;
  doubleExp: number;
  hex: boolean;
}

const MISC_MAX_ENTRIES = 64;

function planAttributes(head: Head, p: Partition): { plans: Map<number, KeyPlan>; columns: (AttrColumn & { doubleExp: number; hex: boolean })[] } {
  // entries per key: rows per shape times the key's slots in the shape
  const perShape = new Uint32Array(head.shapes.list.length);
  for (let i = 0; i < p.rows.length; i++) perShape[head.shape[p.rows[i]!]!]!++;
  const entries = new Map<number, number>();
  for (let s = 0; s < perShape.length; s++) {
    if (!perShape[s]) continue;
    const flat = head.shapes.list[s]!;
    for (let i = 0; i < flat.length; i += 2) entries.set(flat[i]!, (entries.get(flat[i]!) ?? 0) + perShape[s]!);
  }
  const plans = new Map<number, KeyPlan>();
  const columns: (AttrColumn & { doubleExp: number; hex: boolean })[] = [];
  let misc: (AttrColumn & { doubleExp: number; hex: boolean }) | undefined;
  for (const [keyId, n] of [...entries].sort((a, b) => a[0] - b[0])) {
    const dicts: (ValueDict | undefined)[] = [];
    let distinct = 0;
    for (let vt = 0; vt < 9; vt++) {
      const d = head.dicts.get(keyId * 16 + vt);
      dicts.push(d);
      if (d) distinct += d.size;
    }
    if (n < MISC_MAX_ENTRIES && n * 64 < p.rows.length) {
      if (!misc) {
        misc = { mode: AttrMode.MISC, keys: [], dict: new ArrayDict(), doubleExp: 255, hex: false };
        columns.push(misc);
      }
      misc.keys.push(keyId);
      plans.set(keyId, { column: columns.indexOf(misc), mode: AttrMode.MISC, offsets: new Int32Array(9), doubleExp: 255, hex: false });
      continue;
    }
    const dictMode = !dicts.some((d) => d?.plain) && (distinct <= 256 || distinct * 3 <= n);
    const offsets = new Int32Array(9);
    const values: AnyValue[] = [];
    const column: AttrColumn & { doubleExp: number; hex: boolean } = { mode: dictMode ? AttrMode.DICT : AttrMode.PLAIN, keys: [keyId], dict: new ArrayDict(values), doubleExp: 255, hex: false };
    if (dictMode) {
      for (let vt = 0; vt < 9; vt++) {
        const d = dicts[vt];
        offsets[vt] = values.length;
        if (d) for (let id = 0; id < d.size; id++) values.push(d.value(id));
      }
    } else {
      const dd = dicts[VType.DOUBLE];
      if (dd) column.doubleExp = chooseExponent(dd.sampleDoubles());
      const sd = dicts[VType.STRING];
      if (sd?.plain) column.hex = sd.hex;
      else if (sd) {
        const sample = sd.sampleStrings();
        column.hex = sample.length > 0 && sample.filter(isLowerHex).length * 10 >= sample.length * 9;
      }
    }
    plans.set(keyId, { column: columns.length, mode: column.mode, offsets, doubleExp: column.doubleExp, hex: column.hex });
    columns.push(column);
  }
  return { plans, columns };
}

const POW10 = [1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8];

/** The smallest decimal exponent that holds most sampled doubles exactly as scaled integers; 255 for none. */
function chooseExponent(values: readonly number[]): number {
  const m = Math.min(values.length, 64);
  if (m === 0) return 255;
  for (let e = 0; e < POW10.length; e++) {
    let ok = 0;
    for (let i = 0; i < m; i++) if (scaled(values[i]!, POW10[e]!) !== undefined) ok++;
    if (ok * 10 >= m * 9) return e;
  }
  return 255;
}

/** x as an integer m with m / p === x exactly, if there is one small enough. */
function scaled(x: number, p: number): number | undefined {
  const m = Math.round(x * p);
  if (!(m < TWO51 && m > -TWO51)) return undefined;
  const back = (m === 0 ? 0 : m) / p;
  return Object.is(back, x) ? m : undefined;
}

function writeDoubleEntry(w: ByteWriter, x: number, exp: number): void {
  if (exp === 255) {
    w.f64(x);
    return;
  }
  const m = scaled(x, POW10[exp]!);
  if (m === undefined) {
    w.u8(1);
    w.f64(x);
  } else {
    w.uvar((m < 0 ? -2 * m - 1 : 2 * m) * 2);
  }
}

function writeStringEntry(w: ByteWriter, s: string, hex: boolean): void {
  if (!hex) {
    w.str(s);
  } else if (!w.tryHex(s)) {
    w.u8(0);
    w.str(s);
  }
}

/** A value whose type the shape gives, in PLAIN/MISC form. */
function writePlainEntry(w: ByteWriter, vt: number, dict: ValueDict, id: number, plan: KeyPlan): void {
  if (id >= dict.plainFrom) {
    if (vt === VType.DOUBLE) writeDoubleEntry(w, dict.plainDouble(id), plan.doubleExp);
    else w.bytes(dict.plainBytes(id));
    return;
  }
  const x = dict.values[id];
  switch (vt) {
    case VType.EMPTY:
      return;
    case VType.STRING:
      writeStringEntry(w, x as string, plan.hex);
      return;
    case VType.BOOL:
      w.u8(x ? 1 : 0);
      return;
    case VType.INT:
      writeIntText(w, x as string);
      return;
    case VType.INT_TEXT:
    case VType.BYTES:
      w.str(x as string);
      return;
    case VType.DOUBLE:
      writeDoubleEntry(w, x as number, plan.doubleExp);
      return;
    default:
      writePayload(w, vt as VType, x as AnyValue);
  }
}

function writeSignedBig(w: ByteWriter, v: bigint): void {
  if (v < 2n ** 51n && v > -(2n ** 51n)) w.svar(Number(v));
  else w.svarBig(v);
}

function writeExtra(w: ByteWriter, x: { events: SpanEvent[]; links: SpanLink[]; droppedAttributes: number; droppedEvents: number; droppedLinks: number }, start: bigint): void {
  const e = new ByteWriter(256);
  e.uvar(x.droppedAttributes);
  e.uvar(x.droppedEvents);
  e.uvar(x.droppedLinks);
  e.uvar(x.events.length);
  for (const ev of x.events) {
    writeSignedBig(e, ev.timeUnixNano - start);
    e.str(ev.name);
    e.uvar(ev.droppedAttributesCount);
    writeKeyValues(e, ev.attributes);
  }
  e.uvar(x.links.length);
  for (const l of x.links) {
    writeId(e, l.traceId, 32);
    writeId(e, l.spanId, 16);
    e.str(l.traceState);
    e.uvar(l.flags);
    e.uvar(l.droppedAttributesCount);
    writeKeyValues(e, l.attributes);
  }
  const b = e.finish();
  w.uvar(b.length);
  w.bytes(b);
}

/** An id of the usual length as bytes (tag 1), anything else as text (tag 0). */
function writeId(w: ByteWriter, id: string, len: number): void {
  if (id.length === len && isLowerHex(id)) {
    w.u8(1);
    w.hex(id);
  } else {
    w.u8(0);
    w.str(id);
  }
}

const FIXED_COLUMNS = Col.ATTR_BASE;

class GrowableU32 {
  a = new Uint32Array(256);
  n = 0;
  push(x: number, y: number): void {
    if (this.n + 2 > this.a.length) {
      const b = new Uint32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = x;
    this.a[this.n++] = y;
  }
}

/** (value, page) pairs, pages ascending per value as they were seen, to per-value page lists. */
function pageIndexOf(values: number, pairs: GrowableU32): PageIndex {
  const offsets = new Uint32Array(values + 1);
  for (let i = 0; i < pairs.n; i += 2) offsets[pairs.a[i]! + 1]!++;
  for (let v = 0; v < values; v++) offsets[v + 1]! += offsets[v]!;
  const pages = new Uint32Array(pairs.n / 2);
  const at = offsets.slice(0, values);
  for (let i = 0; i < pairs.n; i += 2) pages[at[pairs.a[i]!]!++] = pairs.a[i + 1]!;
  return { offsets, pages };
}

/** Encodes the head's live rows as one block per 2^52 ns epoch (one block, in practice). */
export async function encodeHead(head: Head, opts: EncodeOptions): Promise<EncodedBlock[]> {
  if (head.live === 0) return [];
  const out: EncodedBlock[] = [];
  const parts = await partition(head, opts.pause);
  for (const p of parts) {
    const pause = opts.pause?.();
    if (pause) await pause;
    out.push(await encodePartition(head, p, opts));
  }
  return out;
}

async function encodePartition(head: Head, p: Partition, opts: EncodeOptions): Promise<EncodedBlock> {
  const { plans, columns } = planAttributes(head, p);
  const shapes = head.shapes.list;
  // per shape: the plan of each slot, resolved once
  const slotPlans: (KeyPlan[] | undefined)[] = new Array(shapes.length);
  const slotDicts: (ValueDict[] | undefined)[] = new Array(shapes.length);
  const ncols = FIXED_COLUMNS + columns.length;
  const writers: ByteWriter[] = Array.from({ length: ncols }, () => new ByteWriter(4096));
  const n = p.rows.length;
  const traces = p.traceOrds.length;
  const traceIds = new Uint8Array(traces * 16);
  const traceRows = new Uint32Array(traces + 1);
  const tv = new DataView(traceIds.buffer);
  for (let k = 0; k < traces; k++) {
    const at = p.traceOrds[k]! * 4;
    for (let i = 0; i < 4; i++) tv.setUint32(k * 16 + i * 4, head.traceWords[at + i]!, false);
    traceRows[k + 1] = p.traceStarts[k + 1]!;
  }
  const pages: { meta: Omit<PageMeta, 'offset' | 'length' | 'chunks'>; chunks: Promise<{ col: number; data: Uint8Array; raw: number; codec: Codec }[]> }[] = [];
  const opsByService = new Map<number, Map<number, OpStats & { buckets: Uint32Array }>>();
  let minStart = Infinity;
  let maxStart = -Infinity;
  const spanHi = head.spanHi;
  const spanLo = head.spanLo;
  // parent lookup within a trace: span id (hi) -> index in the trace
  const inTrace = new Map<number, number>();
  // DICT columns: the last page each value was seen on, and (value, page) pairs
  const lastPage = columns.map((c) => (c.mode === AttrMode.DICT ? new Int32Array(c.dict.length).fill(-1) : new Int32Array(0)));
  const pairs = columns.map(() => new GrowableU32());
  let pageNo = -1;

  let k = 0; // trace index
  let i = 0; // row position
  while (i < n) {
    // one page: whole traces up to pageRows (a giant trace is cut at 4x)
    const first = i;
    let pageEnd = i;
    while (k < traces && pageEnd - first < opts.pageRows) {
      pageEnd = p.traceStarts[k + 1]!;
      k++;
    }
    if (pageEnd - first > opts.pageRows * 4) {
      pageEnd = first + opts.pageRows * 4;
      // the trace continues on the next page: step k back to it
      k--;
      while (p.traceStarts[k]! > pageEnd) k--;
    }
    for (const w of writers) w.reset();
    pageNo++;
    let pMin = Infinity;
    let pMax = -Infinity;
    let prevOff = 0;
    // the trace of position `first`
    let tk = k;
    while (p.traceStarts[tk]! > first) tk--;
    let traceStart = -1;
    let traceEnd = -1;
    for (let pos = first; pos < pageEnd; pos++) {
      if ((pos - first) % 1024 === 1023) {
        const pz = opts.pause?.();
        if (pz) await pz;
      }
      if (pos === p.traceStarts[tk + 1]) tk++;
      if (p.traceStarts[tk] !== traceStart) {
        traceStart = p.traceStarts[tk]!;
        traceEnd = p.traceStarts[tk + 1]!;
        if (traceEnd - traceStart > 16) {
          inTrace.clear();
          for (let j = traceStart; j < traceEnd; j++) {
            const hi = spanHi[p.rows[j]!]!;
            inTrace.set(hi, inTrace.has(hi) ? -1 : j - traceStart);
          }
        }
      }
      const r = p.rows[pos]!;
      // SPAN_ID
      const ws = writers[Col.SPAN_ID]!;
      ws.u32be(spanHi[r]!);
      ws.u32be(spanLo[r]!);
      // PARENT
      const ph = head.parentHi[r]!;
      const pl = head.parentLo[r]!;
      if (ph === 0 && pl === 0) writers[Col.PARENT]!.u8(0);
      else {
        // the parent's position in the trace, when the trace holds it
        let j = -1;
        if (traceEnd - traceStart <= 16) {
          for (let x = traceStart; x < traceEnd; x++) {
            const q = p.rows[x]!;
            if (spanHi[q] === ph && spanLo[q] === pl) {
              j = x - traceStart;
              break;
            }
          }
        } else {
          const h = inTrace.get(ph);
          if (h !== undefined && h >= 0 && spanLo[p.rows[traceStart + h]!] === pl) j = h;
          else if (h === -1) {
            for (let x = traceStart; x < traceEnd; x++) {
              const q = p.rows[x]!;
              if (spanHi[q] === ph && spanLo[q] === pl) {
                j = x - traceStart;
                break;
              }
            }
          }
        }
        if (j >= 0) writers[Col.PARENT]!.uvarSmall(j + 2);
        else {
          writers[Col.PARENT]!.u8(1);
          const wr = writers[Col.PARENT_RAW]!;
          wr.u32be(ph);
          wr.u32be(pl);
        }
      }
      // START, DURATION
      const off = p.offs[pos]!;
      if (pos === first) writers[Col.START]!.uvar(off);
      else writers[Col.START]!.svar(off - prevOff);
      prevOff = off;
      if (off < pMin) pMin = off;
      if (off > pMax) pMax = off;
      const big = p.bigDur.size ? p.bigDur.get(pos) : undefined;
      if (big !== undefined) writers[Col.DURATION]!.svarBig(big);
      else writers[Col.DURATION]!.svar(p.durs[pos]!);
      // the rest of the fixed columns
      const service = head.service[r]!;
      const name = head.name[r]!;
      const kind = head.kind[r]!;
      const status = head.status[r]!;
      writers[Col.SERVICE]!.uvarSmall(service);
      writers[Col.NAME]!.uvarSmall(name);
      writers[Col.KIND]!.u8(kind);
      writers[Col.STATUS]!.u8(status);
      writers[Col.STATUS_MSG]!.uvarSmall(head.statusMsg[r]!);
      writers[Col.TRACE_STATE]!.uvarSmall(head.traceState[r]!);
      writers[Col.FLAGS]!.uvar(head.flags[r]!);
      writers[Col.RESOURCE]!.uvarSmall(head.resource[r]!);
      writers[Col.SCOPE]!.uvarSmall(head.scope[r]!);
      const shape = head.shape[r]!;
      writers[Col.SHAPE]!.uvarSmall(shape);
      const x = head.extras.size ? head.extras.get(r) : undefined;
      if (x) writeExtra(writers[Col.EXTRA]!, x, head.startOf(r));
      else writers[Col.EXTRA]!.u8(0);
      // attributes
      let sp = slotPlans[shape];
      let sd = slotDicts[shape];
      if (!sp) {
        const flat = shapes[shape]!;
        sp = [];
        sd = [];
        for (let s = 0; s < flat.length; s += 2) {
          sp.push(plans.get(flat[s]!)!);
          sd.push(head.dicts.get(flat[s]! * 16 + flat[s + 1]!)!);
        }
        slotPlans[shape] = sp;
        slotDicts[shape] = sd;
      }
      const at = head.attrStart[r]!;
      for (let s = 0; s < sp.length; s++) {
        const plan: KeyPlan = sp[s]!;
        const dict = sd![s]!;
        const w = writers[FIXED_COLUMNS + plan.column]!;
        const id = head.attrVals[at + s]!;
        if (plan.mode === AttrMode.DICT) {
          const bid = plan.offsets[dict.vtype]! + id;
          w.uvarSmall(bid);
          const seen = lastPage[plan.column]!;
          if (seen[bid] !== pageNo) {
            seen[bid] = pageNo;
            pairs[plan.column]!.push(bid, pageNo);
          }
        }
        else writePlainEntry(w, dict.vtype, dict, id, plan);
      }
      // per-operation stats
      let byName = opsByService.get(service);
      if (!byName) opsByService.set(service, (byName = new Map()));
      const opKey = name * 256 + kind;
      let op = byName.get(opKey);
      if (!op) byName.set(opKey, (op = { service, name, kind, count: 0, errors: 0, sumDur: 0, minStart: off, maxStart: off, hist: new Uint32Array(0), buckets: new Uint32Array(HIST_BUCKETS) }));
      op.count++;
      if (status === 2) op.errors++;
      const d = big !== undefined ? Number(big) : p.durs[pos]!;
      if (d > 0) op.sumDur += d;
      op.buckets[bucketOf(d)]!++;
      if (off < op.minStart) op.minStart = off;
      if (off > op.maxStart) op.maxStart = off;
    }
    if (pMin < minStart) minStart = pMin;
    if (pMax > maxStart) maxStart = pMax;
    // SPAN_ID and PARENT_RAW are random bytes: stored as they are
    const raws: { col: number; data: Uint8Array }[] = [];
    for (let c = 0; c < ncols; c++) {
      const w = writers[c]!;
      if (w.pos !== 0) raws.push({ col: c, data: w.buf.slice(0, w.pos) });
    }
    const toCompress = opts.compression.codec === Codec.NONE ? [] : raws.filter((x) => x.col !== Col.SPAN_ID && x.col !== Col.PARENT_RAW);
    const compressed = toCompress.length ? (opts.compressPage ?? compressChunks)(toCompress.map((x) => x.data), opts.compression) : Promise.resolve([]);
    const chunks = compressed.then((zs) => {
      const byCol = new Map<number, Uint8Array | undefined>();
      toCompress.forEach((x, i) => byCol.set(x.col, zs[i]));
      return raws.map(({ col, data }) => {
        const z = byCol.get(col);
        return z ? { col, data: z, raw: data.length, codec: opts.compression.codec } : { col, data, raw: data.length, codec: Codec.NONE as Codec };
      });
    });
    // Keep a failure from going unobserved while later pages encode.
    chunks.catch(() => {});
    pages.push({ meta: { firstRow: first, rows: pageEnd - first, minStart: pMin, maxStart: pMax }, chunks });
    i = pageEnd;
    const pause = opts.pause?.();
    if (pause) await pause;
  }

  // lay out the file
  const parts: Uint8Array[] = [writeHeader(FORMAT_VERSION)];
  let offset = HEADER_BYTES;
  const pageMetas: PageMeta[] = [];
  for (const pg of pages) {
    const done = await pg.chunks;
    const chunks: ChunkRef[] = [];
    const pageOffset = offset;
    for (const c of done) {
      chunks.push({ col: c.col, offset, length: c.data.length, rawLength: c.raw, codec: c.codec, crc: checksum(c.data) });
      parts.push(c.data);
      offset += c.data.length;
    }
    pageMetas.push({ ...pg.meta, offset: pageOffset, length: offset - pageOffset, chunks });
  }
  const ops: OpStats[] = [];
  for (const m of opsByService.values()) {
    for (const { buckets, ...o } of m.values()) {
      const pairs: number[] = [];
      for (let b = 0; b < buckets.length; b++) if (buckets[b]) pairs.push(b, buckets[b]!);
      ops.push({ ...o, hist: Uint32Array.from(pairs) });
    }
  }
  columns.forEach((c, i) => {
    if (c.mode === AttrMode.DICT) c.pageIndex = pageIndexOf(c.dict.length, pairs[i]!);
  });
  const meta: BlockMeta = {
    version: FORMAT_VERSION,
    base: p.base,
    rows: n,
    minStart,
    maxStart,
    strings: head.strings.values,
    resources: head.resources.values,
    scopes: head.scopes.values,
    shapes,
    attrColumns: columns,
    traceIds,
    traceRows,
    pages: pageMetas,
    ops,
    replaces: opts.replaces ?? [],
    pageRows: opts.pageRows,
  };
  const rawFooter = encodeMeta(meta);
  const footer = await compress(rawFooter, opts.footerCompression);
  parts.push(footer);
  parts.push(writeTrailer(offset, footer.length, rawFooter.length, checksum(footer), opts.footerCompression.codec));
  offset += footer.length + 32;
  return { parts, size: offset, meta };
}

export { partition as partitionForTest, planAttributes as planForTest };
