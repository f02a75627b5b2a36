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
  const { n, start, end, roots, async, childOffset, children } = ix;
  if (n === 0) return [];
  // Node n is the virtual root, used only when there are several roots.
  const V = n;
  // Clipped times, kept children (last finishing first) and the walk's place
  // in them, laid out only for the nodes the walk enters: the path's few
  // spans, not the whole trace.
  const cs = new Float64Array(n + 1);
  const ce = new Float64Array(n + 1);
  const kids = new Int32Array(n);
  const next = new Int32Array(n + 1);
  const stop = new Int32Array(n + 1);
  let m = 0;
  // Ties: the longer one, then input order.
  const lastFirst = (a: number, b: number) => ce[b]! - ce[a]! || cs[a]! - cs[b]! || a - b;
  const enter = (node: number) => {
    next[node] = m;
    if (node === V) {
      for (const r of roots) kids[m++] = r;
    } else {
      for (let k = childOffset[node]!; k < childOffset[node + 1]!; k++) {
        const c = children[k]!;
        if (async[c]) continue;
        const s = Math.max(start[c]!, cs[node]!);
        const e = Math.min(end[c]!, ce[node]!);
        if (e <= s) continue;
        cs[c] = s;
        ce[c] = e;
        kids[m++] = c;
      }
    }
    stop[node] = m;
    sortRange(kids, next[node]!, m, lastFirst);
  };
  for (const r of roots) {
    cs[r] = start[r]!;
    ce[r] = end[r]!;
  }
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
  }

  // The walk. `next[node]` only moves forward: a child ending after the
  // current point ran concurrently with the child already on the path and can
  // never become eligible again, because the point only moves back in time.
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
  enter(top);
  for (;;) {
    let child = -1;
    while (next[node]! < stop[node]!) {
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
      enter(node);
    } else {
      emit(node, cs[node]!, t);
      if (stack.length === 0) break;
      t = cs[node]!;
      node = stack.pop()!;
    }
  }
  return out.reverse();
}
