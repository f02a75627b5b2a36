// Happens-before over a history of causal events (any number of traces).
//
// Every event gets an *effective clock*; happens-before is then plain vector
// clock order, plus program order inside a thread. How the effective clock is
// made:
//
//   thread T (has clocks)        thread U (no clocks: synthesised)
//   e1  [a:1]        -> E [a:1]          span S (parent P)
//   e2  (no clock)   -> E [a:1]   P: p1 ---+ start(S)
//   e3  [a:2,b:1]    -> E [a:2,b:1]        |
//                                   U: u1   E = E(p1) ⊔ [~U:1]
//                                      u2   E = E(u1) ⊔ [~U:2]
//
// 1. Thread = (service, instance, thread.id). Thread order = time, then clock
//    sum, then input position (events in the same nanosecond are told apart
//    by their clocks).
// 2. A thread with at least one `ariadne.clock`: E is the running join of the
//    clocks along thread order, so it never goes backwards. An event without
//    a clock takes the clock of the nearest earlier event of its thread (of
//    the first clocked one when there is none before it): we assume it
//    happened at that logical time.
// 3. A thread with no clocks at all gets a synthetic component of its own
//    (its position in the thread) and inherits through span parentage: the
//    events of a span S know everything the events of S's parent span did up
//    to S's start time (the fork), transitively up the span tree.
//    Parentage is only used for such threads; a clocked event's ordering comes
//    from its clock alone.
// 4. a → b iff a precedes b in the same thread, or they are in different
//    threads and E(a) < E(b) (≤ everywhere and not equal). Equal clocks on
//    different threads are concurrent.
//
// This relation is a strict partial order (E is monotone along each thread),
// so the detector can process events in one linear extension of it: ascending
// clock sum, then time, thread and thread position.

import { type CausalEvent, type SpanTopology, groupByThread, spanKey } from './events.js';
import type { ClockEntry, VectorClock } from './clock.js';

/** A clock over interned component numbers, sorted by component number. */
export interface EffClock {
  readonly ids: readonly number[];
  readonly vals: readonly number[];
  readonly sum: number;
  /** Equal clocks of one CausalOrder share an id; -1 for clocks made later. */
  id: number;
}

const emptyClock = (): EffClock => ({ ids: [], vals: [], sum: 0, id: -1 });

/** a ≤ b componentwise. */
export function effLeq(a: EffClock, b: EffClock): boolean {
  if (a === b) return true;
  if (a.sum > b.sum || a.ids.length > b.ids.length) return false; // every counter is positive
  const ai = a.ids;
  const bi = b.ids;
  let j = 0;
  for (let i = 0; i < ai.length; i++) {
    const c = ai[i]!;
    while (j < bi.length && bi[j]! < c) j++;
    if (j === bi.length || bi[j] !== c || a.vals[i]! > b.vals[j]!) return false;
    j++;
  }
  return true;
}

/** Componentwise maximum. */
export function effJoin(a: EffClock, b: EffClock): EffClock {
  if (a.ids.length === 0 || effLeq(a, b)) return b;
  if (b.ids.length === 0 || effLeq(b, a)) return a;
  const ids: number[] = [];
  const vals: number[] = [];
  let i = 0;
  let j = 0;
  let sum = 0;
  while (i < a.ids.length || j < b.ids.length) {
    const ca = i < a.ids.length ? a.ids[i]! : Infinity;
    const cb = j < b.ids.length ? b.ids[j]! : Infinity;
    let v: number;
    if (ca < cb) {
      ids.push(ca);
      v = a.vals[i++]!;
    } else if (cb < ca) {
      ids.push(cb);
      v = b.vals[j++]!;
    } else {
      ids.push(ca);
      v = Math.max(a.vals[i++]!, b.vals[j++]!);
    }
    vals.push(v);
    sum += v;
  }
  return { ids, vals, sum, id: -1 };
}

