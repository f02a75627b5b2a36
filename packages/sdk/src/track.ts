// Causal events (ARCHITECTURE.md, "Causal events"): ordinary span events on the
// active span, named `ariadne.state` / `ariadne.lock` / `ariadne.async`, each
// carrying `ariadne.clock` and `thread.id`. Any OpenTelemetry SDK can emit the
// same events; this module makes them one call and cheap (well under 1 µs).
//
// An event with no recording span to land on still ticks the clock (so order
// stays right) but is dropped and counted in `track.stats().dropped`.

import { findSourceMap } from 'node:module';
import { context, trace, type Attributes, type Span } from '@opentelemetry/api';
import { CLOCK_KEY, taskOf, type ClockEntries, type Task } from './clock.js';
import { identityOf } from './identity.js';
import { isSensitiveKey, REDACTED, toJson } from './serialize.js';

export type Access = 'read' | 'write' | 'atomic_read' | 'atomic_write' | 'atomic_rmw';
export type LockOp = 'acquire' | 'release';
export type AsyncOp = 'spawn' | 'await';

export const EVENT_STATE = 'ariadne.state';
export const EVENT_LOCK = 'ariadne.lock';
export const EVENT_ASYNC = 'ariadne.async';

export interface StateChange {
  old?: unknown;
  new?: unknown;
  /** Default `write`. */
  access?: Access;
  /** `file:line`; captured automatically when `captureLocation` is on. */
  location?: string;
}

export interface TrackOptions {
  /** Record `ariadne.location` (file:line of the caller) on every event. Costs a stack capture (a few µs), so off by default. */
  captureLocation?: boolean;
}

const settings = { captureLocation: false };
let recorded = 0;
let dropped = 0;

const REDACTED_JSON = { text: JSON.stringify(REDACTED), truncated: false };

function activeRecordingSpan(): { span: Span | undefined; task: Task } {
  const ctx = context.active();
  const span = trace.getSpan(ctx);
  const task = taskOf(ctx);
  task.tick();
  if (span === undefined || !span.isRecording()) {
    dropped++;
    return { span: undefined, task };
  }
  recorded++;
  return { span, task };
}

/**
 * Keeps a task's event times in program order. OpenTelemetry JS anchors each
 * span's clock to Date.now() (millisecond grain), so two events of one task in
 * different spans can come out up to 1 ms out of order; analysers that walk a
 * thread's events by time (lock sets!) would then see a release before the
 * access it guarded. When the event just added is not later than the task's
 * previous one, it is moved to 1 ns after it.
 */
function keepOrder(span: Span, task: Task): void {
  const events = (span as { events?: Array<{ time: [number, number] }> }).events;
  const e = events?.[events.length - 1];
  if (e === undefined || !Array.isArray(e.time)) return;
  const last = task.lastEventTime;
  let t = e.time;
  if (t[0] < last[0] || (t[0] === last[0] && t[1] <= last[1])) {
    t = last[1] + 1 >= 1e9 ? [last[0] + 1, last[1] + 1 - 1e9] : [last[0], last[1] + 1];
    e.time = t;
  }
  task.lastEventTime = t;
}

const displayPaths = new Map<string, string>();

/** `file:///app/src/x.js` → `src/x.js` (relative to the working directory when under it). */
function displayPath(file: string): string {
  let shown = displayPaths.get(file);
  if (shown === undefined) {
    shown = file.startsWith('file://') ? decodeURIComponent(file.slice('file://'.length)) : file;
    const cwd = process.cwd() + '/';
    if (shown.startsWith(cwd)) shown = shown.slice(cwd.length);
    if (displayPaths.size < 10_000) displayPaths.set(file, shown);
  }
  return shown;
}

const rawCallSites = (_: Error, callSites: NodeJS.CallSite[]): NodeJS.CallSite[] => callSites;

/**
 * `file:line` of the caller of `boundary`. Asks V8 for structured call sites
 * rather than the formatted stack (formatting is most of the cost), and maps
 * through source maps when Node has them on (--enable-source-maps).
 */
