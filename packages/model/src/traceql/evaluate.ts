// Evaluating a TraceQL query on one whole trace. A spanset expression yields
// a set of the trace's spans (marks over the span array); the trace matches
// when the final set is not empty.
//
//   { c }        spans satisfying c
//   A && B       A ∪ B when both are non-empty, else ∅      A || B   A ∪ B
//   A > B        spans of B whose parent is in A           A < B    spans of B that are a parent of one in A
//   A >> B       spans of B with an ancestor in A          A << B   spans of B with a descendant in A
//   A ~ B        spans of B with a sibling (same parent, not itself) in A
//   S | stage    the stage applied to S's spans (a filter, an aggregate test, select)
//
// Comparisons follow Tempo's typing: a number literal matches int and double
// attributes (compared exactly: int64 never goes through a double), a string
// literal matches string attributes, true/false bools; an attribute of
// another type, or a missing one, makes every comparison false (`!=`
// included) except `= nil` / `!= nil`. Arrays, maps and bytes attributes
// only answer `nil` checks. `.x` reads the span's attribute, else the resource's.
//
// With a time window, only spans that start inside it can be selected;
// parents, ancestors and the trace-level intrinsics (rootName,
// rootServiceName, traceDuration) still come from the whole trace.

import type { AnyValue, Span } from '../span.js';
import { findAttribute } from '../attributes.js';
import { spanDurationNanos } from '../span.js';
import type { AggregateFn, CompareOp, Condition, Field, PipelineStage, SpansetExpr, Static, TraceQLQuery } from './ast.js';
import { compileSafeRegex } from './regex.js';

export interface TraceQLWindow {
  /** inclusive bounds on a selected span's start, unix ns */
  startUnixNano?: bigint;
  endUnixNano?: bigint;
}

/** The spans the query selects in this trace, in the given order; [] when the trace does not match. */
export function evaluateTraceQL(query: TraceQLQuery, spans: readonly Span[], window: TraceQLWindow = {}): Span[] {
  const ctx = new TraceContext(spans);
  const universe = new Uint8Array(spans.length);
  for (let i = 0; i < spans.length; i++) {
    const t = spans[i]!.startTimeUnixNano;
    if ((window.startUnixNano === undefined || t >= window.startUnixNano) && (window.endUnixNano === undefined || t <= window.endUnixNano)) universe[i] = 1;
  }
  const marks = compiled(query)(ctx, universe);
  const out: Span[] = [];
  for (let i = 0; i < spans.length; i++) if (marks[i]) out.push(spans[i]!);
  return out;
}

type SpanPred = (s: Span, ctx: TraceContext) => boolean;
type SetEval = (ctx: TraceContext, universe: Uint8Array) => Uint8Array;

const cache = new WeakMap<TraceQLQuery, SetEval>();

function compiled(q: TraceQLQuery): SetEval {
  let e = cache.get(q);
  if (!e) cache.set(q, (e = compileSpanset(q.root)));
  return e;
}

/** Per-trace facts computed on first use. */
class TraceContext {
  private parents?: Int32Array;
  private rootSpan?: Span | null;
  private traceDur?: bigint;
  constructor(readonly spans: readonly Span[]) {}

  /** Index of each span's parent in `spans`, -1 when it has none in the trace. */
  parentIndex(): Int32Array {
    if (this.parents) return this.parents;
    const byId = new Map<string, number>();
    this.spans.forEach((s, i) => {
      if (!byId.has(s.spanId)) byId.set(s.spanId, i);
    });
    const p = new Int32Array(this.spans.length);
    this.spans.forEach((s, i) => {
      const j = s.parentSpanId === '' ? undefined : byId.get(s.parentSpanId);
      p[i] = j === undefined || j === i ? -1 : j;
    });
    return (this.parents = p);
  }

  /** As TraceSummary defines it: the earliest span without a parent id, else the earliest span (ties: span id). */
  root(): Span | undefined {
    if (this.rootSpan !== undefined) return this.rootSpan ?? undefined;
    let root: Span | undefined;
    let first: Span | undefined;
    const earlier = (a: Span, b: Span) => a.startTimeUnixNano < b.startTimeUnixNano || (a.startTimeUnixNano === b.startTimeUnixNano && a.spanId < b.spanId);
    for (const s of this.spans) {
      if (!first || earlier(s, first)) first = s;
      if (s.parentSpanId === '' && (!root || earlier(s, root))) root = s;
    }
    this.rootSpan = root ?? first ?? null;
    return this.rootSpan ?? undefined;
  }

