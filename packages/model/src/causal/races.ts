// Data-race detection over causal events, per variable, in the spirit of
// FastTrack: one pass in a linear extension of happens-before, keeping a small
// summary per variable instead of comparing all pairs. The exact definition
// of what is reported, the diagram and the complexity are in
// docs/design/races.md; detectRacesBruteForce is the same definition written
// as plainly as possible, to compare against.

import { type AccessKind, type CausalEvent, type HeldLock, isAtomicAccess, isWriteAccess } from './events.js';
import type { ClockEntry } from './clock.js';
import { type CausalOrder, type CausalOrderOptions, type EffClock, buildCausalOrder, effJoin, effLeq } from './happens-before.js';

export type RaceSeverity = 'critical' | 'warning';

/** One side of a race, as the API reports it. */
export interface RaceAccess {
  service: string;
  instance: string | null;
  threadId: string;
  access: AccessKind;
  location: string | null;
  oldValue: string | null;
  newValue: string | null;
  /** The event's own `ariadne.clock` ([] when it had none). */
  clock: ClockEntry[];
  traceId: string;
  spanId: string;
  timeUnixNano: bigint;
  /** Ids of the locks held. */
  locks: string[];
}

export interface Race {
  variable: string;
  /** 'critical' for write/write, 'warning' for read/write. */
  severity: RaceSeverity;
  /** Earlier access (in processing order) first. */
  accesses: [RaceAccess, RaceAccess];
}

export interface RaceReport {
  races: Race[];
  /** Whether a limit cut the list short. */
  truncated: boolean;
  /** Variables whose races were cut at maxRacesPerVariable (or not examined after maxRaces). */
  truncatedVariables: string[];
}

export interface RaceOptions extends CausalOrderOptions {
  /** Stop reporting a variable after this many races (default 100). */
  maxRacesPerVariable?: number;
  /** Stop after this many races in all (default 10,000). */
  maxRaces?: number;
  /** A causal order already built for these events. */
  order?: CausalOrder;
}

export const DEFAULT_MAX_RACES_PER_VARIABLE = 100;
export const DEFAULT_MAX_RACES = 10_000;

/**
 * Whether two access kinds conflict: at least one writes and not both are
 * atomic (atomic operations synchronise with each other; an atomic and a
 * plain access to the same variable still race).
 */
export function accessesConflict(a: AccessKind, b: AccessKind): boolean {
  return (isWriteAccess(a) || isWriteAccess(b)) && !(isAtomicAccess(a) && isAtomicAccess(b));
}

export function raceSeverity(a: AccessKind, b: AccessKind): RaceSeverity {
  return isWriteAccess(a) && isWriteAccess(b) ? 'critical' : 'warning';
}

/** Whether two lock sets share a lock that excludes (not held in read mode by both). */
export function locksProtect(a: readonly HeldLock[], b: readonly HeldLock[]): boolean {
  if (a.length === 0 || b.length === 0) return false;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x.id === y.id) {
      if (!(x.shared && y.shared)) return true;
      i++;
      j++;
    } else if (x.id < y.id) i++;
    else j++;
  }
  return false;
}

function lockSignature(locks: readonly HeldLock[]): string {
  let s = '';
  for (const l of locks) s += `${l.shared ? 'r' : 'w'}${l.id.length}:${l.id}`;
  return s;
}

export function toRaceAccess(e: CausalEvent): RaceAccess {
  return {
    service: e.service,
    instance: e.instance ?? null,
    threadId: e.threadId,
    access: e.access ?? 'read',
    location: e.location ?? null,
    oldValue: e.oldValue ?? null,
    newValue: e.newValue ?? null,
    clock: e.clock ? e.clock.map((c) => [c[0], c[1]] as ClockEntry) : [],
    traceId: e.traceId,
    spanId: e.spanId,
    timeUnixNano: e.timeUnixNano,
    locks: e.locks.map((l) => l.id),
  };
}