function location(boundary: Function): string | undefined {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  const holder: { stack?: unknown } = {};
  try {
    Error.prepareStackTrace = rawCallSites;
    Error.stackTraceLimit = 1;
    Error.captureStackTrace(holder, boundary);
    const site = (holder.stack as NodeJS.CallSite[] | undefined)?.[0];
    let file = site?.getFileName() ?? site?.getScriptNameOrSourceURL();
    let line = site?.getLineNumber() ?? null;
    if (file === undefined || file === null || line === null) return undefined;
    if (process.sourceMapsEnabled) {
      const entry = findSourceMap(file)?.findEntry(line - 1, (site?.getColumnNumber() ?? 1) - 1);
      if (entry !== undefined && 'originalSource' in entry) {
        file = entry.originalSource;
        line = entry.originalLine + 1;
      }
    }
    return `${displayPath(file)}:${line}`;
  } catch {
    return undefined;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}

function emitState(variable: string, access: Access, old: unknown, hasOld: boolean, value: unknown, hasNew: boolean, loc: string | undefined, boundary: Function): void {
  const { span, task } = activeRecordingSpan();
  if (span === undefined) return;
  const attrs: Attributes = {
    'ariadne.variable': variable,
    'ariadne.access': access,
    'ariadne.clock': task.json(),
    'thread.id': task.thread,
  };
  // Values of a sensitive variable (`password`, `apiToken`...) are recorded as "[REDACTED]".
  const secret = (hasOld || hasNew) && isSensitiveKey(variable);
  if (hasOld) {
    const j = secret ? REDACTED_JSON : toJson(old);
    attrs['ariadne.old_value'] = j.text;
    if (j.truncated) attrs['ariadne.old_value_truncated'] = true;
  }
  if (hasNew) {
    const j = secret ? REDACTED_JSON : toJson(value);
    attrs['ariadne.new_value'] = j.text;
    if (j.truncated) attrs['ariadne.new_value_truncated'] = true;
  }
  const where = loc ?? (settings.captureLocation ? location(boundary) : undefined);
  if (where !== undefined) attrs['ariadne.location'] = where;
  span.addEvent(EVENT_STATE, attrs);
  keepOrder(span, task);
}

function emitLock(lockId: string, op: LockOp, type: string, boundary: Function): void {
  const { span, task } = activeRecordingSpan();
  if (span === undefined) return;
  const attrs: Attributes = {
    'ariadne.lock.id': lockId,
    'ariadne.lock.op': op,
    'ariadne.lock.type': type,
    'ariadne.clock': task.json(),
    'thread.id': task.thread,
  };
  if (settings.captureLocation) {
    const where = location(boundary);
    if (where !== undefined) attrs['ariadne.location'] = where;
  }
  span.addEvent(EVENT_LOCK, attrs);
  keepOrder(span, task);
}

function emitAsync(taskId: string, op: AsyncOp, boundary: Function): void {
  const { span, task } = activeRecordingSpan();
  if (span === undefined) return;
  const attrs: Attributes = {
    'ariadne.task.id': taskId,
    'ariadne.async.op': op,
    'ariadne.clock': task.json(),
    'thread.id': task.thread,
  };
  if (settings.captureLocation) {
    const where = location(boundary);
    if (where !== undefined) attrs['ariadne.location'] = where;
  }
  span.addEvent(EVENT_ASYNC, attrs);
  keepOrder(span, task);
}

export interface LockHandle {
  /** Record that the lock is now held (call after your mutex is acquired). */
  acquire(): void;
  /** Record that the lock is released (call before your mutex is released). */
  release(): void;
}

export interface WithLockOptions {
  /** Recorded as `ariadne.lock.type`. Default `mutex`. */
  type?: string;
  /**
   * Also exclude other `withLock` calls on the same id in this process (an
   * async FIFO mutex). Default true. Set false when you hold a real lock of
   * your own (a database row lock, a Redis lock) and only want it recorded.
   */
  exclusive?: boolean;
}

const MAX_UNJOINED_CHILDREN = 1024;

/** Tail of each in-process lock's queue; removed when the queue drains, so dynamic ids don't leak. */
const lockTails = new Map<string, Promise<void>>();

async function withLock<T>(lockId: string, fn: () => T | PromiseLike<T>, options: WithLockOptions = {}): Promise<T> {
  const type = options.type ?? 'mutex';
  if (options.exclusive === false) {
    emitLock(lockId, 'acquire', type, withLock);
    try {
      return await fn();
    } finally {
      emitLock(lockId, 'release', type, withLock);
    }
  }
  const previous = lockTails.get(lockId);
  let unlock!: () => void;
  const mine = new Promise<void>((resolve) => (unlock = resolve));
  const tail = previous === undefined ? mine : previous.then(() => mine);
  lockTails.set(lockId, tail);
  if (previous !== undefined) await previous;
  emitLock(lockId, 'acquire', type, withLock);
  try {
    return await fn();
  } finally {
    emitLock(lockId, 'release', type, withLock);
    unlock();
    if (lockTails.get(lockId) === tail) lockTails.delete(lockId);
  }
}

function spawn(taskId: string): void;
function spawn<T>(taskId: string, fn: () => T): T;
function spawn<T>(taskId: string, fn?: () => T): T | void {
  emitAsync(taskId, 'spawn', spawn);
  if (fn === undefined) return;
  const ctx = context.active();
  const parent = taskOf(ctx);
  const child = parent.fork(identityOf(ctx));
  const spawned = (parent.spawned ??= new Map());
  // Children nobody awaits must not pile up on a long-lived task.
  if (spawned.size >= MAX_UNJOINED_CHILDREN) spawned.delete(spawned.keys().next().value!);
  spawned.set(taskId, child);
  return context.with(ctx.setValue(CLOCK_KEY, child), fn);
}

function awaitTask(taskId: string): void;
function awaitTask<T>(taskId: string, promise: PromiseLike<T>): Promise<T>;
function awaitTask<T>(taskId: string, promise?: PromiseLike<T>): Promise<T> | void {
  const join = (): void => {
    const parent = taskOf(context.active());
    const child = parent.spawned?.get(taskId);
    if (child !== undefined) {
      parent.spawned!.delete(taskId);
      parent.merge(child.entries());
    }
    emitAsync(taskId, 'await', awaitTask);
  };
  if (promise === undefined) return join();
  return Promise.resolve(promise).then(
    (v) => {
      join();
      return v;
    },
    (e: unknown) => {
      join();
      throw e;
    },
  );
}

/**
 * Causal tracking. Recording never throws; events land on the active span.
 *
 *     track.read('cart.total', total)
 *     track.write('cart.total', total, total + price)
 *     await track.withLock(`cart:${id}`, async () => { ... })
 *     const p = track.spawn('fetch-prices', () => fetchPrices());
 *     const prices = await track.await('fetch-prices', p);
 */
export const track = {
  /** A read or write of a shared variable: `ariadne.state`. */
  state(variable: string, change: StateChange): void {
    emitState(variable, change.access ?? 'write', change.old, 'old' in change, change.new, 'new' in change, change.location, track.state);
  },
  /** `ariadne.state` with access `read`; the value read is `ariadne.new_value`. */
  read(variable: string, value?: unknown, opts?: { access?: 'read' | 'atomic_read'; location?: string }): void {
    emitState(variable, opts?.access ?? 'read', undefined, false, value, arguments.length > 1, opts?.location, track.read);
  },
  /** `ariadne.state` with access `write`. */
  write(variable: string, oldValue: unknown, newValue: unknown, opts?: { access?: 'write' | 'atomic_write' | 'atomic_rmw'; location?: string }): void {
    emitState(variable, opts?.access ?? 'write', oldValue, true, newValue, true, opts?.location, track.write);
  },
  /** A lock to record acquire/release on: `ariadne.lock`. Does not lock anything itself. */
  lock(lockId: string, type = 'mutex'): LockHandle {
    return {
      acquire: function acquire() {
        emitLock(lockId, 'acquire', type, acquire);
      },
      release: function release() {
        emitLock(lockId, 'release', type, release);
      },
    };
  },
  /** Runs `fn` as a critical section: recorded acquire/release, and (by default) an in-process mutex. */
  withLock,
  /**
   * `ariadne.async` spawn. With `fn`, runs it as a new child task (its own
   * clock component, starting after the spawn) and returns its result; a later
   * `track.await(taskId)` joins the child's clock back.
   */
  spawn,
  /** `ariadne.async` await. With a promise, records after it settles and returns its value. */
  await: awaitTask,
  /** The current vector clock (a copy). */
  clock(): ClockEntries {
    return taskOf(context.active()).entries();
  },
  /** `thread.id` of the current task. */
  threadId(): string {
    return taskOf(context.active()).thread;
  },
  configure(options: TrackOptions): void {
    if (options.captureLocation !== undefined) settings.captureLocation = options.captureLocation;
  },
  /** Events recorded, and dropped for want of a recording span. */
  stats(): { recorded: number; dropped: number } {
    return { recorded, dropped };
  },
};
