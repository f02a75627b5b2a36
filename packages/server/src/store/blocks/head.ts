// The head: spans written but not yet in a block, held as columns rather
// than as Span objects (about 150 bytes a span instead of a couple of KB, and
// nothing for the garbage collector to trace). write() does the dictionary
// work here, on each request, so a flush only permutes and compresses.
//
//   row r: trace ordinal, span id (hi, lo), parent (hi, lo; 0 = root), start
//   (ns after `base`, exact below 2^53), duration, service, name, kind,
//   status, status message, trace state, flags, resource, scope, shape and
//   the offset of its attribute value ids; events, links and dropped counts
//   (rare) in a side map; rows whose times do not fit a double exactly
//   ("odd" rows) keep exact bigints on the side and take a slow path.

import type { KeyValue, Span, SpanEvent, SpanLink } from '@ariadne/model';
import type { NormalizedQuery, SummarySpan } from '../query.js';
import { spanMatches } from '../query.js';
import { hexVal, toHex } from './bytes.js';
import type { ShapeNode } from './dict.js';
import { ObjectTable, Shapes, StringDict, ValueDict, resourceKey, scopeKey } from './dict.js';
import type { ValueDictSnapshot } from './dict.js';
import { VType, textProbe, valueMatches } from './values.js';
import type { InstrumentationScope, Resource } from '@ariadne/model';
import { Staged } from './staged.js';
import { BytesTable } from './bytes-table.js';

const SAFE = 2 ** 53;

export interface RowExtras {
  events: SpanEvent[];
  links: SpanLink[];
  droppedAttributes: number;
  droppedEvents: number;
  droppedLinks: number;
}

export interface OddTimes {
  start: bigint;
  end: bigint;
}

// Columns live on SharedArrayBuffers: a flush hands them to the encoder's
// worker thread without copying, and the head stays readable meanwhile.
const u32 = (n: number) => new Uint32Array(new SharedArrayBuffer(n * 4));
const i32 = (n: number) => new Int32Array(new SharedArrayBuffer(n * 4));
const f64 = (n: number) => new Float64Array(new SharedArrayBuffer(n * 8));
const u8 = (n: number) => new Uint8Array(new SharedArrayBuffer(n));

/** Parses 8 hex characters at `at` into an unsigned 32-bit number. */
function hex8(s: string, at: number): number {
  let v = 0;
  for (let i = at; i < at + 8; i++) v = (v << 4) | hexVal(s.charCodeAt(i));
  return v >>> 0;
}

function hex32(v: number): string {
  return v.toString(16).padStart(8, '0');
}

export interface HeadSnapshot {
  rows: number;
  live: number;
  traceCount: number;
  traceWords: Uint32Array;
  traceFirst: Int32Array;
  next: Int32Array;
  spanHi: Uint32Array;
  spanLo: Uint32Array;
  parentHi: Uint32Array;
  parentLo: Uint32Array;
  start: Float64Array;
  dur: Float64Array;
  service: Uint32Array;
  name: Uint32Array;
  kind: Uint8Array;
  status: Uint8Array;
  statusMsg: Uint32Array;
  traceState: Uint32Array;
  flags: Uint32Array;
  resource: Uint32Array;
  scope: Uint32Array;
  shape: Uint32Array;
  attrStart: Uint32Array;
  deleted: Uint8Array;
  attrVals: Uint32Array;
  attrCount: number;
  extras: Map<number, RowExtras>;
  odd: Map<number, OddTimes>;
  base: bigint | undefined;
  minStart: number;
  maxStart: number;
  strings: string[];
  dicts: [number, ValueDictSnapshot][];
  shapes: Int32Array[];
  resources: Resource[];
  scopes: InstrumentationScope[];
}

export class Head {
  readonly strings = new StringDict();
  readonly dicts = new Map<number, ValueDict>();
  readonly shapes = new Shapes(this.strings, this.dicts);
  readonly resources = new ObjectTable<Resource>(resourceKey);
  readonly scopes = new ObjectTable<InstrumentationScope>(scopeKey);
  /** the OTLP path's lookups of resources and scopes by their encoded bytes */
  readonly resourceBytes = new BytesTable();
  readonly scopeBytes = new BytesTable();
  /** resource id -> string id of its service name (filled by the OTLP path) */
  readonly resourceService: number[] = [];