/** Componentwise minimum (a component missing on either side is 0). */
export function effMeet(a: EffClock, b: EffClock): EffClock {
  if (effLeq(a, b)) return a;
  if (effLeq(b, a)) return b;
  const ids: number[] = [];
  const vals: number[] = [];
  let sum = 0;
  let j = 0;
  for (let i = 0; i < a.ids.length; i++) {
    const c = a.ids[i]!;
    while (j < b.ids.length && b.ids[j]! < c) j++;
    if (j < b.ids.length && b.ids[j] === c) {
      const v = Math.min(a.vals[i]!, b.vals[j]!);
      ids.push(c);
      vals.push(v);
      sum += v;
    }
  }
  return { ids, vals, sum, id: -1 };
}

export type EventRelation = 'before' | 'after' | 'concurrent' | 'same';

export interface CausalOrderOptions {
  /** Span parents and starts beyond those the events carry (see spanTopology). */
  topology?: SpanTopology;
}

export interface CausalOrder {
  readonly events: readonly CausalEvent[];
  /** Event indexes in a linear extension of happens-before. */
  readonly order: Int32Array;
  /** Position of each event in `order`. */
  readonly rank: Int32Array;
  /** Thread number of each event. */
  readonly thread: Int32Array;
  /** Position of each event in its thread. */
  readonly threadPos: Int32Array;
  readonly threadKeys: readonly string[];
  /** Effective clock of each event (interned: equal clocks have equal ids). */
  readonly clocks: readonly EffClock[];
  /** Whether event i happens before event j. */
  happensBefore(i: number, j: number): boolean;
  relation(i: number, j: number): EventRelation;
  /** The effective clock of event i, with the names of its components. */
  effectiveClock(i: number): VectorClock;
}

const SYNTHETIC = '\u0000thread\u0000';

