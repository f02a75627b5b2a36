// The array-backed form of one trace that every per-trace analysis walks.
// Built once, O(n log n); no recursion anywhere, so a 10k-deep chain is as
// safe as a 100k-wide fan-out.
//
//   spans[i] ─ parent[i] ──► index of the parent span, -1 for a root
//           ─ start[i], end[i] (ns relative to `base`, exact integers)
//           ─ service[i], resource[i] (small integers), kind[i], async[i]
//   children of i: children[childOffset[i] .. childOffset[i+1])  (by start)
//
// Times are float64 offsets from the earliest start: integers stay exact up
// to 2^53 ns (~104 days), far beyond any trace, and number arithmetic is an
// order of magnitude cheaper than bigint on the hot loops. Every field a
// later step needs is read here, in span order: at 100k spans, reaching into
// a random parent's span object costs more than the arithmetic done with
// what it holds.

import type { Resource, Span } from '../span.js';
import { SpanKind } from '../span.js';
import { findAttribute } from '../attributes.js';

export interface TraceIndex {
  /** Unique spans in input order; of duplicate span ids the first wins. */
  readonly spans: Span[];
  readonly n: number;
  /** Earliest start as received; every relative time is measured from here (skew shifts may go below it). */
  readonly base: bigint;
  readonly start: Float64Array;
  /** Never before `start` (a span that ends before it starts lasts 0). */
  readonly end: Float64Array;
  /** Parent index or -1 (no parent, parent missing, or a cut parent cycle). */
  readonly parent: Int32Array;
  readonly childOffset: Int32Array;
  /** Children grouped by parent, each group ordered by start then input order. */
  readonly children: Int32Array;
  /** Roots ordered by start then input order. */
  readonly roots: Int32Array;
  /** Every index, parents before their children (breadth first). */
  readonly order: Int32Array;
  /** Span i's service is services[service[i]]; numbered in order of first appearance. */
  readonly service: Int32Array;
  readonly services: string[];
  /** Span i's resource is resources[resource[i]] (the same object). */
  readonly resource: Int32Array;
  readonly resources: Resource[];
  readonly kind: Uint8Array;
  /** 1 when span i's parent does not wait for it (see isAsyncChild); 0 for roots. */
  readonly async: Uint8Array;
  /** See spanRecord. */
  readonly ids: { record: Record<string, number> | undefined };
}

export function buildIndex(input: readonly Span[]): TraceIndex {
  const { spans, lookup, record } = spanIds(input);
  const n = spans.length;
  // Separate passes: a loop that does one thing runs faster than one that
  // mixes property lookups, bigint arithmetic and Map reads (~40% here).
  const parent = new Int32Array(n);
  let backwards = false; // a parent after its child: the only way to a cycle
  for (let i = 0; i < n; i++) {
    const pid = spans[i]!.parentSpanId;
    const p = pid ? lookup[pid] : undefined;
    const pi = typeof p === 'number' && p !== i ? p : -1;
    parent[i] = pi;
    if (pi > i) backwards = true;
  }
  const { start, end, base } = times(spans);
  if (backwards) cutCycles(parent);
  const { service, services, resource, resources, kind, linked } = labels(spans);
  const async = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const p = parent[i]!;
    if (p >= 0 && (kind[i] === SpanKind.CONSUMER || kind[p] === SpanKind.PRODUCER)) async[i] = 1;
  }
  for (const i of linked) {
    const p = parent[i]!;
    if (p >= 0 && !async[i] && isAsyncChild(spans[i]!, spans[p]!)) async[i] = 1;
  }

  const childOffset = new Int32Array(n + 1);
  let rootCount = 0;
  for (let i = 0; i < n; i++) {
    const p = parent[i]!;
    if (p < 0) rootCount++;
    else childOffset[p + 1]!++;
  }
  for (let i = 0; i < n; i++) childOffset[i + 1]! += childOffset[i]!;
  const fill = childOffset.slice(0, n);
  const children = new Int32Array(n - rootCount);
  const roots = new Int32Array(rootCount);
  let r = 0;
  for (let i = 0; i < n; i++) {
    const p = parent[i]!;
    if (p < 0) roots[r++] = i;
    else children[fill[p]!++] = i;
  }
  // Groups are filled in input order, so ties are already broken by it; most
  // groups arrive in start order and cost one check.
  const byStart = (a: number, b: number) => start[a]! - start[b]! || a - b;
  for (let i = 0; i < n; i++) {
    // Most spans have at most one child: no call (a first run is not yet optimized).
    if (childOffset[i + 1]! - childOffset[i]! > 1) sortRange(children, childOffset[i]!, childOffset[i + 1]!, byStart);
  }
  sortRange(roots, 0, rootCount, byStart);
  const order = new Int32Array(n);
  let head = 0;
  let tail = 0;
  for (let k = 0; k < rootCount; k++) order[tail++] = roots[k]!;
  while (head < tail) {
    const i = order[head++]!;
    for (let c = childOffset[i]!; c < childOffset[i + 1]!; c++) order[tail++] = children[c]!;
  }
  return { spans, n, base, start, end, parent, childOffset, children, roots, order, service, services, resource, resources, kind, async, ids: { record } };
}