  // traces: ids as 4 big-endian words each, found through an open-addressing
  // hash table (typed arrays: nothing for the garbage collector to mark)
  traceCount = 0;
  traceWords!: Uint32Array;
  private traceSlots = new Int32Array(2048).fill(-1);
  private readonly probeWords = new Uint32Array(4);
  private lastTraceId = '';
  private lastTrace = -1;
  private lastWordsTrace = -1;
  traceFirst!: Int32Array;
  traceLast!: Int32Array;
  traceRows!: Uint32Array;
  /** span ids of large traces, for duplicate checks without walking every row */
  private readonly bigTraceSpans = new Map<number, Set<string>>();

  // rows
  rows = 0;
  live = 0;
  private cap = 0;
  trace!: Uint32Array;
  next!: Int32Array;
  spanHi!: Uint32Array;
  spanLo!: Uint32Array;
  parentHi!: Uint32Array;
  parentLo!: Uint32Array;
  start!: Float64Array;
  dur!: Float64Array;
  service!: Uint32Array;
  name!: Uint32Array;
  kind!: Uint8Array;
  status!: Uint8Array;
  statusMsg!: Uint32Array;
  traceState!: Uint32Array;
  flags!: Uint32Array;
  resource!: Uint32Array;
  scope!: Uint32Array;
  shape!: Uint32Array;
  attrStart!: Uint32Array;
  deleted!: Uint8Array;
  attrVals: Uint32Array;
  attrCount = 0;
  readonly extras = new Map<number, RowExtras>();
  readonly odd = new Map<number, OddTimes>();
  /** start of the first span written: row times are offsets from it */
  base: bigint | undefined;
  /** `base` as two unsigned 32-bit halves */
  baseHi = 0;
  baseLo = 0;
  /** where add() and the OTLP path stage a batch before commit() (one at a time: both are synchronous) */
  readonly staging = new Staged();
  minStart = Infinity;
  maxStart = -Infinity;
  /** service string id -> name string id * 256 + kind: what services() and operations() list */
  readonly ops = new Map<number, Set<number>>();
  /** the highest WAL LSN written into this head (writes tagged with one), for durableLsn() */
  maxLsn = 0n;
  /** performance.now() of the first write, for the age-based flush */
  firstWriteAt = Infinity;

  /** `initialRows`: room reserved up front (a store passes its flush size, so the columns never grow). */
  constructor(initialRows = 4096) {
    this.grow(initialRows);
    this.attrVals = u32(Math.max(1024, initialRows * 12));
    const traces = Math.max(1024, initialRows >> 2);
    this.traceWords = u32(traces * 4);
    this.traceFirst = i32(traces);
    this.traceLast = i32(traces);
    this.traceRows = u32(traces);
  }

  private grow(min: number): void {
    let cap = Math.max(this.cap * 2, 1024, min);
    const g = <T extends Uint32Array | Int32Array | Float64Array | Uint8Array>(a: T | undefined, make: (n: number) => T): T => {
      const b = make(cap);
      if (a) b.set(a.subarray(0, this.rows) as never);
      return b;
    };
    this.trace = g(this.trace, u32);
    this.next = g(this.next, i32);
    this.spanHi = g(this.spanHi, u32);
    this.spanLo = g(this.spanLo, u32);
    this.parentHi = g(this.parentHi, u32);
    this.parentLo = g(this.parentLo, u32);
    this.start = g(this.start, f64);
    this.dur = g(this.dur, f64);
    this.service = g(this.service, u32);
    this.name = g(this.name, u32);
    this.kind = g(this.kind, u8);
    this.status = g(this.status, u8);
    this.statusMsg = g(this.statusMsg, u32);
    this.traceState = g(this.traceState, u32);
    this.flags = g(this.flags, u32);
    this.resource = g(this.resource, u32);
    this.scope = g(this.scope, u32);
    this.shape = g(this.shape, u32);
    this.attrStart = g(this.attrStart, (n) => u32(n + 1));
    this.deleted = g(this.deleted, u8);
    this.cap = cap;
  }

