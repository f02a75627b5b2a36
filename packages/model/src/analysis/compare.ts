// Two traces side by side: spans matched by their path from the root (the
// chain of service:operation), so "the second db query under getCart" in one
// trace meets the same query in the other.
//
//   a                        b                          change
//   front:GET                front:GET                  same
//   ├─ cart:get              ├─ cart:get                same
//   │  └─ db:query  20ms     │  ├─ db:query  60ms       slower, +40ms
//   │                        │  └─ db:query   5ms       added
//   └─ pay:charge                                       removed
//
// Siblings with the same service and operation pair up in start order; an
// unmatched span makes its whole subtree added or removed. A matched span is
// `same` when its duration moved by at most max(minDeltaNanos, tolerance ×
// its duration in a), else slower or faster.

import type { Span } from '../span.js';
import { spanDurationNanos } from '../span.js';
import type { Nanos } from '../units.js';
import type { SpanNode } from '../tree.js';
import { buildTree } from '../tree.js';

export type ChangeKind = 'added' | 'removed' | 'slower' | 'faster' | 'same';

export interface SpanChange {
  kind: ChangeKind;
  service: string;
  operation: string;
  /** 0 for a root */
  depth: number;
  /** index in `changes` of the parent's entry, -1 for a root; the path is the chain of these */
  parentIndex: number;
  a?: { spanId: string; durationNanos: Nanos };
  b?: { spanId: string; durationNanos: Nanos };
  /** b − a; for an added span its duration, for a removed one minus its duration */
  deltaNanos: Nanos;
}

export interface TraceComparison {
  /** the merged tree in pre-order; among siblings a's spans (matched or removed) in start order, then b's added ones */
  changes: SpanChange[];
  summary: {
    added: number;
    removed: number;
    slower: number;
    faster: number;
    same: number;
    durationANanos: Nanos;
    durationBNanos: Nanos;
    /** b's duration minus a's */
    deltaNanos: Nanos;
  };
}

export interface CompareOptions {
  /** relative change (of a's duration) still counted as the same; default 0.1 */
  tolerance?: number;
  /** absolute change still counted as the same; default 0 */
  minDeltaNanos?: Nanos | number;
}

/** Compares trace `b` against trace `a` (the baseline). Iterative; O(n log n). */
export function compareTraces(a: readonly Span[], b: readonly Span[], opts: CompareOptions = {}): TraceComparison {
  const tolerance = opts.tolerance ?? 0.1;
  const minDelta = opts.minDeltaNanos ?? 0;
  const changes: SpanChange[] = [];
  const summary = { added: 0, removed: 0, slower: 0, faster: 0, same: 0 };

  const add = (kind: ChangeKind, x: SpanNode | undefined, y: SpanNode | undefined, depth: number, parentIndex: number) => {
    const s = (x ?? y)!.span;
    const da = x ? dur(x.span) : 0;
    const db = y ? dur(y.span) : 0;
    changes.push({
      kind,
      service: s.service,
      operation: s.name,
      depth,
      parentIndex,
      ...(x ? { a: { spanId: x.span.spanId, durationNanos: da as Nanos } } : {}),
      ...(y ? { b: { spanId: y.span.spanId, durationNanos: db as Nanos } } : {}),
      deltaNanos: (db - da) as Nanos,
    });
    summary[kind]++;
    return changes.length - 1;
  };
  const classify = (x: SpanNode, y: SpanNode): ChangeKind => {
    const da = dur(x.span);
    const d = dur(y.span) - da;
    if (Math.abs(d) <= Math.max(minDelta, tolerance * da)) return 'same';
    return d > 0 ? 'slower' : 'faster';
  };

  // Work items: a matched pair, or a one-sided subtree. A stack, so deep chains are safe.
  type Item = { x?: SpanNode; y?: SpanNode; depth: number; parentIndex: number };
  const stack: Item[] = [];
  const pushLevel = (xs: readonly SpanNode[], ys: readonly SpanNode[], depth: number, parentIndex: number) => {
    const items: Item[] = [];
    const pool = new Map<string, { list: SpanNode[]; next: number }>();
    for (const y of ys) {
      const k = keyOf(y.span);
      const p = pool.get(k);
      if (p) p.list.push(y);
      else pool.set(k, { list: [y], next: 0 });
    }
    const taken = new Set<SpanNode>();
    for (const x of xs) {
      const p = pool.get(keyOf(x.span));
      const y = p && p.next < p.list.length ? p.list[p.next++] : undefined;
      if (y) taken.add(y);
      items.push(y ? { x, y, depth, parentIndex } : { x, depth, parentIndex });
    }
    for (const y of ys) if (!taken.has(y)) items.push({ y, depth, parentIndex });
    for (let i = items.length - 1; i >= 0; i--) stack.push(items[i]!);
  };

  pushLevel(buildTree(a), buildTree(b), 0, -1);
  while (stack.length) {
    const { x, y, depth, parentIndex } = stack.pop()!;
    if (x && y) {
      const at = add(classify(x, y), x, y, depth, parentIndex);
      pushLevel(x.children, y.children, depth + 1, at);
    } else if (x) {
      const at = add('removed', x, undefined, depth, parentIndex);
      pushLevel(x.children, [], depth + 1, at);
    } else {
      const at = add('added', undefined, y, depth, parentIndex);
      pushLevel([], y!.children, depth + 1, at);
    }
  }
  const durationA = traceDuration(a);
  const durationB = traceDuration(b);
  return {
    changes,
    summary: {
      ...summary,
      durationANanos: durationA as Nanos,
      durationBNanos: durationB as Nanos,
      deltaNanos: (durationB - durationA) as Nanos,
    },
  };
}

/** The path of change `i` from the root, as `service:operation` strings. */
export function changePath(cmp: TraceComparison, i: number): string[] {
  const path: string[] = [];
  for (let k = i; k >= 0; k = cmp.changes[k]!.parentIndex) {
    const c = cmp.changes[k]!;
    path.push(`${c.service}:${c.operation}`);
  }
  return path.reverse();
}

function keyOf(s: Span): string {
  return s.service + '\u0000' + s.name;
}

function dur(s: Span): number {
  return Number(spanDurationNanos(s));
}

function traceDuration(spans: readonly Span[]): number {
  if (spans.length === 0) return 0;
  let lo = spans[0]!.startTimeUnixNano;
  let hi = spans[0]!.endTimeUnixNano;
  for (const s of spans) {
    if (s.startTimeUnixNano < lo) lo = s.startTimeUnixNano;
    if (s.endTimeUnixNano > hi) hi = s.endTimeUnixNano;
  }
  return hi > lo ? Number(hi - lo) : 0;
}