// One 64-bit slot seen as two 32-bit words: a bigint stored into it reads
// back as two numbers, without allocating.
const slot = new BigUint64Array(1);
const word = new Uint32Array(slot.buffer);
const LOW = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
const HIGH = 1 - LOW;
const U64_MAX = 0xffffffffffffffffn;

/**
 * Start and end of every span in ns from the earliest start, as exact
 * float64 integers. A bigint subtraction per time allocates (~10 MB of
 * garbage per 100k spans); instead each time goes through `slot`, relative to
 * the first span's start, and is then moved to the earliest. Times outside
 * uint64, or a trace spanning 2^53 ns (104 days) or more, take bigint
 * arithmetic (rounding the same way).
 */
function times(spans: readonly Span[]): { start: Float64Array; end: Float64Array; base: bigint } {
  const n = spans.length;
  const start = new Float64Array(n);
  const end = new Float64Array(n);
  if (n === 0) return { start, end, base: 0n };
  const first = spans[0]!.startTimeUnixNano;
  slot[0] = first;
  const fl = word[LOW]!;
  const fh = word[HIGH]!;
  let inRange = first >= 0n && first <= U64_MAX;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < n; i++) {
    const s = spans[i]!;
    const a = s.startTimeUnixNano;
    const b = s.endTimeUnixNano;
    if (a < 0n || a > U64_MAX || b < 0n || b > U64_MAX) inRange = false;
    slot[0] = a;
    const st = (word[HIGH]! - fh) * 4294967296 + (word[LOW]! - fl);
    slot[0] = b;
    const en = (word[HIGH]! - fh) * 4294967296 + (word[LOW]! - fl);
    const e = en < st ? st : en;
    start[i] = st;
    end[i] = e;
    if (st < lo) lo = st;
    if (e > hi) hi = e;
  }
  if (!inRange || !(hi - lo < 2 ** 53)) return bigintTimes(spans, start, end);
  if (lo < 0) {
    for (let i = 0; i < n; i++) {
      start[i]! -= lo;
      end[i]! -= lo;
    }
  }
  return { start, end, base: first + BigInt(lo) };
}

function bigintTimes(spans: readonly Span[], start: Float64Array, end: Float64Array): { start: Float64Array; end: Float64Array; base: bigint } {
  let base = spans[0]!.startTimeUnixNano;
  for (const s of spans) if (s.startTimeUnixNano < base) base = s.startTimeUnixNano;
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    const st = Number(s.startTimeUnixNano - base);
    const en = Number(s.endTimeUnixNano - base);
    start[i] = st;
    end[i] = en < st ? st : en;
  }
  return { start, end, base };
}

/** Services and resources numbered in order of first appearance, kinds, and the spans with links. */
function labels(spans: readonly Span[]) {
  const n = spans.length;
  const service = new Int32Array(n);
  const serviceIds = new Map<string, number>();
  const services: string[] = [];
  const resource = new Int32Array(n);
  const resourceIds = new Map<Resource, number>();
  const resources: Resource[] = [];
  const kind = new Uint8Array(n);
  const linked: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = spans[i]!;
    let v = serviceIds.get(s.service);
    if (v === undefined) {
      v = services.length;
      serviceIds.set(s.service, v);
      services.push(s.service);
    }
    service[i] = v;
    let r = resourceIds.get(s.resource);
    if (r === undefined) {
      r = resources.length;
      resourceIds.set(s.resource, r);
      resources.push(s.resource);
    }
    resource[i] = r;
    kind[i] = s.kind;
    if (s.links.length > 0) linked.push(i);
  }
  return { service, services, resource, resources, kind, linked };
}

/**
 * The unique spans (of duplicate ids the first wins) and an id → index
 * lookup. The lookup is a plain object, not a Map, whose keys are exactly a
 * per-span result record's: spanRecord hands it on instead of inserting 100k
 * keys a second time. Keys are inserted first and checked after, which costs
 * one string internalization per id where a check first would cost two.
 */
