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
  const { traceFirst, next, deleted, start, spanHi, spanLo } = head;
  const odd = head.odd.size !== 0;
  const rows = new Uint32Array(head.live);
  const traceStarts: number[] = [];
  const traceOrds: number[] = [];
  let n = 0;
  for (let i = 0; i < order.length; i++) {
    if ((i & 1023) === 1023) {
      const p = pause?.();
      if (p) await p;
    }
    const t = order[i]!;
    const from = n;
    for (let r = traceFirst[t]!; r >= 0; r = next[r]!) if (!deleted[r]) rows[n++] = r;
    if (n === from) continue;
    if (n - from > 64) {
      // a big trace: a real sort (Array's, which is stable)
      rows.set(Array.from(rows.subarray(from, n)).sort((a, b) => compareRows(head, a, b)), from);
    } else {
      // usually already in order, or nearly: insertion sort (compareRows inlined while no row is odd)
      for (let a = from + 1; a < n; a++) {
        const x = rows[a]!;
        let b = a - 1;
        for (; b >= from; b--) {
          const y = rows[b]!;
          if (odd) {
            if (compareRows(head, y, x) <= 0) break;
          } else if (start[y] !== start[x]) {
            if (!(start[y]! - start[x]! > 0)) break;
          } else if (spanHi[y] !== spanHi[x]) {
            if (spanHi[y]! < spanHi[x]!) break;
          } else if (spanLo[y]! <= spanLo[x]!) break;
          rows[b + 1] = y;
        }
        rows[b + 1] = x;
      }
    }
    traceStarts.push(from);
    traceOrds.push(t);
  }
  traceStarts.push(n);
  const simple = head.odd.size === 0 && head.maxStart - head.minStart < TWO52;
  if (simple) {
    const min = head.minStart;
    const dur = head.dur;
    const offs = new Float64Array(n);
    const durs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const r = rows[i]!;
      offs[i] = start[r]! - min;
      durs[i] = dur[r]!;
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
  const { rows } = p;
  const shapeOf = head.shape;
  for (let i = 0; i < rows.length; i++) perShape[shapeOf[rows[i]!]!]!++;
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

/** A head dictionary's values as a PLAIN/MISC column writes them. */
interface PlainSource {
  vtype: number;
  values: unknown[];
  plainFrom: number;
  /** the plain entries (ids from plainFrom), already in column form: string-like entry i is bytes[offsets[i], offsets[i + 1]) */
  bytes: Uint8Array | undefined;
  offsets: Uint32Array | undefined;
  doubles: Float64Array | undefined;
  doubleExp: number;
  hex: boolean;
}

function plainSource(dict: ValueDict, plan: KeyPlan): PlainSource {
  // the snapshot's views of the plain entries: no subarray per entry
  const s = dict.toSnapshot();
  return { vtype: s.vtype, values: s.values, plainFrom: s.plainFrom, bytes: s.bytes, offsets: s.offsets, doubles: s.doubles, doubleExp: plan.doubleExp, hex: plan.hex };
}

/** A value whose type the shape gives, in PLAIN/MISC form (small, to be inlined: most are plain entries). */
function writePlainEntry(w: ByteWriter, src: PlainSource, id: number): void {
  const i = id - src.plainFrom;
  if (i < 0) writeListedEntry(w, src, id);
  else if (src.vtype === VType.DOUBLE) writeDoubleEntry(w, src.doubles![i]!, src.doubleExp);
  else w.copy(src.bytes!, src.offsets![i]!, src.offsets![i + 1]!);
}

/** A value of the dictionary's list (below plainFrom) in PLAIN/MISC form. */
function writeListedEntry(w: ByteWriter, src: PlainSource, id: number): void {
  const vt = src.vtype;
  const x = src.values[id];
  switch (vt) {
    case VType.EMPTY:
      return;
    case VType.STRING:
      writeStringEntry(w, x as string, src.hex);
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
      writeDoubleEntry(w, x as number, src.doubleExp);
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

/** The attribute slots of a shape as this block stores them, resolved on the shape's first row. */
interface ShapeSlots {
  writer: ByteWriter[];
  /** DICT slots: the block dictionary id of head value id 0; -1 for a plain slot */
  base: Int32Array;
  /** DICT slots: the index in `seen` of head value id 0 */
  seen: Int32Array;
  column: Int32Array;
  /** plain slots: their values */
  plain: (PlainSource | undefined)[];
}

type OpAcc = OpStats & { buckets: Uint32Array };

/** Per-operation stats, found by (service, name, kind) in an open-addressing table: one probe a row, usually. */
class OpTable {
  /** in order of first row */
  readonly list: OpAcc[] = [];
  private slots = new Int32Array(64).fill(-1);

  /** The stats of an operation; a new one starts at `off`. */
  get(service: number, name: number, kind: number, off: number): OpAcc {
    const slots = this.slots;
    const mask = slots.length - 1;
    let h = opHash(service, name, kind) & mask;
    for (let i = slots[h]!; i >= 0; i = slots[h]!) {
      const o = this.list[i]!;
      if (o.service === service && o.name === name && o.kind === kind) return o;
      h = (h + 1) & mask;
    }
    const o: OpAcc = { service, name, kind, count: 0, errors: 0, sumDur: 0, minStart: off, maxStart: off, hist: new Uint32Array(0), buckets: new Uint32Array(HIST_BUCKETS) };
    slots[h] = this.list.length;
    this.list.push(o);
    if (this.list.length * 2 > slots.length) this.grow();
    return o;
  }

  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    this.list.forEach((o, i) => {
      let h = opHash(o.service, o.name, o.kind) & mask;
      while (slots[h]! >= 0) h = (h + 1) & mask;
      slots[h] = i;
    });
    this.slots = slots;
  }

  /** The stats grouped by service (services in order of first row), as the format lists them. */
  stats(): OpStats[] {
    const rank = new Map<number, number>();
    for (const o of this.list) if (!rank.has(o.service)) rank.set(o.service, rank.size);
    // a stable sort: operations keep their order within a service
    return [...this.list]
      .sort((a, b) => rank.get(a.service)! - rank.get(b.service)!)
      .map(({ buckets, ...o }) => {
        const pairs: number[] = [];
        for (let b = 0; b < buckets.length; b++) if (buckets[b]) pairs.push(b, buckets[b]!);
        return { ...o, hist: Uint32Array.from(pairs) };
      });
  }
}

function opHash(service: number, name: number, kind: number): number {
  const h = Math.imul(service, 0x9e3779b1) ^ Math.imul(name * 256 + kind, 0x85ebca6b);
  return h ^ (h >>> 15);
}

/** uvarSmall(col[rows[i]]) for each row of [from, to): one column of a run of rows. */
function writeIds(w: ByteWriter, col: Uint32Array, rows: Uint32Array, from: number, to: number): void {
  w.ensure((to - from) * 5);
  const b = w.buf;
  let p = w.pos;
  for (let i = from; i < to; i++) {
    let v = col[rows[i]!]!;
    while (v >= 128) {
      b[p++] = (v & 127) | 128;
      v >>>= 7;
    }
    b[p++] = v;
  }
  w.pos = p;
}

/** Span ids (two big-endian words each) of the rows of [from, to). */
function writeSpanIds(w: ByteWriter, hi: Uint32Array, lo: Uint32Array, rows: Uint32Array, from: number, to: number): void {
  w.ensure((to - from) * 8);
  const b = w.buf;
  let p = w.pos;
  for (let i = from; i < to; i++) {
    const r = rows[i]!;
    const h = hi[r]!;
    const l = lo[r]!;
    b[p] = h >>> 24;
    b[p + 1] = h >>> 16;
    b[p + 2] = h >>> 8;
    b[p + 3] = h;
    b[p + 4] = l >>> 24;
    b[p + 5] = l >>> 16;
    b[p + 6] = l >>> 8;
    b[p + 7] = l;
    p += 8;
  }
  w.pos = p;
}

/** u8(col[rows[i]]) for each row of [from, to). */
function writeBytes(w: ByteWriter, col: Uint8Array, rows: Uint32Array, from: number, to: number): void {
  w.ensure(to - from);
  const b = w.buf;
  let p = w.pos;
  for (let i = from; i < to; i++) b[p++] = col[rows[i]!]!;
  w.pos = p;
}

/** The largest trace whose parents are found by a scan of its span ids. */
const SMALL_TRACE = 16;

/**
 * Writes a partition's rows into column writers, page by page, and gathers
 * what the footer says of them. Synchronous: the caller paces it. Each column
 * (or pair, or the attribute columns together) is written by a pass of its
 * own over a run of rows: short loops that keep what they use in locals, and
 * the simple columns' writer positions too.
 */
class RowWriter {
  readonly writers: ByteWriter[];
  readonly ops = new OpTable();
  /** DICT columns: (value, page) pairs for the page index */
  readonly pairs: GrowableU32[];
  /** DICT columns: the last page each value was seen on (one array, each column from its `seenFrom`) */
  private readonly seen: Int32Array;
  private readonly seenFrom: Int32Array;
  private readonly shapeSlots: (ShapeSlots | undefined)[];
  /** rows with events, links or dropped counts (few), when there are any */
  private readonly extraRows: Uint8Array | undefined;
  private readonly bigDur: Map<number, bigint> | undefined;

  // the page
  private pageNo = -1;
  private first = 0;
  private prevOff = 0;
  pMin = Infinity;
  pMax = -Infinity;

  // parent lookups: the current trace (index tk, rows [traceStart, traceEnd)),
  // as span ids if small, else as span id (hi) -> index (-1: more than one)
  private tk = 0;
  private traceStart = -1;
  private traceEnd = -1;
  private readonly tHi = new Uint32Array(SMALL_TRACE);
  private readonly tLo = new Uint32Array(SMALL_TRACE);
  private readonly inTrace = new Map<number, number>();

  constructor(
    private readonly head: Head,
    private readonly p: Partition,
    private readonly plans: Map<number, KeyPlan>,
    columns: readonly AttrColumn[],
  ) {
    this.writers = Array.from({ length: FIXED_COLUMNS + columns.length }, () => new ByteWriter(4096));
    this.pairs = columns.map(() => new GrowableU32());
    this.seenFrom = new Int32Array(columns.length);
    let seenSize = 0;
    columns.forEach((c, i) => {
      this.seenFrom[i] = seenSize;
      if (c.mode === AttrMode.DICT) seenSize += c.dict.length;
    });
    this.seen = new Int32Array(seenSize).fill(-1);
    this.shapeSlots = new Array(head.shapes.list.length);
    if (head.extras.size !== 0) {
      this.extraRows = new Uint8Array(head.rows);
      for (const r of head.extras.keys()) this.extraRows[r] = 1;
    }
    this.bigDur = p.bigDur.size !== 0 ? p.bigDur : undefined;
  }

  /** Starts a page at row position `first`, in trace `tk`. */
  startPage(first: number, tk: number): void {
    for (const w of this.writers) w.reset();
    this.pageNo++;
    this.first = first;
    this.tk = tk;
    this.traceStart = -1;
    this.traceEnd = -1;
    this.prevOff = 0;
    this.pMin = Infinity;
    this.pMax = -Infinity;
  }

  /** Writes the rows at positions [from, to) of the page. */
  write(from: number, to: number): void {
    const { head, writers } = this;
    const rows = this.p.rows;
    writeSpanIds(writers[Col.SPAN_ID]!, head.spanHi, head.spanLo, rows, from, to);
    this.parents(from, to);
    this.times(from, to);
    writeIds(writers[Col.SERVICE]!, head.service, rows, from, to);
    writeIds(writers[Col.NAME]!, head.name, rows, from, to);
    writeBytes(writers[Col.KIND]!, head.kind, rows, from, to);
    writeBytes(writers[Col.STATUS]!, head.status, rows, from, to);
    writeIds(writers[Col.STATUS_MSG]!, head.statusMsg, rows, from, to);
    writeIds(writers[Col.TRACE_STATE]!, head.traceState, rows, from, to);
    // (flags are 32 bits: their uvar is the same varint)
    writeIds(writers[Col.FLAGS]!, head.flags, rows, from, to);
    writeIds(writers[Col.RESOURCE]!, head.resource, rows, from, to);
    writeIds(writers[Col.SCOPE]!, head.scope, rows, from, to);
    writeIds(writers[Col.SHAPE]!, head.shape, rows, from, to);
    this.extras(from, to);
    this.attributes(from, to);
    this.opStats(from, to);
  }

  /** EXTRA: 0 for none, else the row's events, links and dropped counts. */
  private extras(from: number, to: number): void {
    const w = this.writers[Col.EXTRA]!;
    const extraRows = this.extraRows;
    if (extraRows === undefined) {
      w.ensure(to - from);
      w.buf.fill(0, w.pos, w.pos + to - from);
      w.pos += to - from;
      return;
    }
    const rows = this.p.rows;
    for (let pos = from; pos < to; pos++) {
      const r = rows[pos]!;
      if (extraRows[r] === 1) writeExtra(w, this.head.extras.get(r)!, this.head.startOf(r));
      else w.u8(0);
    }
  }

  /** PARENT: 0 for none, 2 + its position in the trace, or 1 and the id in PARENT_RAW. */
  private parents(from: number, to: number): void {
    const { rows, traceStarts } = this.p;
    const { spanHi, spanLo, parentHi, parentLo } = this.head;
    const { tHi, tLo, inTrace } = this;
    const w = this.writers[Col.PARENT]!;
    const wr = this.writers[Col.PARENT_RAW]!;
    const first = this.first;
    let { tk, traceStart, traceEnd } = this;
    for (let pos = from; pos < to; pos++) {
      // a new trace (or the page's first): index it
      if (pos === traceEnd || pos === first) {
        if (pos !== first) tk++;
        traceStart = traceStarts[tk]!;
        traceEnd = traceStarts[tk + 1]!;
        if (traceEnd - traceStart <= SMALL_TRACE) {
          for (let j = traceStart; j < traceEnd; j++) {
            tHi[j - traceStart] = spanHi[rows[j]!]!;
            tLo[j - traceStart] = spanLo[rows[j]!]!;
          }
        } else {
          inTrace.clear();
          for (let j = traceStart; j < traceEnd; j++) {
            const hi = spanHi[rows[j]!]!;
            inTrace.set(hi, inTrace.has(hi) ? -1 : j - traceStart);
          }
        }
      }
      const r = rows[pos]!;
      const ph = parentHi[r]!;
      const pl = parentLo[r]!;
      if (ph === 0 && pl === 0) {
        w.u8(0);
        continue;
      }
      let j = -1;
      if (traceEnd - traceStart <= SMALL_TRACE) {
        for (let x = 0; x < traceEnd - traceStart; x++) {
          if (tHi[x] === ph && tLo[x] === pl) {
            j = x;
            break;
          }
        }
      } else {
        const h = inTrace.get(ph);
        if (h !== undefined && h >= 0 && spanLo[rows[traceStart + h]!] === pl) j = h;
        else if (h === -1) {
          for (let x = traceStart; x < traceEnd; x++) {
            const q = rows[x]!;
            if (spanHi[q] === ph && spanLo[q] === pl) {
              j = x - traceStart;
              break;
            }
          }
        }
      }
      if (j >= 0) w.uvarSmall(j + 2);
      else {
        w.u8(1);
        wr.u32be(ph);
        wr.u32be(pl);
      }
    }
    this.tk = tk;
    this.traceStart = traceStart;
    this.traceEnd = traceEnd;
  }

  /** START (the page's first as is, then deltas) and DURATION. */
  private times(from: number, to: number): void {
    const { offs, durs } = this.p;
    const ws = this.writers[Col.START]!;
    const wd = this.writers[Col.DURATION]!;
    const { first, bigDur } = this;
    let { prevOff, pMin, pMax } = this;
    for (let pos = from; pos < to; pos++) {
      const off = offs[pos]!;
      if (pos === first) ws.uvar(off);
      else ws.svar(off - prevOff);
      prevOff = off;
      if (off < pMin) pMin = off;
      if (off > pMax) pMax = off;
      const big = bigDur?.get(pos);
      if (big !== undefined) wd.svarBig(big);
      else wd.svar(durs[pos]!);
    }
    this.prevOff = prevOff;
    this.pMin = pMin;
    this.pMax = pMax;
  }

  /** The attribute columns: DICT slots as block dictionary ids (noting each value's first use on the page), the others plain. */
  private attributes(from: number, to: number): void {
    const rows = this.p.rows;
    const { shape: shapeOf, attrStart, attrVals } = this.head;
    const { seen, pageNo, pairs } = this;
    for (let pos = from; pos < to; pos++) {
      const r = rows[pos]!;
      const shape = shapeOf[r]!;
      const sl = this.shapeSlots[shape] ?? (this.shapeSlots[shape] = this.slotsOf(shape));
      const { writer, base, plain } = sl;
      const seenAt = sl.seen;
      const at = attrStart[r]!;
      for (let s = 0; s < writer.length; s++) {
        const id = attrVals[at + s]!;
        const b = base[s]!;
        if (b >= 0) {
          writer[s]!.uvarSmall(b + id);
          const q = seenAt[s]! + id;
          if (seen[q] !== pageNo) {
            seen[q] = pageNo;
            pairs[sl.column[s]!]!.push(b + id, pageNo);
          }
        } else writePlainEntry(writer[s]!, plain[s]!, id);
      }
    }
  }

  private slotsOf(shape: number): ShapeSlots {
    const flat = this.head.shapes.list[shape]!;
    const m = flat.length >> 1;
    const sl: ShapeSlots = { writer: [], base: new Int32Array(m).fill(-1), seen: new Int32Array(m), column: new Int32Array(m), plain: [] };
    for (let s = 0; s < m; s++) {
      const plan = this.plans.get(flat[2 * s]!)!;
      const dict = this.head.dicts.get(flat[2 * s]! * 16 + flat[2 * s + 1]!)!;
      sl.writer.push(this.writers[FIXED_COLUMNS + plan.column]!);
      sl.column[s] = plan.column;
      if (plan.mode === AttrMode.DICT) {
        sl.base[s] = plan.offsets[dict.vtype]!;
        sl.seen[s] = this.seenFrom[plan.column]! + sl.base[s]!;
        sl.plain.push(undefined);
      } else sl.plain.push(plainSource(dict, plan));
    }
    return sl;
  }

  /** Per-operation counts, errors, durations and start range. */
  private opStats(from: number, to: number): void {
    const { rows, offs, durs } = this.p;
    const { service, name, kind, status } = this.head;
    const { ops, bigDur } = this;
    for (let pos = from; pos < to; pos++) {
      const r = rows[pos]!;
      const off = offs[pos]!;
      const op = ops.get(service[r]!, name[r]!, kind[r]!, off);
      op.count++;
      if (status[r] === 2) op.errors++;
      const big = bigDur?.get(pos);
      const d = big !== undefined ? Number(big) : durs[pos]!;
      if (d > 0) op.sumDur += d;
      op.buckets[bucketOf(d)]!++;
      if (off < op.minStart) op.minStart = off;
      if (off > op.maxStart) op.maxStart = off;
    }
  }
}

async function encodePartition(head: Head, p: Partition, opts: EncodeOptions): Promise<EncodedBlock> {
  const { plans, columns } = planAttributes(head, p);
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
  const rw = new RowWriter(head, p, plans, columns);
  const writers = rw.writers;
  let minStart = Infinity;
  let maxStart = -Infinity;

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
    // the trace of position `first`
    let tk = k;
    while (p.traceStarts[tk]! > first) tk--;
    rw.startPage(first, tk);
    for (let from = first; from < pageEnd; from += 1024) {
      if (from !== first) {
        const pz = opts.pause?.();
        if (pz) await pz;
      }
      rw.write(from, Math.min(from + 1024, pageEnd));
    }
    const { pMin, pMax } = rw;
    if (pMin < minStart) minStart = pMin;
    if (pMax > maxStart) maxStart = pMax;
    // SPAN_ID and PARENT_RAW are random bytes: stored as they are
    const raws: { col: number; data: Uint8Array }[] = [];
    for (let c = 0; c < writers.length; c++) {
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
  columns.forEach((c, i) => {
    if (c.mode === AttrMode.DICT) c.pageIndex = pageIndexOf(c.dict.length, rw.pairs[i]!);
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
    shapes: head.shapes.list,
    attrColumns: columns,
    traceIds,
    traceRows,
    pages: pageMetas,
    ops: rw.ops.stats(),
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