/** State events per variable, each list in processing order; variables sorted. */
export function accessesByVariable(order: CausalOrder): Map<string, number[]> {
  const byVar = new Map<string, number[]>();
  const events = order.events;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.kind !== 'state' || e.variable === undefined || e.access === undefined) continue;
    let list = byVar.get(e.variable);
    if (!list) byVar.set(e.variable, (list = []));
    list.push(i);
  }
  const rank = order.rank;
  for (const list of byVar.values()) list.sort((i, j) => rank[i]! - rank[j]!);
  return new Map([...byVar].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)));
}

interface Entry {
  idx: number;
  thread: number;
  clock: EffClock;
  /** Streams (bucket × thread) this access has already raced with. */
  raced: Set<number> | undefined;
  /** Position in its bucket's log; false once its thread's next access replaced it. */
  seq: number;
  live: boolean;
}

const NO_ENTRIES: readonly Entry[] = [];

/** Lock-set signatures, cached on the (shared, frozen) lock-set arrays; weak, so nothing leaks. */
const signatures = new WeakMap<readonly HeldLock[], string>();

/**
 * Small numbers for distinct lock sets, for one pass (cached on the array:
 * assignLockSets shares one array per distinct set).
 */
export class LockSetIds {
  private readonly byArray = new WeakMap<readonly HeldLock[], number>();
  private readonly bySignature = new Map<string, number>();

  of(locks: readonly HeldLock[]): number {
    let id = this.byArray.get(locks);
    if (id === undefined) {
      let sig = signatures.get(locks);
      if (sig === undefined) signatures.set(locks, (sig = lockSignature(locks)));
      id = this.bySignature.get(sig);
      if (id === undefined) this.bySignature.set(sig, (id = this.bySignature.size));
      this.byArray.set(locks, id);
    }
    return id;
  }
}

const KIND_INDEX: Record<AccessKind, number> = { read: 0, write: 1, atomic_read: 2, atomic_write: 3, atomic_rmw: 4 };

function holds(locks: readonly HeldLock[], id: string, exclusively: boolean): boolean {
  for (const l of locks) if (l.id === id) return !exclusively || !l.shared;
  return false;
}

/**
 * The locks every bucket of a variable holds: an access holding one of them
 * (exclusively, or in read mode when every bucket holds it exclusively) is
 * protected from all of them, which settles uniformly guarded variables in
 * O(1) however varied their other locks are.
 */
export class CommonLocks {
  private any: Set<string> | undefined;
  private exclusive: Set<string> | undefined;

  add(locks: readonly HeldLock[]): void {
    if (this.any === undefined) {
      this.any = new Set(locks.map((l) => l.id));
      this.exclusive = new Set(locks.filter((l) => !l.shared).map((l) => l.id));
      return;
    }
    for (const id of this.any) if (!holds(locks, id, false)) this.any.delete(id);
    for (const id of this.exclusive!) if (!holds(locks, id, true)) this.exclusive!.delete(id);
  }

  protectsFromAll(locks: readonly HeldLock[]): boolean {
    if (this.any === undefined || this.any.size === 0) return false;
    for (const l of locks) if (l.shared ? this.exclusive!.has(l.id) : this.any.has(l.id)) return true;
    return false;
  }
}

/** The latest access of each thread with one access kind and one lock set. */
class Bucket {
  readonly entries = new Map<number, Entry>();
  /** Every entry ever put, in order. */
  readonly log: Entry[] = [];
  /**
   * Per stream, how much of the log it has examined. After a stream's access
   * is checked, every live entry is either before it (so before the stream's
   * later accesses too) or has met the stream: only newer entries matter.
   */
  readonly seen = new Map<number, number>();
  private readonly byClock = new Map<number, Entry | Entry[]>();
  private joined: EffClock | undefined;
  private pending: EffClock[] = [];
  constructor(
    readonly index: number,
    readonly kind: AccessKind,
    readonly locks: readonly HeldLock[],
  ) {}

  /** Join of the entries' clocks (computed only when a check needs it). */
  join(): EffClock {
    let j = this.joined;
    for (const c of this.pending) j = j === undefined ? c : effJoin(j, c);
    this.pending = [];
    this.joined = j;
    return j!;
  }