  /** Latest end (an end before its start counts as the start) minus earliest start. */
  traceDuration(): bigint {
    if (this.traceDur !== undefined) return this.traceDur;
    let min: bigint | undefined;
    let max = 0n;
    for (const s of this.spans) {
      if (min === undefined || s.startTimeUnixNano < min) min = s.startTimeUnixNano;
      const end = s.endTimeUnixNano > s.startTimeUnixNano ? s.endTimeUnixNano : s.startTimeUnixNano;
      if (end > max) max = end;
    }
    return (this.traceDur = min === undefined ? 0n : max - min);
  }
}

// --- spansets ---------------------------------------------------------------------------

function compileSpanset(e: SpansetExpr): SetEval {
  switch (e.type) {
    case 'filter': {
      const pred = compileCondition(e.condition);
      return (ctx, u) => {
        const out = new Uint8Array(u.length);
        for (let i = 0; i < u.length; i++) if (u[i] && pred(ctx.spans[i]!, ctx)) out[i] = 1;
        return out;
      };
    }
    case 'spansetOp': {
      const left = compileSpanset(e.left);
      const right = compileSpanset(e.right);
      const op = e.op;
      return (ctx, u) => {
        const l = left(ctx, u);
        if (op === '&&' && !any(l)) return l;
        const r = right(ctx, u);
        switch (op) {
          case '&&':
            return any(r) ? union(l, r) : r;
          case '||':
            return union(l, r);
          default:
            return structural(op, l, r, ctx.parentIndex());
        }
      };
    }
    case 'pipeline': {
      const input = compileSpanset(e.input);
      const stages = e.stages.map(compileStage);
      return (ctx, u) => {
        let set = input(ctx, u);
        for (const stage of stages) {
          if (!any(set)) break;
          set = stage(ctx, set);
        }
        return set;
      };
    }
  }
}

function compileStage(s: PipelineStage): SetEval {
  switch (s.type) {
    case 'select':
      return (_ctx, set) => set;
    case 'spanset':
      return compileSpanset(s.expr);
    case 'aggregate': {
      const value = s.field ? numericValue(s.field) : undefined;
      const fn = s.fn;
      const op = s.op;
      const lit = numberOf(s.value);
      return (ctx, set) => {
        const v = aggregate(fn, set, ctx, value);
        return v !== undefined && test(op, compareNumbers(v, lit)) ? set : new Uint8Array(set.length);
      };
    }
  }
}

function aggregate(fn: AggregateFn, set: Uint8Array, ctx: TraceContext, value: ((s: Span, ctx: TraceContext) => bigint | number | undefined) | undefined): bigint | number | undefined {
  if (fn === 'count') {
    let n = 0n;
    for (let i = 0; i < set.length; i++) if (set[i]) n++;
    return n;
  }
  let n = 0;
  let acc: bigint | number | undefined;
  let sum: bigint | number = 0n;
  for (let i = 0; i < set.length; i++) {
    if (!set[i]) continue;
    const v = value!(ctx.spans[i]!, ctx);
    if (v === undefined) continue;
    n++;
    sum = typeof sum === 'bigint' && typeof v === 'bigint' ? sum + v : Number(sum) + Number(v);
    if (acc === undefined || (fn === 'min' ? compareNumbers(v, acc) < 0 : compareNumbers(v, acc) > 0)) acc = v;
  }
  if (n === 0) return undefined;
  if (fn === 'min' || fn === 'max') return acc;
  if (fn === 'sum') return sum;
  return Number(sum) / n;
}

function any(m: Uint8Array): boolean {
  for (let i = 0; i < m.length; i++) if (m[i]) return true;
  return false;
}

function union(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! | b[i]!;
  return out;
}

