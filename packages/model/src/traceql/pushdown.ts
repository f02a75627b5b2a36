// What a store can narrow a TraceQL query down to before the query is
// evaluated on whole traces: a list of TraceQuery alternatives such that
// every matching trace has a span matching at least one of them (a
// superset, never a miss). TraceQuery holds Jaeger-style conditions that all
// apply to one span, so only what one span must satisfy can be pushed:
//
//   { resource.service.name = "api" && span.http.status_code = 500 && duration > 1s }
//     → [{ service: api, attributes: [http.status_code=500], minDurationNanos: 1s + 1ns }]
//   { name = "a" || name = "b" }      → [{ operation: a }, { operation: b }]
//   { A } && { B }                    → A's or B's alternatives, whichever look more selective
//   { A } || { B }                    → A's and B's
//   { !(...) }, span.x != ..., =~, kind, statusMessage, trace-level intrinsics → no condition
//
// Why each mapping is safe: operation and status are compared exactly by
// both; a store's attribute condition matches the text form of a span *or
// resource* attribute (attributeText), so a string, bool or integer literal
// (a safe integer, so its text is the int64's canonical text and a double
// equal to it prints the same) is pushed as its text and only ever widens
// the match; `resource.service.name = "x"` becomes `service` because a span's
// service is its resource's first string service.name (span.ts). Duration
// bounds become whole-nanosecond inclusive bounds.

import type { TraceQuery, StatusFilter } from '../query.js';
import type { Nanos } from '../units.js';
import type { Condition, SpansetExpr, Static, TraceQLQuery } from './ast.js';

export interface TraceQLPushdown {
  /** Every match has a span matching one of these (no limit or time range set); [] when nothing can match. */
  alternatives: TraceQuery[];
  /**
   * Every span the query selects (not just one per trace) matches one of the
   * alternatives, so the latest selected span of a trace is no later than its
   * latest span matching an alternative. True for a single `{ ... }` (and `||`,
   * pipelines of them); false once `&&` or a structural operator keeps spans
   * of the side that was not pushed down.
   */
  covers: boolean;
}

/** More alternatives than this and the condition is not pushed at all (one search per alternative). */
export const MAX_ALTERNATIVES = 8;

type Alt = TraceQuery;

const UNCONSTRAINED: Alt[] = [{}];

export function traceQLPushdown(q: TraceQLQuery): TraceQLPushdown {
  return spansetPushdown(q.root);
}

function spansetPushdown(e: SpansetExpr): TraceQLPushdown {
  switch (e.type) {
    case 'filter':
      return { alternatives: conditionAlts(e.condition), covers: true };
    case 'pipeline':
      // Stages only remove spans or whole spansets from what the input selected.
      return spansetPushdown(e.input);
    case 'spansetOp': {
      const l = spansetPushdown(e.left);
      const r = spansetPushdown(e.right);
      if (e.op === '||') return { alternatives: or(l.alternatives, r.alternatives), covers: l.covers && r.covers };
      // Both sides need a span. For the structural operators the selected spans
      // are the right side's, so pushing that side keeps `covers`.
      const structural = e.op !== '&&';
      if (!l.alternatives.length || !r.alternatives.length) return { alternatives: [], covers: true };
      const pickLeft = score(l.alternatives) > score(r.alternatives);
      if (pickLeft) return { alternatives: l.alternatives, covers: false };
      return { alternatives: r.alternatives, covers: structural && r.covers };
    }
  }
}

/** Alternatives for one span's condition: any span satisfying `c` matches one of them. */
function conditionAlts(c: Condition): Alt[] {
  switch (c.type) {
    case 'const':
      return c.value ? UNCONSTRAINED : [];
    case 'not':
      return UNCONSTRAINED;
    case 'or':
      return or(conditionAlts(c.left), conditionAlts(c.right));
    case 'and': {
      const l = conditionAlts(c.left);
      const r = conditionAlts(c.right);
      if (l.length * r.length > MAX_ALTERNATIVES) return score(l) >= score(r) ? l : r;
      const out: Alt[] = [];
      for (const a of l) for (const b of r) {
        const m = merge(a, b);
        if (m) out.push(m);
      }
      return out;
    }
    case 'compare':
      return compareAlts(c);
  }
}

function or(l: Alt[], r: Alt[]): Alt[] {
  const all = [...l, ...r];
  // An unconstrained alternative already covers the others.
  if (all.some(isEmpty) || all.length > MAX_ALTERNATIVES) return UNCONSTRAINED;
  return all;
}

function isEmpty(a: Alt): boolean {
  return Object.keys(a).length === 0;
}

const STATUS: Record<string, StatusFilter> = { error: 'error', ok: 'ok', unset: 'unset' };

