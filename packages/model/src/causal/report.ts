// The causal report beside the races: per-variable audit trails, event counts
// per service, async spawn/await pairs and lock contention.

import { nanos, type Nanos } from '../units.js';
import { type AccessKind, ACCESS_KINDS, type CausalEvent, type HeldLock, isSharedLockType } from './events.js';
import { type CausalOrder, type CausalOrderOptions, type EffClock, buildCausalOrder, effJoin, effLeq, effMeet } from './happens-before.js';
import { type RaceAccess, accessesByVariable, accessesConflict, CommonLocks, LockSetIds, locksProtect, toRaceAccess } from './races.js';

// ---- audit trails ----

/** How an access stands to the one before it in the trail. */
export type AuditLink = 'first' | 'happens-before' | 'concurrent';

export interface AuditEntry extends RaceAccess {
  /** Position in the trail. */
  sequence: number;
  /** It races with at least one other access of the variable. */
  racy: boolean;
  /** 'happens-before': the previous access is causally before this one. */
  link: AuditLink;
}

export interface AuditTrail {
  variable: string;
  /** Every access, in an order consistent with happens-before. */
  accesses: AuditEntry[];
  accessCount: number;
  racyCount: number;
  /** More accesses than maxAccessesPerVariable: the list holds the first ones. */
  truncated: boolean;
}

export interface AuditOptions extends CausalOrderOptions {
  /** Only these variables (default: all). */
  variables?: readonly string[];
  /** Entries listed per variable (default 1,000; counts cover all). */
  maxAccessesPerVariable?: number;
  order?: CausalOrder;
}

/**
 * Which accesses (positions in `accesses`, a processing-order list of one
 * variable) race with some other access. Exact, in two passes of the
 * summary the detector uses: forward finds the later side of every racing
 * pair, backward the earlier side. O(n · buckets · clock size).
 */
export function markRacyAccesses(order: CausalOrder, accesses: readonly number[]): Uint8Array {
  const racy = new Uint8Array(accesses.length);
  const lockSets = new LockSetIds();
  for (const dir of [1, -1] as const) {
    const buckets = new Map<number, SummaryBucket>();
    const common = new CommonLocks();
    for (let p = dir === 1 ? 0 : accesses.length - 1; p >= 0 && p < accesses.length; p += dir) {
      const i = accesses[p]!;
      const e = order.events[i]!;
      const t = order.thread[i]!;
      const c = order.clocks[i]!;
      const key = lockSets.of(e.locks) * 8 + ACCESS_KINDS.indexOf(e.access!);
      let own = buckets.get(key);
      if (!own) {
        buckets.set(key, (own = new SummaryBucket(e.access!, e.locks)));
        common.add(e.locks);
      }
      if (!racy[p] && !(e.locks.length > 0 && common.protectsFromAll(e.locks))) {
        for (const b of buckets.values()) {
          if (b.empty() || !accessesConflict(b.kind, e.access!) || locksProtect(b.locks, e.locks)) continue;
          // forward: all earlier entries happen before i iff their join ≤ c;
          // backward: i happens before all later entries iff c ≤ their meet.
          const ordered = dir === 1 ? effLeq(b.summary(dir), c) : effLeq(c, b.summary(dir));
          if (!ordered || b.otherThreadWithClock(c.id, t)) {
            racy[p] = 1;
            break;
          }
        }
      }
      own.put(t, c);
    }
  }
  return racy;
}

class SummaryBucket {
  private readonly byThread = new Map<number, EffClock>();
  private readonly threadsByClock = new Map<number, Set<number>>();
  private acc: EffClock | undefined;
  private pending: EffClock[] = [];
  constructor(
    readonly kind: AccessKind,
    readonly locks: readonly HeldLock[],
  ) {}

  put(thread: number, c: EffClock): void {
    const old = this.byThread.get(thread);
    if (old) this.threadsByClock.get(old.id)?.delete(thread);
    this.byThread.set(thread, c);
    let s = this.threadsByClock.get(c.id);
    if (!s) this.threadsByClock.set(c.id, (s = new Set()));
    s.add(thread);
    this.pending.push(c);
  }