  private static slotOf(w: Uint32Array, at: number, mask: number): number {
    return (Math.imul(w[at]! ^ w[at + 1]!, 0x9e3779b1) ^ w[at + 2]! ^ w[at + 3]!) & mask;
  }

  /** The ordinal of a trace id (32 lowercase hex, validated by the store), or -1. */
  findTrace(traceId: string): number {
    if (traceId === this.lastTraceId) return this.lastTrace;
    const w = this.probeWords;
    for (let k = 0; k < 4; k++) w[k] = hex8(traceId, k * 8);
    const t = this.probe(w);
    // ordinals never change, so a found one can be remembered
    if (t >= 0) {
      this.lastTraceId = traceId;
      this.lastTrace = t;
    }
    return t;
  }

  private probe(w: Uint32Array): number {
    const slots = this.traceSlots;
    const mask = slots.length - 1;
    const tw = this.traceWords;
    for (let i = Head.slotOf(w, 0, mask); ; i = (i + 1) & mask) {
      const t = slots[i]!;
      if (t < 0) return -1;
      const at = t * 4;
      if (tw[at] === w[0] && tw[at + 1] === w[1] && tw[at + 2] === w[2] && tw[at + 3] === w[3]) return t;
    }
  }

  /** The ordinal of the trace whose id is the 4 words at `at`, added if new. */
  private traceOrdinalAt(words: Uint32Array, at: number): number {
    const w = this.probeWords;
    w[0] = words[at]!;
    w[1] = words[at + 1]!;
    w[2] = words[at + 2]!;
    w[3] = words[at + 3]!;
    const tw = this.traceWords;
    let t = this.lastWordsTrace;
    if (t >= 0 && tw[t * 4] === w[0] && tw[t * 4 + 1] === w[1] && tw[t * 4 + 2] === w[2] && tw[t * 4 + 3] === w[3]) return t;
    t = this.probe(w);
    if (t < 0) {
      t = this.traceCount++;
      if (t >= this.traceFirst.length) {
        const n = this.traceFirst.length * 2;
        const f = i32(n);
        f.set(this.traceFirst);
        const l = i32(n);
        l.set(this.traceLast);
        const c = u32(n);
        c.set(this.traceRows);
        const nw = u32(n * 4);
        nw.set(this.traceWords);
        this.traceFirst = f;
        this.traceLast = l;
        this.traceRows = c;
        this.traceWords = nw;
      }
      this.traceWords.set(w, t * 4);
      this.traceFirst[t] = -1;
      this.traceLast[t] = -1;
      this.traceRows[t] = 0;
      if (this.traceCount * 2 > this.traceSlots.length) this.rehash();
      else this.insertSlot(t);
    }
    this.lastWordsTrace = t;
    return t;
  }

  private insertSlot(t: number): void {
    const slots = this.traceSlots;
    const mask = slots.length - 1;
    let i = Head.slotOf(this.traceWords, t * 4, mask);
    while (slots[i]! >= 0) i = (i + 1) & mask;
    slots[i] = t;
  }

  private rehash(): void {
    this.traceSlots = new Int32Array(this.traceSlots.length * 2).fill(-1);
    for (let t = 0; t < this.traceCount; t++) this.insertSlot(t);
  }

  traceIdOf(t: number): string {
    const w = this.traceWords;
    return hex32(w[t * 4]!) + hex32(w[t * 4 + 1]!) + hex32(w[t * 4 + 2]!) + hex32(w[t * 4 + 3]!);
  }

  /** True when the trace already holds this span id. */
  private holds(t: number, hi: number, lo: number): boolean {
    const n = this.traceRows[t]!;
    if (n === 0) return false;
    if (n > 32) {
      const spanId = hex32(hi) + hex32(lo);
      let set = this.bigTraceSpans.get(t);
      if (!set) {
        set = new Set();
        for (let r = this.traceFirst[t]!; r >= 0; r = this.next[r]!) set.add(hex32(this.spanHi[r]!) + hex32(this.spanLo[r]!));
        this.bigTraceSpans.set(t, set);
      }
      if (set.has(spanId)) return true;
      set.add(spanId);
      return false;
    }
    for (let r = this.traceFirst[t]!; r >= 0; r = this.next[r]!) if (this.spanHi[r] === hi && this.spanLo[r] === lo) return true;
    return false;
  }