  sameClock(id: number): readonly Entry[] {
    const v = this.byClock.get(id);
    return v === undefined ? NO_ENTRIES : Array.isArray(v) ? v : [v];
  }

  put(e: Entry): void {
    const old = this.entries.get(e.thread);
    e.seq = this.log.length;
    this.log.push(e);
    if (old) {
      old.live = false;
      const v = this.byClock.get(old.clock.id);
      if (v === old) this.byClock.delete(old.clock.id);
      else if (Array.isArray(v)) v.splice(v.indexOf(old), 1);
    }
    this.entries.set(e.thread, e);
    const v = this.byClock.get(e.clock.id);
    if (v === undefined) this.byClock.set(e.clock.id, e);
    else if (Array.isArray(v)) v.push(e);
    else this.byClock.set(e.clock.id, [v, e]);
    // A thread's clocks only grow, so the join never has to shrink.
    this.pending.push(e.clock);
  }
}

/**
 * Finds data races in a history of causal events (one trace or many).
 * Reports, per variable, the pairs (a, b) where b races with a, a is the
 * latest access of its stream (thread, access kind, lock set) before b, and b
 * is the first access of its own stream after a that races with a. Every
 * racing pair is represented by a reported pair of the same two streams.
 */
export function detectRaces(events: readonly CausalEvent[], options: RaceOptions = {}): RaceReport {
  const order = options.order ?? buildCausalOrder(events, options);
  const perVarCap = options.maxRacesPerVariable ?? DEFAULT_MAX_RACES_PER_VARIABLE;
  const cap = options.maxRaces ?? DEFAULT_MAX_RACES;
  const threads = order.threadKeys.length;
  const { thread, clocks, rank } = order;
  const report: RaceReport = { races: [], truncated: false, truncatedVariables: [] };
  const lockSets = new LockSetIds();

  for (const [variable, accesses] of accessesByVariable(order)) {
    if (report.races.length >= cap) {
      report.truncated = true;
      report.truncatedVariables.push(variable);
      continue;
    }
    const buckets: Bucket[] = [];
    const bucketOf = new Map<number, Bucket>();
    const common = new CommonLocks();
    let count = 0;
    scan: for (const b of accesses) {
      const eb = events[b]!;
      const kind = eb.access!;
      const lockSet = lockSets.of(eb.locks);
      const key = lockSet * 8 + KIND_INDEX[kind];
      let own = bucketOf.get(key);
      if (!own) {
        bucketOf.set(key, (own = new Bucket(buckets.length, kind, eb.locks)));
        buckets.push(own);
        common.add(eb.locks);
      }
      const tb = thread[b]!;
      const cb = clocks[b]!;
      const stream = own.index * threads + tb;
      let found: Entry[] | undefined;
      if (eb.locks.length > 0 && common.protectsFromAll(eb.locks)) {
        own.put({ idx: b, thread: tb, clock: cb, raced: undefined, seq: 0, live: true });
        continue;
      }
      const consider = (a: Entry) => {
        if (!a.live || a.thread === tb || (a.clock.id !== cb.id && effLeq(a.clock, cb))) return; // replaced, or a → b
        if (a.raced?.has(stream)) return; // this stream already met a
        (a.raced ??= new Set()).add(stream);
        (found ??= []).push(a);
      };
      for (const bucket of buckets) {
        const from = bucket.seen.get(stream) ?? 0;
        const to = bucket.log.length;
        if (from === to || !accessesConflict(bucket.kind, kind) || locksProtect(bucket.locks, eb.locks)) continue;
        bucket.seen.set(stream, to);
        if (to - from > 8 && effLeq(bucket.join(), cb)) {
          // All happen before b, except those with b's very clock.
          for (const a of bucket.sameClock(cb.id)) if (a.seq >= from) consider(a);
        } else for (let k = from; k < to; k++) consider(bucket.log[k]!);
      }
      if (found) {
        found.sort((x, y) => rank[x.idx]! - rank[y.idx]!);
        for (const a of found) {
          if (count >= perVarCap || report.races.length >= cap) {
            report.truncated = true;
            report.truncatedVariables.push(variable);
            break scan;
          }
          report.races.push(makeRace(variable, events[a.idx]!, eb));
          count++;
        }
      }
      own.put({ idx: b, thread: tb, clock: cb, raced: undefined, seq: 0, live: true });
    }
  }
  return report;
}

