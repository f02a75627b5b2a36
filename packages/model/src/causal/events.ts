// Causal events: the `ariadne.state` / `ariadne.lock` / `ariadne.async` span
// events of the causal convention, pulled out of spans into one flat, typed
// list, with the set of locks each event's thread held at that moment.

import { stringAttribute, attributeText, plainValue } from '../attributes.js';
import type { AnyValue, KeyValue, Span } from '../span.js';
import { clockFromJson, clockSum, parseClock, type VectorClock } from './clock.js';

export const STATE_EVENT = 'ariadne.state';
export const LOCK_EVENT = 'ariadne.lock';
export const ASYNC_EVENT = 'ariadne.async';

/** Attribute keys of the causal convention (see ARCHITECTURE.md, "Causal events"). */
export const CausalAttr = {
  clock: 'ariadne.clock',
  threadId: 'thread.id',
  variable: 'ariadne.variable',
  access: 'ariadne.access',
  oldValue: 'ariadne.old_value',
  newValue: 'ariadne.new_value',
  location: 'ariadne.location',
  lockId: 'ariadne.lock.id',
  lockOp: 'ariadne.lock.op',
  lockType: 'ariadne.lock.type',
  taskId: 'ariadne.task.id',
  asyncOp: 'ariadne.async.op',
  /**
   * Extension: lock ids the emitter says the thread holds (Raceway's
   * `lock_set`), as a string array; joined with the locks tracked from
   * `ariadne.lock` events.
   */
  locksHeld: 'ariadne.locks_held',
} as const;

export type CausalKind = 'state' | 'lock' | 'async';
export type AccessKind = 'read' | 'write' | 'atomic_read' | 'atomic_write' | 'atomic_rmw';
export type LockOp = 'acquire' | 'release';
export type AsyncOp = 'spawn' | 'await';

export const ACCESS_KINDS: readonly AccessKind[] = ['read', 'write', 'atomic_read', 'atomic_write', 'atomic_rmw'];

/** A lock held at an event; `shared` for a read-mode hold of a read/write lock. */
export interface HeldLock {
  id: string;
  shared: boolean;
}

export interface CausalEvent {
  kind: CausalKind;
  traceId: string;
  spanId: string;
  /** The span's parent ('' for a root); used for happens-before when clocks are absent. */
  parentSpanId: string;
  spanStartUnixNano: bigint;
  service: string;
  /** `service.instance.id` of the resource, when known. */
  instance?: string;
  /** `thread.id` of the event or span; `span:<spanId>` when neither has one. */
  threadId: string;
  timeUnixNano: bigint;
  /** `ariadne.clock`, canonical; undefined when absent or malformed. */
  clock?: VectorClock;
  variable?: string;
  access?: AccessKind;
  /** JSON text as sent (possibly truncated by the emitter). */
  oldValue?: string;
  newValue?: string;
  location?: string;
  lockId?: string;
  lockOp?: LockOp;
  lockType?: string;
  taskId?: string;
  asyncOp?: AsyncOp;
  /** Locks the thread held at this event, sorted by id. */
  locks: readonly HeldLock[];
}

/** A causal event before its lock set is known; `declaredLocks` are lock ids the emitter listed. */
export type RawCausalEvent = Omit<CausalEvent, 'locks'> & { declaredLocks?: readonly string[] };

/** Whether the access writes (plain or atomic). */
export function isWriteAccess(a: AccessKind): boolean {
  return a === 'write' || a === 'atomic_write' || a === 'atomic_rmw';
}

export function isAtomicAccess(a: AccessKind): boolean {
  return a === 'atomic_read' || a === 'atomic_write' || a === 'atomic_rmw';
}

/** Reads `ariadne.access` and Raceway's spellings (`Read`, `AtomicRMW`, ...). */
export function parseAccessKind(text: string): AccessKind | undefined {
  switch (text.replace(/[_\s-]/g, '').toLowerCase()) {
    case 'read':
      return 'read';
    case 'write':
      return 'write';
    case 'atomicread':
      return 'atomic_read';
    case 'atomicwrite':
      return 'atomic_write';
    case 'atomicrmw':
      return 'atomic_rmw';
    default:
      return undefined;
  }
}