  /** Appends valid spans (the store validates); a span whose (trace, span id) is already here is skipped. Returns rows added. */
  add(spans: readonly Span[]): number {
    const st = this.staging;
    st.reset();
    for (let i = 0; i < spans.length; i++) this.stageSpan(spans[i]!, st);
    return this.commit(st);
  }

  /** The start of the first span written, as a bigint and as the two halves the OTLP path computes offsets from. */
  setBase(start: bigint): void {
    this.base = start;
    this.baseHi = Number(start >> 32n);
    this.baseLo = Number(start & 0xffffffffn);
  }

  /** Phase one for a Span object: its row values, dictionary ids and attribute value ids into `st`. */
  private stageSpan(s: Span, st: Staged): void {
    const i = st.push();
    const tw = st.traceWords;
    const sid = s.spanId;
    const tid = s.traceId;
    for (let k = 0; k < 4; k++) tw[i * 4 + k] = hex8(tid, k * 8);
    st.spanHi[i] = hex8(sid, 0);
    st.spanLo[i] = hex8(sid, 8);
    const p = s.parentSpanId;
    if (p.length === 16) {
      st.parentHi[i] = hex8(p, 0);
      st.parentLo[i] = hex8(p, 8);
    } else {
      st.parentHi[i] = 0;
      st.parentLo[i] = 0;
    }
    if (this.base === undefined) this.setBase(s.startTimeUnixNano);
    const off = Number(s.startTimeUnixNano - this.base!);
    const dur = Number(s.endTimeUnixNano - s.startTimeUnixNano);
    st.start[i] = off;
    st.dur[i] = dur;
    if (!(off > -SAFE && off < SAFE && dur > -SAFE && dur < SAFE)) st.odd.set(i, { start: s.startTimeUnixNano, end: s.endTimeUnixNano });
    st.service[i] = this.strings.id(s.service);
    st.name[i] = this.strings.id(s.name);
    st.kind[i] = s.kind;
    st.status[i] = s.status.code;
    st.statusMsg[i] = s.status.message === '' ? 0 : this.strings.id(s.status.message) + 1;
    st.traceState[i] = s.traceState === '' ? 0 : this.strings.id(s.traceState) + 1;
    st.flags[i] = s.flags;
    st.resource[i] = this.resources.id(s.resource);
    st.scope[i] = this.scopes.id(s.scope);
    // attributes: walk the shape trie, one value id per attribute
    const attrs = s.attributes;
    const n = attrs.length;
    st.ensureAttrs(n);
    let node: ShapeNode = this.shapes.root;
    for (let k = 0; k < n; k++) {
      const kv = attrs[k]!;
      const v = kv.value;
      const vt: VType =
        v.stringValue !== undefined ? VType.STRING
        : v.intValue !== undefined ? (intIsCanonical(v.intValue) ? VType.INT : VType.INT_TEXT)
        : v.boolValue !== undefined ? VType.BOOL
        : v.doubleValue !== undefined ? VType.DOUBLE
        : v.bytesValue !== undefined ? VType.BYTES
        : v.arrayValue !== undefined ? VType.ARRAY
        : v.kvlistValue !== undefined ? VType.KVLIST
        : VType.EMPTY;
      node = this.shapes.child(node, kv.key, vt);
      st.attrVals[st.attrCount++] = node.dict!.id(v);
    }
    st.shape[i] = node.id;
    st.attrStart[i + 1] = st.attrCount;
    if (s.events.length !== 0 || s.links.length !== 0 || s.droppedAttributesCount !== 0 || s.droppedEventsCount !== 0 || s.droppedLinksCount !== 0) {
      st.extras.set(i, {
        events: s.events,
        links: s.links,
        droppedAttributes: s.droppedAttributesCount,
        droppedEvents: s.droppedEventsCount,
        droppedLinks: s.droppedLinksCount,
      });
    }
  }

