// The critical path: the chain of work that decided when the trace ended.
// Jaeger UI's algorithm, walked backwards from the end of the root: at each
// point in time the current span's time goes to the child that finished
// last before that point (its "last finishing child"); when no child is left,
// the span itself owns the time back to its start, and the walk returns to
// the parent at that start.
//
//   root   |=================================================|
//   A        |=====|   parallel with B, ends first
//   B        |==============|
//   C                         |==============|
//   C.1                         |======|
//
//   path   |r|B-------------|r|C|C.1---|C----|root-----------|
//          root 0-2, B 2-17, root 17-19, C 19-21, C.1 21-28, C 28-34, root 34-50
//
// Children are first clipped to their parent (a child outliving its parent
// only counts up to the parent's end; one lying wholly outside is dropped
// with its subtree), and async children (consumers, follows-from) are left
// out: their parent never waited for them. Several roots (a partial trace)
// hang under a virtual root spanning them all; its time is a gap in the path.

import type { Span } from '../span.js';
import type { TraceIndex } from './trace-index.js';
import { absTime, buildIndex, sortRange } from './trace-index.js';

export interface CriticalPathSegment {
  spanId: string;
  service: string;
  operation: string;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
}

/** Critical path of one trace as given (analyzeTrace removes clock skew first), as segments in time order. O(n log n), iterative. */
export function criticalPath(spans: readonly Span[]): CriticalPathSegment[] {
  return criticalPathOnIndex(buildIndex(spans));
}

/** Relative-time segments: span index and [start, end) offsets from `ix.base`. */
export interface RelSegment {
  span: number;
  start: number;
  end: number;
}

export function criticalPathOnIndex(ix: TraceIndex): CriticalPathSegment[] {
  return criticalPathRel(ix).map((s) => {
    const span = ix.spans[s.span]!;
    return {
      spanId: span.spanId,
      service: span.service,
      operation: span.name,
      startTimeUnixNano: absTime(ix, s.start),
      endTimeUnixNano: absTime(ix, s.end),
    };
  });
}

export function criticalPathRel(ix: TraceIndex): RelSegment[] {
  const { n, start, end, parent, order, roots, async } = ix;
  if (n === 0) return [];
  // Node n is the virtual root, used only when there are several roots.
  const V = n;
  const cs = new Float64Array(n + 1);
  const ce = new Float64Array(n + 1);
  const kept = new Uint8Array(n + 1);
  let top: number;
  if (roots.length === 1) {
    top = roots[0]!;
  } else {
    top = V;
    cs[V] = Infinity;
    ce[V] = -Infinity;
    for (const r of roots) {
      if (start[r]! < cs[V]!) cs[V] = start[r]!;
      if (end[r]! > ce[V]!) ce[V] = end[r]!;
    }
    kept[V] = 1;
  }
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const p = parent[i]!;
    if (p < 0) {
      cs[i] = start[i]!;
      ce[i] = end[i]!;
      kept[i] = 1;
      continue;
    }
    if (!kept[p] || async[i]) continue;
    const s = Math.max(start[i]!, cs[p]!);
    const e = Math.min(end[i]!, ce[p]!);
    if (e <= s) continue;
    cs[i] = s;
    ce[i] = e;
    kept[i] = 1;
  }

  // Kept children of each node, last finishing first (ties: the longer one,
  // then input order). Node V's children are the roots.
  const offset = new Int32Array(n + 2);
  const kids = new Int32Array(n);
  let m = 0;
  const lastFirst = (a: number, b: number) => ce[b]! - ce[a]! || cs[a]! - cs[b]! || a - b;
  for (let i = 0; i <= n; i++) {
    offset[i] = m;
    if (!kept[i]) continue;
    if (i === V) {
      for (const r of roots) kids[m++] = r;
    } else {
      for (let k = ix.childOffset[i]!; k < ix.childOffset[i + 1]!; k++) if (kept[ix.children[k]!]) kids[m++] = ix.children[k]!;
    }
    sortRange(kids, offset[i]!, m, lastFirst);
  }
  offset[n + 1] = m;

  // The walk. `next[node]` only moves forward: a child ending after the
  // current point ran concurrently with the child already on the path and can
  // never become eligible again, because the point only moves back in time.
  const next = offset.slice(0, n + 1);
  const out: RelSegment[] = [];
  const emit = (node: number, s: number, e: number) => {
    if (node === V || s >= e) return;
    const last = out[out.length - 1];
    if (last && last.span === node && last.start === e) last.start = s;
    else out.push({ span: node, start: s, end: e });
  };
  const stack: number[] = [];
  let node = top;
  let t = ce[top]!;
  for (;;) {
    let child = -1;
    const stop = offset[node + 1]!;
    while (next[node]! < stop) {
      const c = kids[next[node]!++]!;
      if (ce[c]! <= t) {
        child = c;
        break;
      }
    }
    if (child >= 0) {
      emit(node, ce[child]!, t);
      stack.push(node);
      node = child;
      t = ce[child]!;
    } else {
      emit(node, cs[node]!, t);
      if (stack.length === 0) break;
      t = cs[node]!;
      node = stack.pop()!;
    }
  }
  return out.reverse();
}