  /** Join (forward) or meet (backward) of the entries. */
  summary(dir: 1 | -1): EffClock {
    let a = this.acc;
    for (const c of this.pending) a = a === undefined ? c : dir === 1 ? effJoin(a, c) : effMeet(a, c);
    this.pending = [];
    this.acc = a;
    return a!;
  }

  empty(): boolean {
    return this.byThread.size === 0;
  }

  otherThreadWithClock(id: number, thread: number): boolean {
    const s = this.threadsByClock.get(id);
    if (!s) return false;
    for (const t of s) if (t !== thread) return true;
    return false;
  }
}

export function buildAuditTrails(events: readonly CausalEvent[], options: AuditOptions = {}): AuditTrail[] {
  const order = options.order ?? buildCausalOrder(events, options);
  const max = options.maxAccessesPerVariable ?? 1000;
  const only = options.variables ? new Set(options.variables) : undefined;
  const trails: AuditTrail[] = [];
  for (const [variable, accesses] of accessesByVariable(order)) {
    if (only && !only.has(variable)) continue;
    const racy = markRacyAccesses(order, accesses);
    const entries: AuditEntry[] = [];
    let racyCount = 0;
    for (let p = 0; p < accesses.length; p++) {
      if (racy[p]) racyCount++;
      if (p >= max) continue;
      const i = accesses[p]!;
      const link: AuditLink = p === 0 ? 'first' : order.happensBefore(accesses[p - 1]!, i) ? 'happens-before' : 'concurrent';
      entries.push({ ...toRaceAccess(events[i]!), sequence: p, racy: racy[p] === 1, link });
    }
    trails.push({ variable, accesses: entries, accessCount: accesses.length, racyCount, truncated: accesses.length > max });
  }
  return trails;
}

// ---- event types per service ----

export interface ServiceBreakdown {
  service: string;
  total: number;
  state: Record<AccessKind, number>;
  lock: { acquire: number; release: number };
  async: { spawn: number; await: number };
  variables: number;
  threads: number;
}

export function serviceBreakdown(events: readonly CausalEvent[]): ServiceBreakdown[] {
  const by = new Map<string, { b: ServiceBreakdown; vars: Set<string>; threads: Set<string> }>();
  for (const e of events) {
    let s = by.get(e.service);
    if (!s) {
      const state = Object.fromEntries(ACCESS_KINDS.map((k) => [k, 0])) as Record<AccessKind, number>;
      s = {
        b: { service: e.service, total: 0, state, lock: { acquire: 0, release: 0 }, async: { spawn: 0, await: 0 }, variables: 0, threads: 0 },
        vars: new Set(),
        threads: new Set(),
      };
      by.set(e.service, s);
    }
    s.b.total++;
    s.threads.add(`${e.instance ?? ''}\u0000${e.threadId}`);
    if (e.kind === 'state' && e.access) {
      s.b.state[e.access]++;
      s.vars.add(e.variable!);
    } else if (e.kind === 'lock' && e.lockOp) s.b.lock[e.lockOp]++;
    else if (e.kind === 'async' && e.asyncOp) s.b.async[e.asyncOp]++;
  }
  return [...by.values()]
    .map(({ b, vars, threads }) => ({ ...b, variables: vars.size, threads: threads.size }))
    .sort((x, y) => (x.service < y.service ? -1 : x.service > y.service ? 1 : 0));
}

// ---- async spawn/await pairs ----

export interface AsyncEnd {
  threadId: string;
  spanId: string;
  timeUnixNano: bigint;
  location: string | null;
}

export type AsyncOutcome = 'completed' | 'pending' | 'await_without_spawn';

export interface AsyncPair {
  taskId: string;
  traceId: string;
  service: string;
  instance: string | null;
  spawn: AsyncEnd | null;
  await: AsyncEnd | null;
  /** await − spawn, when both are known. */
  durationNanos: Nanos | null;
  /** 'pending': spawned, never awaited (in these events). */
  outcome: AsyncOutcome;
}