  /**
   * Phase two: appends the staged spans as rows, skipping a (trace, span id)
   * already here. Cannot fail, so a batch that staged whole is added whole.
   * Returns rows added.
   */
  commit(st: Staged): number {
    let added = 0;
    let lastSvc = -1;
    let lastOp = -1;
    if (st.count === 0) return 0;
    if (this.rows === 0) this.firstWriteAt = performance.now();
    if (this.attrCount + st.attrCount > this.attrVals.length) {
      let size = this.attrVals.length * 2;
      while (size < this.attrCount + st.attrCount) size *= 2;
      const a = u32(size);
      a.set(this.attrVals.subarray(0, this.attrCount));
      this.attrVals = a;
    }
    for (let i = 0; i < st.count; i++) {
      const t = this.traceOrdinalAt(st.traceWords, i * 4);
      const hi = st.spanHi[i]!;
      const lo = st.spanLo[i]!;
      if (this.holds(t, hi, lo)) continue;
      if (this.rows >= this.cap) this.grow(this.rows + 1);
      const r = this.rows++;
      this.live++;
      added++;
      this.trace[r] = t;
      this.next[r] = -1;
      if (this.traceLast[t]! >= 0) this.next[this.traceLast[t]!] = r;
      else this.traceFirst[t] = r;
      this.traceLast[t] = r;
      this.traceRows[t]!++;
      this.spanHi[r] = hi;
      this.spanLo[r] = lo;
      this.parentHi[r] = st.parentHi[i]!;
      this.parentLo[r] = st.parentLo[i]!;
      const off = st.start[i]!;
      this.start[r] = off;
      this.dur[r] = st.dur[i]!;
      const odd = st.odd.size === 0 ? undefined : st.odd.get(i);
      if (odd) this.odd.set(r, odd);
      else {
        if (off < this.minStart) this.minStart = off;
        if (off > this.maxStart) this.maxStart = off;
      }
      const svc = (this.service[r] = st.service[i]!);
      this.name[r] = st.name[i]!;
      const kind = (this.kind[r] = st.kind[i]!);
      const op = st.name[i]! * 256 + kind;
      if (svc !== lastSvc || op !== lastOp) {
        let set = this.ops.get(svc);
        if (!set) this.ops.set(svc, (set = new Set()));
        set.add(op);
        lastSvc = svc;
        lastOp = op;
      }
      this.status[r] = st.status[i]!;
      this.statusMsg[r] = st.statusMsg[i]!;
      this.traceState[r] = st.traceState[i]!;
      this.flags[r] = st.flags[i]!;
      this.resource[r] = st.resource[i]!;
      this.scope[r] = st.scope[i]!;
      this.deleted[r] = 0;
      this.shape[r] = st.shape[i]!;
      const a0 = st.attrStart[i]!;
      const a1 = st.attrStart[i + 1]!;
      this.attrStart[r] = this.attrCount;
      for (let a = a0; a < a1; a++) this.attrVals[this.attrCount++] = st.attrVals[a]!;
      this.attrStart[r + 1] = this.attrCount;
      if (st.extras.size !== 0) {
        const x = st.extras.get(i);
        if (x) this.extras.set(r, x);
      }
    }
    return added;
  }

  /** How many blocks this head makes: one per 2^52 ns epoch its spans touch (one, in practice). */
  blockCount(): number {
    if (this.live === 0) return 0;
    if (this.odd.size === 0 && this.maxStart - this.minStart < 2 ** 52) return 1;
    const epochs = new Set<bigint>();
    for (let r = 0; r < this.rows; r++) if (!this.deleted[r]) epochs.add(this.startOf(r) >> 52n);
    return epochs.size;
  }

