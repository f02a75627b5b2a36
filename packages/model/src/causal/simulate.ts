// A seeded simulator of concurrent histories with a known happens-before:
// services with threads that access shared variables, take locks, spawn and
// await tasks and exchange messages, stamping events with vector clocks the
// way the SDKs do. Used by the property tests and `ariadne bench races`.

import { emptyScope, SpanKind, StatusCode, type KeyValue, type Resource, type Span, type SpanEvent } from '../span.js';
import { type ClockEntry, type VectorClock, formatClock } from './clock.js';
import { type AccessKind, type CausalEvent, type RawCausalEvent, ASYNC_EVENT, CausalAttr, LOCK_EVENT, STATE_EVENT, assignLockSets } from './events.js';

export interface SimulationOptions {
  seed: number;
  /** Service instances (default 3). */
  processes?: number;
  threadsPerProcess?: number;
  variables?: number;
  locks?: number;
  /** Scheduler steps (default 200); each emits at most one event. */
  steps?: number;
  /** Stop once this many state events exist (overrides steps). */
  stateEvents?: number;
  /** Chance a step sends a message to another thread (default 0.15). */
  pMessage?: number;
  /** Chance a step acquires or releases a lock (default 0.15). */
  pLock?: number;
  /** Chance a step is an async spawn or await (default 0.05). */
  pAsync?: number;
  /** Share of accesses that are reads (default 0.5) and that are atomic (default 0.1). */
  pRead?: number;
  pAtomic?: number;
  /**
   * Share of variables always accessed under a lock of their own (declared
   * with the access, as Raceway's `lock_set`; default 0).
   */
  guarded?: number;
  /** Share of threads that send no clocks (default 0). */
  clockless?: number;
  /** Threads of a process share one `service#instance` component, as Raceway's SDKs do. */
  sharedComponents?: boolean;
  /** Traces the events are spread over (default 1). */
  traces?: number;
  /**
   * Mean number of events a thread context lives (default: forever). A worker
   * then starts a new request context: a new thread id, an empty clock, a new
   * span in a random trace, as Raceway's SDKs do per request. Messages are
   * then calls: a context starts from the clock of a call waiting in its
   * inbox (as a callee reads the clock header), calls nest at most 4 deep, and
   * nothing is received mid-context, so clocks stay as small as real ones.
   */
  contextEvents?: number;
  /** Record the true happens-before relation (O(n²) bits; default false). */
  truth?: boolean;
}

export interface SimulatedHistory {
  events: CausalEvent[];
  /** Ground truth from the simulated message graph (when `truth` was set). */
  happensBefore?: (i: number, j: number) => boolean;
}