/**
 * Pairs spawns with awaits of the same task id in the same trace and service
 * instance, first come first served by time (SDKs reuse task names such as
 * `http_request` for every call).
 */
export function asyncPairs(events: readonly CausalEvent[]): AsyncPair[] {
  const groups = new Map<string, CausalEvent[]>();
  for (const e of events) {
    if (e.kind !== 'async' || e.taskId === undefined) continue;
    const k = `${e.traceId}\u0000${e.service}\u0000${e.instance ?? ''}\u0000${e.taskId}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(e);
  }
  const end = (e: CausalEvent): AsyncEnd => ({ threadId: e.threadId, spanId: e.spanId, timeUnixNano: e.timeUnixNano, location: e.location ?? null });
  const out: AsyncPair[] = [];
  for (const g of groups.values()) {
    g.sort((a, b) => (a.timeUnixNano < b.timeUnixNano ? -1 : a.timeUnixNano > b.timeUnixNano ? 1 : a.asyncOp === 'spawn' ? -1 : 1));
    const open: CausalEvent[] = [];
    const base = (e: CausalEvent) => ({ taskId: e.taskId!, traceId: e.traceId, service: e.service, instance: e.instance ?? null });
    for (const e of g) {
      if (e.asyncOp === 'spawn') {
        open.push(e);
        continue;
      }
      const s = open.shift();
      if (s) {
        out.push({ ...base(s), spawn: end(s), await: end(e), durationNanos: nanos(Number(e.timeUnixNano - s.timeUnixNano)), outcome: 'completed' });
      } else out.push({ ...base(e), spawn: null, await: end(e), durationNanos: null, outcome: 'await_without_spawn' });
    }
    for (const s of open) out.push({ ...base(s), spawn: end(s), await: null, durationNanos: null, outcome: 'pending' });
  }
  const t = (p: AsyncPair) => (p.spawn ?? p.await)!.timeUnixNano;
  return out.sort((a, b) => (t(a) < t(b) ? -1 : t(a) > t(b) ? 1 : a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0));
}

// ---- lock contention ----

export interface LockContention {
  lockId: string;
  lockTypes: string[];
  services: string[];
  /** Acquire events (re-entrant ones included). */
  acquisitions: number;
  /** Outermost acquire → release intervals. */
  holds: number;
  threads: number;
  totalHoldNanos: Nanos;
  maxHoldNanos: Nanos;
  meanHoldNanos: Nanos;
  /**
   * Holds that began while another thread held the lock: its acquire falls
   * inside the other hold's [acquire, release) by time, and the other
   * release does not happen before it by clocks. Two read-mode holds never
   * wait for each other.
   */
  waiters: number;
  /** Longest such overlap: other release − this acquire. */
  maxWaitNanos: Nanos;
  /** Acquired and never released (in these events). */
  unreleased: number;
}

interface Hold {
  acq: number;
  rel: number;
  thread: number;
  shared: boolean;
}

export function lockContention(events: readonly CausalEvent[], options: { order?: CausalOrder } & CausalOrderOptions = {}): LockContention[] {
  const order = options.order ?? buildCausalOrder(events, options);
  interface Acc {
    types: Set<string>;
    services: Set<string>;
    acquisitions: number;
    holds: Hold[];
    threads: Set<number>;
    unreleased: number;
  }
  const locks = new Map<string, Acc>();
  const accOf = (id: string): Acc => {
    let a = locks.get(id);
    if (!a) locks.set(id, (a = { types: new Set(), services: new Set(), acquisitions: 0, holds: [], threads: new Set(), unreleased: 0 }));
    return a;
  };
  // Walk each thread in thread order, pairing outermost acquires with releases.
  const byThread = new Map<number, number[]>();
  for (let i = 0; i < events.length; i++) {
    if (events[i]!.kind !== 'lock') continue;
    const t = order.thread[i]!;
    let l = byThread.get(t);
    if (!l) byThread.set(t, (l = []));
    l.push(i);
  }
  for (const [t, list] of byThread) {
    list.sort((a, b) => order.threadPos[a]! - order.threadPos[b]!);
    const open = new Map<string, { first: number; depth: number }>();
    for (const i of list) {
      const e = events[i]!;
      const a = accOf(e.lockId!);
      if (e.lockType) a.types.add(e.lockType);
      a.services.add(e.service);
      a.threads.add(t);
      const o = open.get(e.lockId!);
      if (e.lockOp === 'acquire') {
        a.acquisitions++;
        if (o) o.depth++;
        else open.set(e.lockId!, { first: i, depth: 1 });
      } else if (o && --o.depth === 0) {
        open.delete(e.lockId!);
        const first = events[o.first]!;
        a.holds.push({ acq: o.first, rel: i, thread: t, shared: isSharedLockType(first.lockType) });
      }
    }
    for (const id of open.keys()) accOf(id).unreleased++;
  }

  const time = (i: number) => events[i]!.timeUnixNano;
  const out: LockContention[] = [];
  for (const [lockId, a] of locks) {
    let total = 0;
    let max = 0;
    for (const h of a.holds) {
      const d = Number(time(h.rel) - time(h.acq));
      total += d;
      if (d > max) max = d;
    }
    // Sweep by acquire time, keeping the holds still open at that time.
    const holds = [...a.holds].sort((x, y) => (time(x.acq) < time(y.acq) ? -1 : time(x.acq) > time(y.acq) ? 1 : x.acq - y.acq));
    let active: Hold[] = [];
    let waiters = 0;
    let maxWait = 0;
    for (const h of holds) {
      const t = time(h.acq);
      active = active.filter((g) => time(g.rel) > t);
      let wait = -1;
      for (const g of active) {
        if (g.thread === h.thread || (g.shared && h.shared) || order.happensBefore(g.rel, h.acq)) continue;
        wait = Math.max(wait, Number(time(g.rel) - t));
      }
      if (wait >= 0) {
        waiters++;
        if (wait > maxWait) maxWait = wait;
      }
      active.push(h);
    }
    out.push({
      lockId,
      lockTypes: [...a.types].sort(),
      services: [...a.services].sort(),
      acquisitions: a.acquisitions,
      holds: a.holds.length,
      threads: a.threads.size,
      totalHoldNanos: nanos(total),
      maxHoldNanos: nanos(max),
      meanHoldNanos: nanos(a.holds.length ? Math.round(total / a.holds.length) : 0),
      waiters,
      maxWaitNanos: nanos(maxWait),
      unreleased: a.unreleased,
    });
  }
  return out.sort((x, y) => y.waiters - x.waiters || y.totalHoldNanos - x.totalHoldNanos || (x.lockId < y.lockId ? -1 : x.lockId > y.lockId ? 1 : 0));
}

// ---- everything together ----

export interface CausalReport {
  summary: { events: number; services: number; threads: number; variables: number; racyVariables: number };
  auditTrails: AuditTrail[];
  breakdown: ServiceBreakdown[];
  asyncPairs: AsyncPair[];
  locks: LockContention[];
}

/** The causal report of a history (one trace or many); races come from detectRaces. */
export function buildCausalReport(events: readonly CausalEvent[], options: AuditOptions = {}): CausalReport {
  const order = options.order ?? buildCausalOrder(events, options);
  const auditTrails = buildAuditTrails(events, { ...options, order });
  return {
    summary: {
      events: events.length,
      services: new Set(events.map((e) => e.service)).size,
      threads: order.threadKeys.length,
      variables: auditTrails.length,
      racyVariables: auditTrails.filter((t) => t.racyCount > 0).length,
    },
    auditTrails,
    breakdown: serviceBreakdown(events),
    asyncPairs: asyncPairs(events),
    locks: lockContention(events, { order }),
  };
}

/** JSON-ready form: bigint times as decimal strings. */
export function causalReportToJson(r: CausalReport): unknown {
  return JSON.parse(JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
}