  /** Everything the encoder reads, as structured-clonable data for a worker thread. */
  toSnapshot(): HeadSnapshot {
    return {
      rows: this.rows,
      live: this.live,
      traceCount: this.traceCount,
      traceWords: this.traceWords,
      traceFirst: this.traceFirst,
      next: this.next,
      spanHi: this.spanHi,
      spanLo: this.spanLo,
      parentHi: this.parentHi,
      parentLo: this.parentLo,
      start: this.start,
      dur: this.dur,
      service: this.service,
      name: this.name,
      kind: this.kind,
      status: this.status,
      statusMsg: this.statusMsg,
      traceState: this.traceState,
      flags: this.flags,
      resource: this.resource,
      scope: this.scope,
      shape: this.shape,
      attrStart: this.attrStart,
      deleted: this.deleted,
      attrVals: this.attrVals,
      attrCount: this.attrCount,
      extras: this.extras,
      odd: this.odd,
      base: this.base,
      minStart: this.minStart,
      maxStart: this.maxStart,
      strings: this.strings.values,
      dicts: [...this.dicts].map(([code, d]) => [code, d.toSnapshot()]),
      shapes: this.shapes.list,
      resources: this.resources.values,
      scopes: this.scopes.values,
    };
  }

  /** A head to encode, from a snapshot (read-only: add() is not possible on it). */
  static fromSnapshot(s: HeadSnapshot): Head {
    const h = new Head(1);
    Object.assign(h, {
      rows: s.rows,
      live: s.live,
      traceCount: s.traceCount,
      traceWords: s.traceWords,
      traceFirst: s.traceFirst,
      next: s.next,
      spanHi: s.spanHi,
      spanLo: s.spanLo,
      parentHi: s.parentHi,
      parentLo: s.parentLo,
      start: s.start,
      dur: s.dur,
      service: s.service,
      name: s.name,
      kind: s.kind,
      status: s.status,
      statusMsg: s.statusMsg,
      traceState: s.traceState,
      flags: s.flags,
      resource: s.resource,
      scope: s.scope,
      shape: s.shape,
      attrStart: s.attrStart,
      deleted: s.deleted,
      attrVals: s.attrVals,
      attrCount: s.attrCount,
      base: s.base,
      minStart: s.minStart,
      maxStart: s.maxStart,
    });
    for (const [k, v] of s.extras) h.extras.set(k, v);
    for (const [k, v] of s.odd) h.odd.set(k, v);
    h.strings.values.push(...s.strings);
    for (const [code, d] of s.dicts) h.dicts.set(code, ValueDict.fromSnapshot(d));
    h.shapes.list.length = 0;
    h.shapes.list.push(...s.shapes);
    h.resources.values.push(...s.resources);
    h.scopes.values.push(...s.scopes);
    return h;
  }

  // --- reading rows ---------------------------------------------------------------

  startOf(r: number): bigint {
    const o = this.odd.get(r);
    return o ? o.start : this.base! + BigInt(this.start[r]!);
  }

  endOf(r: number): bigint {
    const o = this.odd.get(r);
    return o ? o.end : this.startOf(r) + BigInt(this.dur[r]!);
  }

  spanIdOf(r: number): string {
    return hex32(this.spanHi[r]!) + hex32(this.spanLo[r]!);
  }

  parentOf(r: number): string {
    const hi = this.parentHi[r]!;
    const lo = this.parentLo[r]!;
    return hi === 0 && lo === 0 ? '' : hex32(hi) + hex32(lo);
  }

  attributesOf(r: number): KeyValue[] {
    const flat = this.shapes.list[this.shape[r]!]!;
    const at = this.attrStart[r]!;
    const out: KeyValue[] = new Array(flat.length >> 1);
    for (let i = 0; i < flat.length; i += 2) {
      const dict = this.dicts.get(flat[i]! * 16 + flat[i + 1]!)!;
      out[i >> 1] = { key: this.strings.values[flat[i]!]!, value: dict.value(this.attrVals[at + (i >> 1)]!) };
    }
    return out;
  }