/** mulberry32: small, fast, good enough for test data. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SimThread {
  service: string;
  instance: string;
  threadId: string;
  component: string;
  clockless: boolean;
  clock: Map<string, number>;
  known: Uint32Array | undefined;
  inbox: { clock: Map<string, number>; known: Uint32Array | undefined; depth: number }[];
  depth: number;
  held: string[];
  tasks: string[];
  contexts: number;
  left: number;
  trace: number;
  span: { spanId: string; parentSpanId: string; start: bigint } | undefined;
}

const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');

export function simulateHistory(opts: SimulationOptions): SimulatedHistory {
  const rnd = seededRandom(opts.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const processes = opts.processes ?? 3;
  const tpp = opts.threadsPerProcess ?? 2;
  const nVars = opts.variables ?? 4;
  const nLocks = opts.locks ?? 2;
  const steps = opts.stateEvents !== undefined ? Number.MAX_SAFE_INTEGER : (opts.steps ?? 200);
  const pMessage = opts.pMessage ?? 0.15;
  const pLock = opts.pLock ?? 0.15;
  const pAsync = opts.pAsync ?? 0.05;
  const pRead = opts.pRead ?? 0.5;
  const pAtomic = opts.pAtomic ?? 0.1;
  const nTraces = opts.traces ?? 1;
  const words = opts.truth ? Math.ceil((opts.steps ?? 200) / 32) + 1 : 0;
  const newKnown = () => (opts.truth ? new Uint32Array(words) : undefined);

  const threads: SimThread[] = [];
  for (let p = 0; p < processes; p++) {
    for (let t = 0; t < tpp; t++) {
      const service = `svc-${p}`;
      const instance = `i${p}`;
      threads.push({
        service,
        instance,
        threadId: `t${t}`,
        component: opts.sharedComponents ? `${service}#${instance}` : `${service}#${instance}/t${t}`,
        clockless: rnd() < (opts.clockless ?? 0),
        clock: new Map(),
        known: newKnown(),
        inbox: [],
        held: [],
        tasks: [],
        contexts: 0,
        depth: 0,
        left: Infinity,
        trace: Math.floor(rnd() * nTraces),
        span: undefined,
      });
    }
  }
  const raw: RawCausalEvent[] = [];
  const before: Uint32Array[] = [];
  let time = 1_700_000_000_000_000_000n;
  let spans = 0;
  let tasks = 0;
  let stateCount = 0;
  const traceId = (k: number) => hex(k + 1, 32);
  const lifetime = () => (opts.contextEvents === undefined ? Infinity : 1 + Math.floor(rnd() * 2 * opts.contextEvents));
  for (const th of threads) th.left = lifetime();
  const restart = (th: SimThread) => {
    // The worker takes a new request: everything about the old context is gone.
    th.contexts++;
    th.threadId = `${th.threadId.split('.')[0]}.${th.contexts}`;
    th.component = opts.sharedComponents ? th.component : `${th.service}#${th.instance}/${th.threadId}`;
    const call = th.inbox.shift();
    th.clock = call ? new Map(call.clock) : new Map();
    th.known = call?.known ? call.known.slice() : newKnown();
    th.depth = call ? call.depth : 0;
    th.held = [];
    th.tasks = [];
    th.trace = Math.floor(rnd() * nTraces);
    th.span = undefined;
    th.left = lifetime();
  };
  const tick = (th: SimThread) => th.clock.set(th.component, (th.clock.get(th.component) ?? 0) + 1);

  const emit = (th: SimThread, e: Partial<RawCausalEvent> & { kind: RawCausalEvent['kind'] }) => {
    if (!th.span) {
      // A new span in the thread's trace; its parent is a span another thread has open there.
      const parents = threads.filter((o) => o !== th && o.span && o.trace === th.trace);
      const parent = parents.length > 0 && rnd() < 0.7 ? pick(parents).span!.spanId : '';
      th.span = { spanId: hex(++spans, 16), parentSpanId: parent, start: time };
    }
    tick(th);
    const ev: RawCausalEvent = {
      traceId: traceId(th.trace),
      spanId: th.span.spanId,
      parentSpanId: th.span.parentSpanId,
      spanStartUnixNano: th.span.start,
      service: th.service,
      instance: th.instance,
      threadId: th.threadId,
      timeUnixNano: time,
      ...e,
    };
    if (!th.clockless) ev.clock = [...th.clock].sort((a, b) => (a[0] < b[0] ? -1 : 1)) as ClockEntry[];
    if (th.known) {
      before.push(th.known.slice());
      const idx = raw.length;
      th.known[idx >> 5]! |= 1 << (idx & 31);
    }
    raw.push(ev);
    if (--th.left <= 0 && th.held.length === 0) restart(th);
  };

  for (let step = 0; step < steps; step++) {
    if (opts.stateEvents !== undefined && stateCount >= opts.stateEvents) break;
    time += BigInt(Math.floor(rnd() * 3) * 1000);
    const th = pick(threads);
    const r = rnd();
    const calls = opts.contextEvents !== undefined;
    if (!calls && th.inbox.length > 0 && rnd() < 0.5) {
      // Receive: merge the sender's clock and what it knew.
      const m = th.inbox.shift()!;
      for (const [c, v] of m.clock) th.clock.set(c, Math.max(v, th.clock.get(c) ?? 0));
      if (th.known && m.known) for (let w = 0; w < words; w++) th.known[w]! |= m.known[w]!;
      tick(th);
      continue;
    }
    if (r < pMessage) {
      if ((calls && th.depth >= 4) || threads.length < 2) continue;
      tick(th);
      const to = pick(threads.filter((o) => o !== th));
      if (to.inbox.length >= 16) continue; // a full queue drops the call
      to.inbox.push({ clock: new Map(th.clock), known: th.known?.slice(), depth: th.depth + 1 });
      continue;
    }
    if (r < pMessage + pLock) {
      if (th.held.length > 0 && (rnd() < 0.5 || th.held.length >= 2)) {
        emit(th, { kind: 'lock', lockId: th.held.pop()!, lockOp: 'release', lockType: 'Mutex' });
      } else {
        const lockId = `lock-${Math.floor(rnd() * nLocks)}`;
        th.held.push(lockId);
        emit(th, { kind: 'lock', lockId, lockOp: 'acquire', lockType: rnd() < 0.2 ? 'RwLock::Read' : 'Mutex' });
      }
      continue;
    }
    if (r < pMessage + pLock + pAsync) {
      if (th.tasks.length > 0 && rnd() < 0.5) emit(th, { kind: 'async', taskId: th.tasks.shift()!, asyncOp: 'await' });
      else {
        const taskId = `task-${++tasks}`;
        th.tasks.push(taskId);
        emit(th, { kind: 'async', taskId, asyncOp: 'spawn' });
      }
      continue;
    }
    if (nTraces > 1 && rnd() < 0.02 && th.held.length === 0) {
      th.trace = Math.floor(rnd() * nTraces); // the thread moves on to another request
      th.span = undefined;
    }
    const atomic = rnd() < pAtomic;
    const read = rnd() < pRead;
    const access: AccessKind = atomic ? (read ? 'atomic_read' : rnd() < 0.5 ? 'atomic_write' : 'atomic_rmw') : read ? 'read' : 'write';
    const varNo = Math.floor(rnd() * nVars);
    const variable = `var-${varNo}`;
    const v = Math.floor(rnd() * 100);
    emit(th, {
      kind: 'state',
      variable,
      access,
      oldValue: String(v),
      newValue: read ? String(v) : String(v + 1),
      location: `sim.ts:${10 + Math.floor(rnd() * 20)}`,
      ...(varNo < nVars * (opts.guarded ?? 0) ? { declaredLocks: [`guard-${varNo}`] } : {}),
    });
    stateCount++;
  }

  const events = assignLockSets(raw);
  const result: SimulatedHistory = { events };
  if (opts.truth) result.happensBefore = (i, j) => i !== j && ((before[j]![i >> 5]! >>> (i & 31)) & 1) === 1;
  return result;
}

/**
 * Spans carrying the events in the causal convention (one span per
 * trace/span id, one resource per service instance): the inverse of
 * extractCausalEvents, for tests and benchmarks.
 */