function spanIds(input: readonly Span[]): { spans: Span[]; lookup: Record<string, number>; record: Record<string, number> | undefined } {
  const record: Record<string, number> = {};
  let plain = true;
  for (let k = 0; k < input.length; k++) {
    const id = input[k]!.spanId;
    if (id === '__proto__') {
      plain = false; // not an own key of a plain object
      break;
    }
    record[id] = k;
  }
  if (plain) {
    let k = 0;
    while (k < input.length && record[input[k]!.spanId] === k) k++;
    if (k === input.length) return { spans: input.slice(), lookup: record, record };
  }
  // Duplicate ids, or an id that is no ordinary key: rare, so the slow road.
  const lookup = Object.create(null) as Record<string, number>;
  const spans: Span[] = [];
  for (const s of input) {
    if (lookup[s.spanId] !== undefined) continue;
    lookup[s.spanId] = spans.length;
    spans.push(s);
  }
  return { spans, lookup, record: undefined };
}

/**
 * A fresh object with one key per span id, in index order, for a result per
 * span (values are indexes, to be overwritten). The first call takes the
 * index's own id lookup, which is then no longer needed: inserting 100k keys
 * into an object costs ~15 ms, a fifth of a whole analysis.
 */
export function spanRecord(ix: TraceIndex): Record<string, number> {
  const taken = ix.ids.record;
  if (taken !== undefined) {
    ix.ids.record = undefined;
    return taken;
  }
  const out: Record<string, number> = {};
  for (let i = 0; i < ix.n; i++) out[ix.spans[i]!.spanId] = i;
  return out;
}

/**
 * A parent chain that loops (a→b→a) has no root; the span where the walk
 * first meets its own path becomes a root, so every span stays reachable.
 */
function cutCycles(parent: Int32Array): void {
  const n = parent.length;
  const state = new Uint8Array(n); // 0 unseen, 1 on the current walk, 2 settled
  const path: number[] = [];
  for (let i = 0; i < n; i++) {
    if (state[i] !== 0) continue;
    let j = i;
    while (j >= 0 && state[j] === 0) {
      state[j] = 1;
      path.push(j);
      j = parent[j]!;
    }
    if (j >= 0 && state[j] === 1) parent[j] = -1;
    for (const k of path) state[k] = 2;
    path.length = 0;
  }
}

/**
 * Sorts a[from..to) by `cmp`, cheaply when it is already sorted or sorted
 * backwards (sequential children sorted by start are reversed by end).
 */
export function sortRange(a: Int32Array, from: number, to: number, cmp: (x: number, y: number) => number): void {
  if (to - from < 2) return;
  let asc = true;
  let desc = true;
  for (let k = from + 1; k < to && (asc || desc); k++) {
    const c = cmp(a[k - 1]!, a[k]!);
    if (c > 0) asc = false;
    else desc = false; // ties are never "backwards": reversing would break them
  }
  if (asc) return;
  if (desc) a.subarray(from, to).reverse();
  else a.subarray(from, to).sort(cmp);
}

/**
 * The index of the same trace with span i moved by delta[i] ns: same tree,
 * new times, child groups holding a moved span re-sorted.
 */
export function shiftIndex(ix: TraceIndex, spans: Span[], delta: Float64Array): TraceIndex {
  const { n, parent, childOffset } = ix;
  const start = ix.start.slice();
  const end = ix.end.slice();
  const children = ix.children.slice();
  const roots = ix.roots.slice();
  const dirty = new Uint8Array(n);
  let rootsDirty = false;
  for (let i = 0; i < n; i++) {
    const d = delta[i]!;
    if (d === 0) continue;
    start[i]! += d;
    end[i]! += d;
    if (parent[i]! >= 0) dirty[parent[i]!] = 1;
    else rootsDirty = true;
  }
  const byStart = (a: number, b: number) => start[a]! - start[b]! || a - b;
  for (let i = 0; i < n; i++) if (dirty[i]) sortRange(children, childOffset[i]!, childOffset[i + 1]!, byStart);
  if (rootsDirty) sortRange(roots, 0, roots.length, byStart);
  return { ...ix, spans, start, end, children, roots };
}

/** Absolute unix ns of a relative time. */
export function absTime(ix: TraceIndex, rel: number): bigint {
  return ix.base + BigInt(rel);
}

/**
 * Whether `child` is work its parent does not wait for: a message consumer,
 * the child of a producer, or an OpenTracing FOLLOWS_FROM reference (carried
 * by OpenTelemetry's OpenTracing shim and Jaeger's translator as a link to the
 * parent with `opentracing.ref_type = follows_from`).
 */
export function isAsyncChild(child: Span, parent: Span): boolean {
  if (child.kind === SpanKind.CONSUMER || parent.kind === SpanKind.PRODUCER) return true;
  for (const link of child.links) {
    if (link.spanId !== parent.spanId) continue;
    const ref = findAttribute(link.attributes, 'opentracing.ref_type');
    if (ref?.stringValue?.toLowerCase() === 'follows_from') return true;
  }
  return false;
}