  /** The row as the Span it was written as. */
  span(r: number): Span {
    const x = this.extras.get(r);
    const start = this.startOf(r);
    const o = this.odd.get(r);
    const msg = this.statusMsg[r]!;
    const ts = this.traceState[r]!;
    return {
      traceId: this.traceIdOf(this.trace[r]!),
      spanId: this.spanIdOf(r),
      parentSpanId: this.parentOf(r),
      traceState: ts === 0 ? '' : this.strings.values[ts - 1]!,
      flags: this.flags[r]!,
      name: this.strings.values[this.name[r]!]!,
      kind: this.kind[r]! as Span['kind'],
      startTimeUnixNano: start,
      endTimeUnixNano: o ? o.end : start + BigInt(this.dur[r]!),
      attributes: this.attributesOf(r),
      droppedAttributesCount: x?.droppedAttributes ?? 0,
      events: x?.events ?? [],
      droppedEventsCount: x?.droppedEvents ?? 0,
      links: x?.links ?? [],
      droppedLinksCount: x?.droppedLinks ?? 0,
      status: { code: this.status[r]! as Span['status']['code'], message: msg === 0 ? '' : this.strings.values[msg - 1]! },
      resource: this.resources.values[this.resource[r]!]!,
      scope: this.scopes.values[this.scope[r]!]!,
      service: this.strings.values[this.service[r]!]!,
    };
  }

  /** Live rows of a trace, in arrival order. */
  rowsOf(traceId: string): number[] {
    const t = this.findTrace(traceId);
    if (t < 0) return [];
    const out: number[] = [];
    for (let r = this.traceFirst[t]!; r >= 0; r = this.next[r]!) if (!this.deleted[r]) out.push(r);
    return out;
  }

  /** What summarizeTrace needs of each live span of a trace. */
  summarySpans(traceId: string): SummarySpan[] {
    return this.rowsOf(traceId).map((r) => ({
      spanId: this.spanIdOf(r),
      parentSpanId: this.parentOf(r),
      service: this.strings.values[this.service[r]!]!,
      name: this.strings.values[this.name[r]!]!,
      startTimeUnixNano: this.startOf(r),
      endTimeUnixNano: this.endOf(r),
      statusCode: this.status[r]!,
    }));
  }

  getTrace(traceId: string): Span[] {
    return this.rowsOf(traceId).map((r) => this.span(r));
  }

  /** Marks rows that started before the cutoff as deleted; returns how many. */
  deleteBefore(cutoff: bigint): number {
    if (this.base === undefined) return 0;
    const off = Number(cutoff - this.base);
    let n = 0;
    for (let r = 0; r < this.rows; r++) {
      if (this.deleted[r]) continue;
      const o = this.odd.get(r);
      if (o ? o.start < cutoff : this.start[r]! < off) {
        this.deleted[r] = 1;
        n++;
      }
    }
    this.live -= n;
    return n;
  }

  // --- search -------------------------------------------------------------------------

  /**
   * For every trace with a live span matching the query: the trace ordinal
   * and the start offset of its newest matching span (odd rows report theirs
   * through `oddNewest` as exact bigints).
   */
  search(q: NormalizedQuery, found: (traceId: string, newest: bigint) => void): void {
    if (q.empty || this.live === 0 || this.base === undefined) return;
    const sv = q.service === undefined ? -1 : this.strings.get(q.service);
    const nm = q.operation === undefined ? -1 : this.strings.get(q.operation);
    const fastPossible = sv !== undefined && nm !== undefined;
    const status = q.status ?? -1;
    const lo = q.startUnixNano === undefined ? -Infinity : Number(q.startUnixNano - this.base);
    const hi = q.endUnixNano === undefined ? Infinity : Number(q.endUnixNano - this.base);
    const dmin = q.minDurationNanos === undefined ? -Infinity : Number(q.minDurationNanos);
    const dmax = q.maxDurationNanos === undefined ? Infinity : Number(q.maxDurationNanos);
    const attrs = fastPossible ? q.attributes.map((a) => this.attributeCondition(a.key, a.value)) : [];
    const newest = new Float64Array(this.traceCount).fill(-Infinity);
    const oddNewest = new Map<number, bigint>();
    for (let r = 0; r < this.rows; r++) {
      if (this.deleted[r]) continue;
      if (this.odd.size !== 0 && this.odd.has(r)) {
        if (spanMatches(this.span(r), q)) {
          const t = this.trace[r]!;
          const s = this.odd.get(r)!.start;
          const prev = oddNewest.get(t);
          if (prev === undefined || s > prev) oddNewest.set(t, s);
        }
        continue;
      }
      if (!fastPossible) continue;
      if (sv >= 0 && this.service[r] !== sv) continue;
      if (nm >= 0 && this.name[r] !== nm) continue;
      if (status >= 0 && this.status[r] !== status) continue;
      const st = this.start[r]!;
      if (st < lo || st > hi) continue;
      let d = this.dur[r]!;
      if (d < 0) d = 0;
      if (d < dmin || d > dmax) continue;
      let ok = true;
      for (let a = 0; a < attrs.length && ok; a++) ok = attrs[a]!(r);
      if (!ok) continue;
      const t = this.trace[r]!;
      if (st > newest[t]!) newest[t] = st;
    }
    for (let t = 0; t < newest.length; t++) {
      const odd = oddNewest.get(t);
      if (newest[t] === -Infinity && odd === undefined) continue;
      let s = newest[t] === -Infinity ? undefined : this.base + BigInt(newest[t]!);
      if (odd !== undefined && (s === undefined || odd > s)) s = odd;
      found(this.traceIdOf(t), s!);
    }
  }