/** The structural operators; every walk up the tree stops at a marked node, so a cycle in bad data ends too. */
function structural(op: '>' | '>>' | '<' | '<<' | '~', l: Uint8Array, r: Uint8Array, parent: Int32Array): Uint8Array {
  const n = l.length;
  const out = new Uint8Array(n);
  switch (op) {
    case '>':
      for (let i = 0; i < n; i++) if (r[i] && parent[i]! >= 0 && l[parent[i]!]) out[i] = 1;
      return out;
    case '<': {
      for (let i = 0; i < n; i++) if (l[i] && parent[i]! >= 0 && r[parent[i]!]) out[parent[i]!] = 1;
      return out;
    }
    case '<<': {
      // mark every ancestor of a left span
      const anc = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        if (!l[i]) continue;
        for (let p = parent[i]!; p >= 0 && !anc[p]; p = parent[p]!) anc[p] = 1;
      }
      for (let i = 0; i < n; i++) if (r[i] && anc[i]) out[i] = 1;
      return out;
    }
    case '>>': {
      // up[x]: x or one of its ancestors is a left span (1 no, 2 yes; 3 while being resolved)
      const up = new Uint8Array(n);
      const path: number[] = [];
      const resolve = (start: number): boolean => {
        let x = start;
        let result = false;
        while (x >= 0) {
          if (up[x] === 1 || up[x] === 3) break; // known "no", or a cycle
          if (up[x] === 2 || l[x]) {
            result = true;
            break;
          }
          up[x] = 3;
          path.push(x);
          x = parent[x]!;
        }
        for (const p of path) up[p] = result ? 2 : 1;
        path.length = 0;
        return result;
      };
      for (let i = 0; i < n; i++) if (r[i] && parent[i]! >= 0 && resolve(parent[i]!)) out[i] = 1;
      return out;
    }
    case '~': {
      const children = new Int32Array(n);
      for (let i = 0; i < n; i++) if (l[i] && parent[i]! >= 0) children[parent[i]!]!++;
      for (let i = 0; i < n; i++) if (r[i] && parent[i]! >= 0 && children[parent[i]!]! - (l[i] ? 1 : 0) > 0) out[i] = 1;
      return out;
    }
  }
}

// --- conditions on one span -----------------------------------------------------------------

function compileCondition(c: Condition): SpanPred {
  switch (c.type) {
    case 'const':
      return c.value ? () => true : () => false;
    case 'and': {
      const l = compileCondition(c.left);
      const r = compileCondition(c.right);
      return (s, ctx) => l(s, ctx) && r(s, ctx);
    }
    case 'or': {
      const l = compileCondition(c.left);
      const r = compileCondition(c.right);
      return (s, ctx) => l(s, ctx) || r(s, ctx);
    }
    case 'not': {
      const inner = compileCondition(c.operand);
      return (s, ctx) => !inner(s, ctx);
    }
    case 'compare':
      return compileCompare(c.field, c.op, c.value);
  }
}

const STATUS_NAMES = ['unset', 'ok', 'error'];
const KIND_NAMES = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

function compileCompare(field: Field, op: CompareOp, value: Static): SpanPred {
  if (field.type === 'attribute') return compileAttributeCompare(field, op, value);
  switch (field.name) {
    case 'status':
    case 'kind': {
      const want = (value as { value: string }).value;
      const names = field.name === 'status' ? STATUS_NAMES : KIND_NAMES;
      const get = field.name === 'status' ? (s: Span) => s.status.code : (s: Span) => s.kind;
      const eq = op === '=';
      return (s) => ((names[get(s)] ?? (field.name === 'status' ? 'unset' : 'unspecified')) === want) === eq;
    }
    case 'duration':
    case 'traceDuration': {
      const lit = numberOf(value);
      const get = field.name === 'duration' ? (s: Span) => spanDurationNanos(s) : (_s: Span, ctx: TraceContext) => ctx.traceDuration();
      return (s, ctx) => test(op, compareNumbers(get(s, ctx), lit));
    }
    default: {
      const get: (s: Span, ctx: TraceContext) => string | undefined =
        field.name === 'name'
          ? (s) => s.name
          : field.name === 'statusMessage'
            ? (s) => s.status.message
            : field.name === 'rootName'
              ? (_s, ctx) => ctx.root()?.name
              : (_s, ctx) => ctx.root()?.service;
      const str = stringTest(op, (value as { value: string }).value);
      return (s, ctx) => {
        const v = get(s, ctx);
        return v !== undefined && str(v);
      };
    }
  }
}