/** A read-mode hold of a read/write lock (`RwLock::Read`, `RWLock-Read`, `read`, ...). */
export function isSharedLockType(lockType: string | undefined): boolean {
  return lockType !== undefined && /read/i.test(lockType) && !/write/i.test(lockType);
}

/** Key identifying a thread: service, instance and thread id. */
export function threadKeyOf(e: Pick<CausalEvent, 'service' | 'instance' | 'threadId'>): string {
  return `${e.service}\u0000${e.instance ?? ''}\u0000${e.threadId}`;
}

/**
 * The order of events inside one thread: time, then clock sum (events in the
 * same nanosecond are told apart by their clocks), then input position.
 */
export function compareInThread(events: readonly { timeUnixNano: bigint; clock?: VectorClock }[], sums: ArrayLike<number>, i: number, j: number): number {
  const ti = events[i]!.timeUnixNano;
  const tj = events[j]!.timeUnixNano;
  if (ti !== tj) return ti < tj ? -1 : 1;
  if (sums[i] !== sums[j]) return sums[i]! - sums[j]!;
  return i - j;
}

/** Indexes of the events grouped by thread, each group in thread order. */
export function groupByThread(events: readonly RawCausalEvent[]): { keys: string[]; members: number[][]; thread: Int32Array } {
  const sums = new Float64Array(events.length);
  // service → instance → thread id → thread number, without building key strings
  const byService = new Map<string, Map<string, Map<string, number>>>();
  const keys: string[] = [];
  const members: number[][] = [];
  const thread = new Int32Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.clock) sums[i] = clockSum(e.clock);
    let byInstance = byService.get(e.service);
    if (!byInstance) byService.set(e.service, (byInstance = new Map()));
    const inst = e.instance ?? '';
    let byThread = byInstance.get(inst);
    if (!byThread) byInstance.set(inst, (byThread = new Map()));
    let t = byThread.get(e.threadId);
    if (t === undefined) {
      t = keys.length;
      byThread.set(e.threadId, t);
      keys.push(threadKeyOf(e));
      members.push([]);
    }
    thread[i] = t;
    members[t]!.push(i);
  }
  for (const m of members) {
    // Usually already in order; sort only when not.
    let sorted = true;
    for (let k = 1; k < m.length && sorted; k++) if (compareInThread(events, sums, m[k - 1]!, m[k]!) > 0) sorted = false;
    if (!sorted) m.sort((i, j) => compareInThread(events, sums, i, j));
  }
  return { keys, members, thread };
}

/**
 * The event with its lock set, every field present (undefined when absent)
 * and always in the same order: one object shape for all events keeps the
 * passes over 100k events fast.
 */
function withLocks(e: RawCausalEvent, locks: readonly HeldLock[]): CausalEvent {
  return {
    kind: e.kind,
    traceId: e.traceId,
    spanId: e.spanId,
    parentSpanId: e.parentSpanId,
    spanStartUnixNano: e.spanStartUnixNano,
    service: e.service,
    instance: e.instance,
    threadId: e.threadId,
    timeUnixNano: e.timeUnixNano,
    clock: e.clock,
    variable: e.variable,
    access: e.access,
    oldValue: e.oldValue,
    newValue: e.newValue,
    location: e.location,
    lockId: e.lockId,
    lockOp: e.lockOp,
    lockType: e.lockType,
    taskId: e.taskId,
    asyncOp: e.asyncOp,
    locks,
  };
}

/**
 * Fills in each event's lock set: the locks its thread acquired and has not
 * released yet (re-entrant acquisitions counted), plus the ids the emitter
 * declared. A lock event's own set is the one before it takes effect: an
 * acquire does not list the lock it acquires, a release still lists it.
 */