  /** A row predicate for `key = value` on the span's or its resource's attributes. */
  private attributeCondition(key: string, value: string): (r: number) => boolean {
    const probe = textProbe(value);
    const resourceOk = this.resources.values.map((res) => res.attributes.some((kv) => kv.key === key && valueMatches(kv.value, probe)));
    const keyId = this.strings.get(key);
    // per shape: attribute positions whose (key, type) could match, with the accepted value ids
    const accepted = new Map<number, Set<number>>();
    if (keyId !== undefined) {
      for (let vt = 0; vt < 9; vt++) {
        const dict = this.dicts.get(keyId * 16 + vt);
        if (!dict) continue;
        const ids = matchingIds(dict, probe);
        if (ids.size) accepted.set(vt, ids);
      }
    }
    const perShape: (Int32Array | null)[] = [];
    const positionsOf = (shape: number): Int32Array | null => {
      let p = perShape[shape];
      if (p !== undefined) return p;
      const flat = this.shapes.list[shape]!;
      const pos: number[] = [];
      for (let i = 0; i < flat.length; i += 2) if (flat[i] === keyId && accepted.has(flat[i + 1]!)) pos.push(i >> 1, flat[i + 1]!);
      p = pos.length ? Int32Array.from(pos) : null;
      perShape[shape] = p;
      return p;
    };
    return (r) => {
      if (resourceOk[this.resource[r]!]) return true;
      if (accepted.size === 0) return false;
      const pos = positionsOf(this.shape[r]!);
      if (!pos) return false;
      const at = this.attrStart[r]!;
      for (let i = 0; i < pos.length; i += 2) if (accepted.get(pos[i + 1]!)!.has(this.attrVals[at + pos[i]!]!)) return true;
      return false;
    };
  }
}

const CANONICAL_INT = /^(0|-?[1-9][0-9]{0,18})$/;
function intIsCanonical(text: string): boolean {
  if (text.length < 19) return CANONICAL_INT.test(text);
  if (!CANONICAL_INT.test(text)) return false;
  const v = BigInt(text);
  return v >= -(2n ** 63n) && v < 2n ** 63n;
}

/** Value ids of a head dictionary whose text form is `probe.text`. */
export function matchingIds(dict: ValueDict, probe: ReturnType<typeof textProbe>): Set<number> {
  const out = new Set<number>();
  const add = (ids: number[]) => {
    for (const id of ids) out.add(id);
  };
  switch (dict.vtype) {
    case VType.STRING:
    case VType.BYTES:
    case VType.INT_TEXT:
      add(dict.lookupAll(probe.text));
      break;
    case VType.INT:
      if (probe.int !== undefined) add(dict.lookupAll(probe.int));
      break;
    case VType.BOOL:
      if (probe.bool >= 0) out.add(probe.bool);
      break;
    case VType.DOUBLE:
      if (probe.double !== undefined) {
        add(dict.lookupAll(probe.double));
        if (probe.double === 0) add(dict.lookupAll(-0));
      }
      break;
    default:
      for (let id = 0; id < dict.size; id++) if (valueMatches(dict.value(id), probe)) out.add(id);
  }
  return out;
}

export { hex32 };
export { toHex };