function stringTest(op: CompareOp, lit: string): (v: string) => boolean {
  if (op === '=~' || op === '!~') {
    const re = compileSafeRegex(lit);
    return op === '=~' ? (v) => re.test(v) : (v) => !re.test(v);
  }
  return (v) => test(op, compareStrings(v, lit));
}

function compileAttributeCompare(field: Field & { type: 'attribute' }, op: CompareOp, value: Static): SpanPred {
  const { scope, key } = field;
  const get =
    scope === 'span'
      ? (s: Span) => findAttribute(s.attributes, key)
      : scope === 'resource'
        ? (s: Span) => findAttribute(s.resource.attributes, key)
        : (s: Span) => findAttribute(s.attributes, key) ?? findAttribute(s.resource.attributes, key);
  switch (value.type) {
    case 'nil':
      return op === '=' ? (s) => get(s) === undefined : (s) => get(s) !== undefined;
    case 'string': {
      const str = stringTest(op, value.value);
      return (s) => {
        const v = get(s);
        return v?.stringValue !== undefined && str(v.stringValue);
      };
    }
    case 'bool': {
      const eq = op === '=';
      return (s) => {
        const v = get(s);
        return v?.boolValue !== undefined && (v.boolValue === value.value) === eq;
      };
    }
    case 'int':
    case 'float':
    case 'duration': {
      const lit = numberOf(value);
      return (s) => {
        const v = get(s);
        const n = v === undefined ? undefined : attributeNumber(v);
        return n !== undefined && test(op, compareNumbers(n, lit));
      };
    }
    default:
      return () => false;
  }
}

/** The value aggregates read: duration, traceDuration, or a numeric attribute. */
function numericValue(f: Field): (s: Span, ctx: TraceContext) => bigint | number | undefined {
  if (f.type === 'intrinsic') return f.name === 'traceDuration' ? (_s, ctx) => ctx.traceDuration() : (s) => spanDurationNanos(s);
  const { scope, key } = f;
  return (s) => {
    const v = scope === 'resource' ? findAttribute(s.resource.attributes, key) : (findAttribute(s.attributes, key) ?? (scope === 'unscoped' ? findAttribute(s.resource.attributes, key) : undefined));
    return v === undefined ? undefined : attributeNumber(v);
  };
}

function attributeNumber(v: AnyValue): bigint | number | undefined {
  if (v.intValue !== undefined) {
    try {
      return BigInt(v.intValue);
    } catch {
      return undefined;
    }
  }
  return v.doubleValue;
}

function numberOf(v: Static): bigint | number {
  return v.type === 'int' ? v.value : v.type === 'duration' ? v.nanos : (v as { value: number }).value;
}

/** -1, 0, 1, or NaN when either side is NaN. Exact for int64 against any double. */
export function compareNumbers(a: bigint | number, b: bigint | number): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : a === b ? 0 : NaN;
  const flip = typeof a === 'number';
  const big = (flip ? b : a) as bigint;
  const num = (flip ? a : b) as number;
  let c: number;
  if (Number.isNaN(num)) return NaN;
  if (num === Infinity) c = -1;
  else if (num === -Infinity) c = 1;
  else if (Number.isInteger(num)) {
    const n = BigInt(num);
    c = big < n ? -1 : big > n ? 1 : 0;
  } else {
    // A non-integer double is below 2^52 in magnitude, so rounding the bigint cannot cross it.
    c = Number(big) < num ? -1 : 1;
  }
  return flip ? -c : c;
}

/** Code point order (UTF-8 byte order, as Go compares strings), not UTF-16 unit order. */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (U+D800–DFFF, astral code points) sort after U+E000–FFFF.
    if (x >= 0xd800) x += x >= 0xe000 ? -0x800 : 0x2000;
    if (y >= 0xd800) y += y >= 0xe000 ? -0x800 : 0x2000;
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function test(op: CompareOp, c: number): boolean {
  if (Number.isNaN(c)) return op === '!=';
  switch (op) {
    case '=':
      return c === 0;
    case '!=':
      return c !== 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    default:
      return false;
  }
}