export function assignLockSets(events: readonly RawCausalEvent[]): CausalEvent[] {
  const out: CausalEvent[] = new Array(events.length);
  const { members } = groupByThread(events);
  // Equal lock sets share one frozen array, so later passes can key on identity.
  const sets = new Map<string, readonly HeldLock[]>([['', NO_LOCKS]]);
  const intern = (locks: HeldLock[]): readonly HeldLock[] => {
    locks.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    let key = '';
    for (const l of locks) key += `${l.shared ? 'r' : 'w'}${l.id.length}:${l.id}`;
    let found = sets.get(key);
    if (!found) sets.set(key, (found = Object.freeze(locks)));
    return found;
  };
  const withDeclared = new Map<readonly HeldLock[], Map<string, readonly HeldLock[]>>();
  for (const m of members) {
    const held = new Map<string, { count: number; shared: boolean }>();
    let snapshot: readonly HeldLock[] = NO_LOCKS;
    let dirty = false;
    for (const i of m) {
      const e = events[i]!;
      if (dirty) {
        snapshot = intern([...held].map(([id, h]) => ({ id, shared: h.shared })));
        dirty = false;
      }
      let locks = snapshot;
      if (e.declaredLocks !== undefined && e.declaredLocks.length > 0) {
        const dk = e.declaredLocks.length === 1 ? e.declaredLocks[0]! : e.declaredLocks.join('\u0000');
        let bySnapshot = withDeclared.get(snapshot);
        if (!bySnapshot) withDeclared.set(snapshot, (bySnapshot = new Map()));
        let found = bySnapshot.get(dk);
        if (!found) {
          const have = new Set(snapshot.map((l) => l.id));
          const extra = [...new Set(e.declaredLocks)].filter((id) => !have.has(id));
          found = extra.length > 0 ? intern([...snapshot, ...extra.map((id) => ({ id, shared: false }))]) : snapshot;
          bySnapshot.set(dk, found);
        }
        locks = found;
      }
      out[i] = withLocks(e, locks);
      if (e.kind === 'lock' && e.lockId !== undefined) {
        const h = held.get(e.lockId);
        if (e.lockOp === 'acquire') {
          if (h) h.count++;
          else held.set(e.lockId, { count: 1, shared: isSharedLockType(e.lockType) });
          dirty = true;
        } else if (e.lockOp === 'release' && h) {
          if (--h.count === 0) held.delete(e.lockId);
          dirty = true;
        }
      }
    }
  }
  return out;
}

const NO_LOCKS: readonly HeldLock[] = Object.freeze([]);

const MAX_TEXT = 4096;

function clip(s: string | undefined): string | undefined {
  return s === undefined ? undefined : s.length > MAX_TEXT ? s.slice(0, MAX_TEXT) : s;
}

function instanceOf(resource: readonly KeyValue[]): string | undefined {
  const id = stringAttribute(resource, 'service.instance.id');
  if (id !== undefined && id !== '') return id;
  const pid = stringAttribute(resource, 'process.pid');
  if (pid === undefined) return undefined;
  const host = stringAttribute(resource, 'host.name');
  return host ? `${host}:${pid}` : pid;
}

function declaredLocksOf(v: AnyValue): string[] {
  if (v.arrayValue) return v.arrayValue.values.map(attributeText).filter((s) => s !== '').slice(0, 64);
  if (v.stringValue !== undefined) {
    try {
      const doc: unknown = JSON.parse(v.stringValue);
      if (Array.isArray(doc)) return doc.filter((x): x is string => typeof x === 'string' && x !== '').slice(0, 64);
    } catch {
      /* a single lock id */
    }
    return v.stringValue === '' ? [] : [v.stringValue];
  }
  return [];
}

/**
 * Extracts the causal events of the given spans (any number of traces), with
 * lock sets. Events that break the convention (no variable, an unknown access
 * or lock op) are skipped. Order: by trace, span and event position as given.
 */