function makeRace(variable: string, a: CausalEvent, b: CausalEvent): Race {
  return { variable, severity: raceSeverity(a.access!, b.access!), accesses: [toRaceAccess(a), toRaceAccess(b)] };
}

/** Whether events i and j (state events on one variable) race. */
export function isRace(order: CausalOrder, i: number, j: number): boolean {
  const a = order.events[i]!;
  const b = order.events[j]!;
  return (
    order.thread[i] !== order.thread[j] &&
    accessesConflict(a.access!, b.access!) &&
    !locksProtect(a.locks, b.locks) &&
    !order.happensBefore(i, j) &&
    !order.happensBefore(j, i)
  );
}

/**
 * The reference: the definition of detectRaces checked pair by pair, O(n²)
 * to O(n³) per variable. For tests and benchmarks.
 */
export function detectRacesBruteForce(events: readonly CausalEvent[], options: RaceOptions = {}): RaceReport {
  const order = options.order ?? buildCausalOrder(events, options);
  const perVarCap = options.maxRacesPerVariable ?? DEFAULT_MAX_RACES_PER_VARIABLE;
  const cap = options.maxRaces ?? DEFAULT_MAX_RACES;
  const report: RaceReport = { races: [], truncated: false, truncatedVariables: [] };
  const streamOf = (i: number): string => {
    const e = events[i]!;
    return `${order.thread[i]}|${e.access}|${lockSignature(e.locks)}`;
  };

  for (const [variable, acc] of accessesByVariable(order)) {
    if (report.races.length >= cap) {
      report.truncated = true;
      report.truncatedVariables.push(variable);
      continue;
    }
    const streams = acc.map(streamOf);
    // Neighbours in the same stream: next after, previous before (-1: none).
    const nextSame = new Int32Array(acc.length).fill(acc.length);
    const prevSame = new Int32Array(acc.length).fill(-1);
    const last = new Map<string, number>();
    for (let k = 0; k < acc.length; k++) {
      const p = last.get(streams[k]!);
      if (p !== undefined) {
        nextSame[p] = k;
        prevSame[k] = p;
      }
      last.set(streams[k]!, k);
    }
    let count = 0;
    outer: for (let jj = 0; jj < acc.length; jj++) {
      for (let ii = 0; ii < jj; ii++) {
        // a must be the latest access of its stream before b ...
        if (nextSame[ii]! < jj || !isRace(order, acc[ii]!, acc[jj]!)) continue;
        // ... and b the first of its stream after a to race with a.
        let first = true;
        for (let kk = prevSame[jj]!; kk > ii && first; kk = prevSame[kk]!) if (isRace(order, acc[ii]!, acc[kk]!)) first = false;
        if (!first) continue;
        if (count >= perVarCap || report.races.length >= cap) {
          report.truncated = true;
          report.truncatedVariables.push(variable);
          break outer;
        }
        report.races.push(makeRace(variable, events[acc[ii]!]!, events[acc[jj]!]!));
        count++;
      }
    }
  }
  return report;
}

/** Every racing pair of a variable, all pairs checked: for tests. */
export function allRacingPairs(order: CausalOrder, accesses: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (let jj = 0; jj < accesses.length; jj++)
    for (let ii = 0; ii < jj; ii++) if (isRace(order, accesses[ii]!, accesses[jj]!)) out.push([accesses[ii]!, accesses[jj]!]);
  return out;
}

/** JSON-ready form (times as decimal strings). */
export function raceReportToJson(r: RaceReport): unknown {
  return {
    races: r.races.map((race) => ({
      variable: race.variable,
      severity: race.severity,
      accesses: race.accesses.map((a) => ({ ...a, timeUnixNano: a.timeUnixNano.toString() })),
    })),
    truncated: r.truncated,
    truncatedVariables: r.truncatedVariables,
  };
}