export function historyToSpans(events: readonly CausalEvent[]): Span[] {
  const resources = new Map<string, Resource>();
  const spans = new Map<string, Span>();
  const scope = { ...emptyScope(), name: 'ariadne.simulate' };
  const str = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });
  for (const e of events) {
    const rk = `${e.service}\u0000${e.instance ?? ''}`;
    let resource = resources.get(rk);
    if (!resource) {
      const attributes = [str('service.name', e.service)];
      if (e.instance !== undefined) attributes.push(str('service.instance.id', e.instance));
      resources.set(rk, (resource = { attributes, droppedAttributesCount: 0, schemaUrl: '' }));
    }
    const sk = `${e.traceId}/${e.spanId}`;
    let span = spans.get(sk);
    if (!span) {
      span = {
        traceId: e.traceId,
        spanId: e.spanId,
        parentSpanId: e.parentSpanId,
        traceState: '',
        flags: 1,
        name: 'work',
        kind: SpanKind.INTERNAL,
        startTimeUnixNano: e.spanStartUnixNano,
        endTimeUnixNano: e.timeUnixNano,
        attributes: [],
        droppedAttributesCount: 0,
        events: [],
        droppedEventsCount: 0,
        links: [],
        droppedLinksCount: 0,
        status: { code: StatusCode.UNSET, message: '' },
        resource,
        scope,
        service: e.service,
      };
      spans.set(sk, span);
    }
    if (e.timeUnixNano > span.endTimeUnixNano) span.endTimeUnixNano = e.timeUnixNano;
    const attrs: KeyValue[] = [str(CausalAttr.threadId, e.threadId)];
    if (e.clock) attrs.push(str(CausalAttr.clock, formatClock(e.clock as VectorClock)));
    if (e.location !== undefined) attrs.push(str(CausalAttr.location, e.location));
    // Locks held that no lock event explains (declared by the emitter): as ariadne.locks_held.
    if (e.locks.length > 0) attrs.push({ key: CausalAttr.locksHeld, value: { arrayValue: { values: e.locks.map((l) => ({ stringValue: l.id })) } } });
    let name: string;
    if (e.kind === 'state') {
      name = STATE_EVENT;
      attrs.push(str(CausalAttr.variable, e.variable!), str(CausalAttr.access, e.access!));
      if (e.oldValue !== undefined) attrs.push(str(CausalAttr.oldValue, e.oldValue));
      if (e.newValue !== undefined) attrs.push(str(CausalAttr.newValue, e.newValue));
    } else if (e.kind === 'lock') {
      name = LOCK_EVENT;
      attrs.push(str(CausalAttr.lockId, e.lockId!), str(CausalAttr.lockOp, e.lockOp!));
      if (e.lockType !== undefined) attrs.push(str(CausalAttr.lockType, e.lockType));
    } else {
      name = ASYNC_EVENT;
      attrs.push(str(CausalAttr.taskId, e.taskId!), str(CausalAttr.asyncOp, e.asyncOp!));
    }
    const ev: SpanEvent = { timeUnixNano: e.timeUnixNano, name, attributes: attrs, droppedAttributesCount: 0 };
    span.events.push(ev);
  }
  return [...spans.values()];
}