/** Computes effective clocks and a processing order for a history. */
export function buildCausalOrder(events: readonly CausalEvent[], options: CausalOrderOptions = {}): CausalOrder {
  const n = events.length;
  const compIds = new Map<string, number>();
  const compNames: string[] = [];
  const compId = (name: string): number => {
    let id = compIds.get(name);
    if (id === undefined) {
      id = compNames.length;
      compIds.set(name, id);
      compNames.push(name);
    }
    return id;
  };
  const interned = new Map<number, EffClock | EffClock[]>();
  let internedCount = 0;
  const intern = (c: EffClock): EffClock => {
    if (c.id >= 0) return c;
    let h = c.ids.length;
    for (let i = 0; i < c.ids.length; i++) h = (Math.imul(h, 31) + c.ids[i]! * 7919 + c.vals[i]!) & 0x3fffffff;
    const found = interned.get(h);
    const same = (o: EffClock) => o.sum === c.sum && o.ids.length === c.ids.length && effLeq(o, c);
    if (found !== undefined && !Array.isArray(found) && same(found)) return found;
    if (Array.isArray(found)) for (const o of found) if (same(o)) return o;
    c.id = internedCount++; // clocks are never changed once made, so naming one in place is safe
    if (found === undefined) interned.set(h, c);
    else if (Array.isArray(found)) found.push(c);
    else interned.set(h, [found, c]);
    return c;
  };
  const fromEntries = (entries: readonly ClockEntry[]): EffClock => {
    const ids: number[] = [];
    const vals: number[] = [];
    let sum = 0;
    for (let e = 0; e < entries.length; e++) {
      const v = entries[e]![1];
      if (!(v > 0)) continue;
      const c = compId(entries[e]![0]);
      // Insertion by component number (clocks are short); duplicates keep the larger.
      let k = ids.length;
      while (k > 0 && ids[k - 1]! > c) k--;
      if (k > 0 && ids[k - 1] === c) {
        if (v > vals[k - 1]!) {
          sum += v - vals[k - 1]!;
          vals[k - 1] = v;
        }
        continue;
      }
      ids.push(c);
      vals.push(v);
      for (let m = ids.length - 1; m > k; m--) {
        ids[m] = ids[m - 1]!;
        vals[m] = vals[m - 1]!;
      }
      ids[k] = c;
      vals[k] = v;
      sum += v;
    }
    return { ids, vals, sum, id: -1 };
  };

  const { keys: threadKeys, members, thread } = groupByThread(events);
  const threadPos = new Int32Array(n);
  for (const m of members) for (let k = 0; k < m.length; k++) threadPos[m[k]!] = k;

  const data: (EffClock | undefined)[] = events.map((e) => (e.clock && e.clock.length > 0 ? fromEntries(e.clock) : undefined));
  const eff: (EffClock | undefined)[] = new Array(n);
  const clockless: boolean[] = members.map((m) => !m.some((i) => data[i] !== undefined));

  // 2. Threads with clocks: running join along thread order.
  for (let t = 0; t < members.length; t++) {
    if (clockless[t]) continue;
    const m = members[t]!;
    let running: EffClock | undefined;
    const leading: number[] = [];
    for (const i of m) {
      const d = data[i];
      if (d !== undefined) running = running === undefined ? d : effJoin(running, d);
      if (running === undefined) leading.push(i);
      else eff[i] = running;
    }
    for (const i of leading) eff[i] = data[m.find((x) => data[x] !== undefined)!]!;
  }

  // 3. Threads without clocks: synthetic component + span forks.
  if (clockless.some((x) => x)) synthesise();

  const clocks = eff.map((c) => intern(c ?? emptyClock()));

  // Processing order: clock sum, time, thread, thread position.
  const threadRank = new Int32Array(threadKeys.length);
  threadKeys
    .map((k, t) => [k, t] as const)
    .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
    .forEach(([, t], r) => (threadRank[t] = r));
  // Times relative to the earliest, as doubles: exact over 104 days, and any
  // rounding beyond that only reorders events of different threads.
  let t0 = n > 0 ? events[0]!.timeUnixNano : 0n;
  for (const e of events) if (e.timeUnixNano < t0) t0 = e.timeUnixNano;
  const sumKey = new Float64Array(n);
  const timeKey = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    sumKey[i] = clocks[i]!.sum;
    timeKey[i] = Number(events[i]!.timeUnixNano - t0);
  }
  const orderArr = Array.from({ length: n }, (_, i) => i).sort(
    (i, j) =>
      sumKey[i]! - sumKey[j]! ||
      timeKey[i]! - timeKey[j]! ||
      threadRank[thread[i]!]! - threadRank[thread[j]!]! ||
      threadPos[i]! - threadPos[j]!,
  );
  const order = Int32Array.from(orderArr);
  const rank = new Int32Array(n);
  for (let r = 0; r < n; r++) rank[order[r]!] = r;

  const happensBefore = (i: number, j: number): boolean => {
    if (i === j) return false;
    if (thread[i] === thread[j]) return threadPos[i]! < threadPos[j]!;
    const a = clocks[i]!;
    const b = clocks[j]!;
    return a.id !== b.id && effLeq(a, b);
  };

  return {
    events,
    order,
    rank,
    thread,
    threadPos,
    threadKeys,
    clocks,
    happensBefore,
    relation(i, j) {
      if (i === j) return 'same';
      if (happensBefore(i, j)) return 'before';
      if (happensBefore(j, i)) return 'after';
      return 'concurrent';
    },
    effectiveClock(i) {
      const c = clocks[i]!;
      const out: ClockEntry[] = [];
      for (let k = 0; k < c.ids.length; k++) out.push([compNames[c.ids[k]!]!, c.vals[k]!]);
      return out.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    },
  };

  function synthesise(): void {
    // Spans: events per thread (in thread order, so times ascend), parent, start.
    interface SpanNode {
      parent: string | undefined;
      start: bigint;
      byThread: Map<number, number[]>;
    }
    const spans = new Map<string, SpanNode>();
    const spanOf = new Array<string>(n);
    for (const m of members) {
      for (const i of m) {
        const e = events[i]!;
        const key = spanKey(e.traceId, e.spanId);
        spanOf[i] = key;
        let s = spans.get(key);
        if (!s) {
          s = { parent: e.parentSpanId ? spanKey(e.traceId, e.parentSpanId) : undefined, start: e.spanStartUnixNano, byThread: new Map() };
          spans.set(key, s);
        }
        let list = s.byThread.get(thread[i]!);
        if (!list) s.byThread.set(thread[i]!, (list = []));
        list.push(i);
      }
    }
    const topo = options.topology;
    const spanNode = (key: string): SpanNode | undefined => {
      let s = spans.get(key);
      if (!s && topo) {
        const info = topo.get(key);
        if (info) {
          const traceId = key.slice(0, key.indexOf('/'));
          s = { parent: info.parentSpanId ? spanKey(traceId, info.parentSpanId) : undefined, start: info.startTimeUnixNano, byThread: new Map() };
          spans.set(key, s);
        }
      }
      return s;
    };
    const forkIds = new Map<string, number>();
    const forkKeys: string[] = [];
    const forkId = (key: string): number => {
      let id = forkIds.get(key);
      if (id === undefined) {
        id = forkKeys.length;
        forkIds.set(key, id);
        forkKeys.push(key);
      }
      return id;
    };
    const forkClock: (EffClock | undefined)[] = [];
    // Node ids: events are 0..n-1, forks are n + forkId.
    const state = new Map<number, 1 | 2>(); // 1 = in progress, 2 = done
    const done = (node: number): boolean => (node < n ? eff[node] !== undefined : forkClock[node - n] !== undefined);

    const deps = (node: number): number[] => {
      if (node < n) {
        const m = members[thread[node]!]!;
        const k = threadPos[node]!;
        const d = [n + forkId(spanOf[node]!)];
        if (k > 0) d.push(m[k - 1]!);
        return d;
      }
      const s = spanNode(forkKeys[node - n]!);
      const p = s?.parent === undefined ? undefined : spanNode(s.parent);
      if (!s || !p) return [];
      const d = [n + forkId(s.parent!)];
      for (const list of p.byThread.values()) {
        // Last event of the parent in this thread at or before the fork.
        let lo = 0;
        let hi = list.length - 1;
        let found = -1;
        while (lo <= hi) {
          const mid = (lo + hi) >> 1;
          if (events[list[mid]!]!.timeUnixNano <= s.start) {
            found = mid;
            lo = mid + 1;
          } else hi = mid - 1;
        }
        if (found >= 0) d.push(list[found]!);
      }
      return d;
    };
    const compute = (node: number, ds: number[]): void => {
      let c = emptyClock();
      for (const d of ds) {
        const dc = d < n ? eff[d] : forkClock[d - n];
        if (dc !== undefined) c = effJoin(c, dc); // an unfinished dependency is a cycle: ignored
      }
      if (node < n) {
        const syn: EffClock = { ids: [compId(SYNTHETIC + threadKeys[thread[node]!])], vals: [threadPos[node]! + 1], sum: threadPos[node]! + 1, id: -1 };
        eff[node] = effJoin(c, syn);
      } else forkClock[node - n] = c;
    };

    for (let t = 0; t < members.length; t++) {
      if (!clockless[t]) continue;
      for (const start of members[t]!) {
        if (done(start)) continue;
        const stack: number[] = [start];
        const pending = new Map<number, number[]>();
        while (stack.length > 0) {
          const node = stack[stack.length - 1]!;
          if (done(node)) {
            stack.pop();
            continue;
          }
          if (state.get(node) !== 1) {
            state.set(node, 1);
            const ds = deps(node);
            pending.set(node, ds);
            for (const d of ds) if (!done(d) && state.get(d) !== 1) stack.push(d);
          } else {
            compute(node, pending.get(node)!);
            pending.delete(node);
            state.set(node, 2);
            stack.pop();
          }
        }
      }
    }
  }
}