export function extractCausalEvents(spans: readonly Span[]): CausalEvent[] {
  const raw: RawCausalEvent[] = [];
  const instances = new Map<object, string | undefined>();
  for (const span of spans) {
    let instance = instances.get(span.resource);
    if (!instances.has(span.resource)) {
      instance = instanceOf(span.resource.attributes);
      instances.set(span.resource, instance);
    }
    const spanThread = stringAttribute(span.attributes, CausalAttr.threadId);
    for (const ev of span.events) {
      if (ev.name !== STATE_EVENT && ev.name !== LOCK_EVENT && ev.name !== ASYNC_EVENT) continue;
      // One pass over the attributes (events carry a dozen at most).
      let thread: string | undefined;
      let clockValue: AnyValue | undefined;
      let location: string | undefined;
      let locksHeld: AnyValue | undefined;
      let f1: string | undefined; // variable | lock id | task id
      let f2: string | undefined; // access | lock op | async op
      let f3: string | undefined; // old value | lock type
      let f4: string | undefined; // new value
      const isState = ev.name === STATE_EVENT;
      const isLock = ev.name === LOCK_EVENT;
      for (const { key, value } of ev.attributes) {
        switch (key) {
          case CausalAttr.threadId:
            thread = attributeText(value);
            break;
          case CausalAttr.clock:
            clockValue = value;
            break;
          case CausalAttr.location:
            location = attributeText(value);
            break;
          case CausalAttr.locksHeld:
            locksHeld = value;
            break;
          case CausalAttr.variable:
            if (isState) f1 = attributeText(value);
            break;
          case CausalAttr.access:
            if (isState) f2 = attributeText(value);
            break;
          case CausalAttr.oldValue:
            if (isState) f3 = attributeText(value);
            break;
          case CausalAttr.newValue:
            if (isState) f4 = attributeText(value);
            break;
          case CausalAttr.lockId:
            if (isLock) f1 = attributeText(value);
            break;
          case CausalAttr.lockOp:
            if (isLock) f2 = attributeText(value);
            break;
          case CausalAttr.lockType:
            if (isLock) f3 = attributeText(value);
            break;
          case CausalAttr.taskId:
            if (!isState && !isLock) f1 = attributeText(value);
            break;
          case CausalAttr.asyncOp:
            if (!isState && !isLock) f2 = attributeText(value);
            break;
        }
      }
      if (!f1 || f2 === undefined) continue;
      const base: RawCausalEvent = {
        kind: 'state',
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId,
        spanStartUnixNano: span.startTimeUnixNano,
        service: span.service,
        threadId: thread ?? spanThread ?? `span:${span.spanId}`,
        timeUnixNano: ev.timeUnixNano,
      };
      if (instance !== undefined) base.instance = instance;
      if (clockValue !== undefined) {
        const clock = clockValue.stringValue !== undefined ? parseClock(clockValue.stringValue) : clockFromJson(plainValue(clockValue)); // tolerate an OTLP array of pairs
        if (clock !== undefined) base.clock = clock;
      }
      if (location !== undefined) base.location = clip(location);
      if (locksHeld !== undefined) {
        const declared = declaredLocksOf(locksHeld);
        if (declared.length > 0) base.declaredLocks = declared;
      }
      if (isState) {
        const access = parseAccessKind(f2);
        if (access === undefined) continue;
        base.variable = f1;
        base.access = access;
        if (f3 !== undefined) base.oldValue = clip(f3);
        if (f4 !== undefined) base.newValue = clip(f4);
      } else if (isLock) {
        const op = f2.toLowerCase();
        if (op !== 'acquire' && op !== 'release') continue;
        base.kind = 'lock';
        base.lockId = f1;
        base.lockOp = op;
        if (f3 !== undefined) base.lockType = f3;
      } else {
        const op = f2.toLowerCase();
        if (op !== 'spawn' && op !== 'await') continue;
        base.kind = 'async';
        base.taskId = f1;
        base.asyncOp = op;
      }
      raw.push(base);
    }
  }
  return assignLockSets(raw);
}

/** Parent and start of a span, keyed by `traceId/spanId` (see spanTopology). */
export interface SpanInfo {
  parentSpanId: string;
  startTimeUnixNano: bigint;
}
export type SpanTopology = ReadonlyMap<string, SpanInfo>;

export function spanKey(traceId: string, spanId: string): string {
  return `${traceId}/${spanId}`;
}

/**
 * Parent links and start times of all the given spans, so that happens-before
 * can follow span parentage through spans that carry no causal events.
 */
export function spanTopology(spans: readonly Span[]): SpanTopology {
  const m = new Map<string, SpanInfo>();
  for (const s of spans) m.set(spanKey(s.traceId, s.spanId), { parentSpanId: s.parentSpanId, startTimeUnixNano: s.startTimeUnixNano });
  return m;
}