function compareAlts(c: Condition & { type: 'compare' }): Alt[] {
  const { field, op, value } = c;
  if (field.type === 'intrinsic') {
    if (field.name === 'name' && op === '=' && value.type === 'string') return [{ operation: value.value }];
    if (field.name === 'status' && op === '=' && value.type === 'status') return [{ status: STATUS[value.value]! }];
    if (field.name === 'duration') return durationAlts(op, value);
    return UNCONSTRAINED;
  }
  if (op !== '=') return UNCONSTRAINED;
  if (field.scope === 'resource' && field.key === 'service.name') return value.type === 'string' ? [{ service: value.value }] : UNCONSTRAINED;
  const text = literalText(value);
  return text === undefined ? UNCONSTRAINED : [{ attributes: [{ key: field.key, value: text }] }];
}

/** The text a matching attribute's attributeText() is sure to have, when there is exactly one. */
function literalText(v: Static): string | undefined {
  switch (v.type) {
    case 'string':
      return v.value;
    case 'bool':
      return v.value ? 'true' : 'false';
    case 'int':
      return safe(v.value) ? v.value.toString() : undefined;
    case 'duration':
      return safe(v.nanos) ? v.nanos.toString() : undefined;
    case 'float':
      // An equal int64 prints like a safe-integer double; a non-integer double equals no int64.
      return Number.isFinite(v.value) && (!Number.isInteger(v.value) || Number.isSafeInteger(v.value)) ? String(v.value) : undefined;
    default:
      return undefined;
  }
}

const safe = (n: bigint) => n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER);

/** Span durations are whole nanoseconds ≥ 0; bounds become inclusive whole-nanosecond ones. */
function durationAlts(op: string, value: Static): Alt[] {
  if (value.type !== 'int' && value.type !== 'float' && value.type !== 'duration') return UNCONSTRAINED;
  const v = value.type === 'int' ? value.value : value.type === 'duration' ? value.nanos : value.value;
  const floor = typeof v === 'bigint' ? v : Math.floor(v);
  const ceil = typeof v === 'bigint' ? v : Math.ceil(v);
  const whole = typeof v === 'bigint' || Number.isInteger(v);
  let min: number | bigint | undefined;
  let max: number | bigint | undefined;
  switch (op) {
    case '>':
      min = typeof floor === 'bigint' ? floor + 1n : floor + 1;
      break;
    case '>=':
      min = ceil;
      break;
    case '<':
      max = typeof ceil === 'bigint' ? ceil - 1n : ceil - 1;
      break;
    case '<=':
      max = floor;
      break;
    case '=':
      if (!whole) return [];
      min = max = floor;
      break;
    default:
      return UNCONSTRAINED;
  }
  const alt: Alt = {};
  if (max !== undefined) {
    if (max < 0) return [];
    // A bound beyond 2^53 ns (104 days) cannot be a Nanos number exactly; leaving it out only widens.
    if (max <= Number.MAX_SAFE_INTEGER) alt.maxDurationNanos = Number(max) as Nanos;
  }
  if (min !== undefined && min > 0 && min <= Number.MAX_SAFE_INTEGER) alt.minDurationNanos = Number(min) as Nanos;
  return [alt];
}

/** Both alternatives at once, or undefined when no span can satisfy both. */
function merge(a: Alt, b: Alt): Alt | undefined {
  const m: Alt = { ...a };
  for (const k of ['service', 'operation', 'status'] as const) {
    if (b[k] === undefined) continue;
    if (m[k] !== undefined && m[k] !== b[k]) return undefined;
    (m as Record<string, unknown>)[k] = b[k];
  }
  if (b.attributes) m.attributes = [...(m.attributes ?? []), ...b.attributes.filter((x) => !m.attributes?.some((y) => y.key === x.key && y.value === x.value))];
  if (b.minDurationNanos !== undefined) m.minDurationNanos = Math.max(m.minDurationNanos ?? 0, b.minDurationNanos) as Nanos;
  if (b.maxDurationNanos !== undefined) m.maxDurationNanos = Math.min(m.maxDurationNanos ?? Infinity, b.maxDurationNanos) as Nanos;
  if (m.minDurationNanos !== undefined && m.maxDurationNanos !== undefined && m.minDurationNanos > m.maxDurationNanos) return undefined;
  return m;
}

/**
 * A rough guess at how selective a list of alternatives is (higher: fewer
 * traces): its weakest alternative's conditions, minus a little per extra search.
 */
export function score(alts: TraceQuery[]): number {
  if (!alts.length) return Infinity;
  const one = (a: TraceQuery) =>
    (a.operation !== undefined ? 3 : 0) +
    3 * (a.attributes?.length ?? 0) +
    (a.status === 'error' ? 3 : a.status !== undefined ? 1 : 0) +
    (a.service !== undefined ? 2 : 0) +
    (a.minDurationNanos !== undefined ? 1 : 0) +
    (a.maxDurationNanos !== undefined ? 1 : 0);
  return Math.min(...alts.map(one)) - 0.5 * (alts.length - 1);
}
