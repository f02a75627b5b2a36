// Vector clocks for causal events.
//
// A *task* is one logical thread of execution: the handling of one incoming
// request or job, a child started with `track.spawn(id, fn)`, or a thread's
// root (code outside any of those). Node runs many tasks interleaved on one
// thread, and the races worth finding are between them (read, await, write), so
// each task owns one clock component:
//
//     <service>#<instance>/<threadId>:<task>     e.g. checkout#4f1c2a9e07b3/0:17
//
// and `thread.id` is `<threadId>:<task>`. Sharing one component per process
// would order every pair of events in it and hide exactly those races.
//
//   incoming request ──extract──► new task = fork(root) ⊔ incoming clock
//   causal event      ──────────► own component += 1, event carries the clock
//   outgoing request  ──inject──► own component += 1, header carries the clock
//   spawn(id, fn)     ──────────► child task = fork(current); await(id) joins it
//
// The task lives in the OpenTelemetry context (hence in AsyncLocalStorage via
// the context manager), so it follows `await`, timers and callbacks, and a
// propagator's extract() can hand a merged clock to the request handler.

import { threadId } from 'node:worker_threads';
import { createContextKey, type Context } from '@opentelemetry/api';
import { identityOf, type ServiceIdentity } from './identity.js';

export const CLOCK_KEY = createContextKey('ariadne.clock');

/** A vector clock as it travels: `[[component, counter], ...]`. */
export type ClockEntries = Array<[string, number]>;

/** Components beyond this many are ignored on merge, so a hostile header cannot grow every event. */
export const MAX_CLOCK_COMPONENTS = 256;

let taskSeq = 0;

export class Task {
  readonly component: string;
  /** Value of `thread.id` on this task's events. */
  readonly thread: string;
  /** This task's own counter. */
  n = 0;
  private others = new Map<string, number>();
  /** Serialized `others` with a trailing comma; undefined when stale. */
  private othersJson: string | undefined = '';
  private readonly ownPrefix: string;
  /** Children started by spawn(taskId, fn), joined by await(taskId). */
  spawned: Map<string, Task> | undefined;
  /** Time of this task's last causal event, [seconds, nanoseconds] (see track.ts, `keepOrder`). */
  lastEventTime: [number, number] = [0, 0];

  constructor(readonly identity: ServiceIdentity) {
    this.thread = `${threadId}:${++taskSeq}`;
    this.component = `${identity.service}#${identity.instance}/${this.thread}`;
    this.ownPrefix = '[' + JSON.stringify(this.component) + ',';
  }

  tick(): number {
    return ++this.n;
  }

  get(component: string): number {
    return component === this.component ? this.n : (this.others.get(component) ?? 0);
  }

  /** Component-wise max with `entries`; malformed entries are skipped. */
  merge(entries: Iterable<readonly [string, number]>): void {
    for (const [c, v] of entries) {
      if (c === this.component) {
        if (v > this.n) this.n = v;
        continue;
      }
      const cur = this.others.get(c);
      if (cur === undefined) {
        if (this.others.size >= MAX_CLOCK_COMPONENTS) continue;
        this.others.set(c, v);
        this.othersJson = undefined;
      } else if (v > cur) {
        this.others.set(c, v);
        this.othersJson = undefined;
      }
    }
  }

  /** A new task that happens after everything this task has done so far. */
  fork(identity: ServiceIdentity = this.identity): Task {
    const child = new Task(identity);
    child.others = new Map(this.others);
    child.others.set(this.component, this.n);
    child.othersJson = undefined;
    return child;
  }

  entries(): ClockEntries {
    const out: ClockEntries = [];
    for (const [c, v] of this.others) out.push([c, v]);
    out.push([this.component, this.n]);
    return out;
  }

  /** `ariadne.clock` text; only the own counter changes between merges, so the rest is cached. */
  json(): string {
    let others = this.othersJson;
    if (others === undefined) {
      others = '';
      for (const [c, v] of this.others) others += '[' + JSON.stringify(c) + ',' + v + '],';
      this.othersJson = others;
    }
    return '[' + others + this.ownPrefix + this.n + ']]';
  }
}

/**
 * The task that sent each outgoing request, keyed by its client span: filled
 * by the propagator's inject(), read when the response's clock comes back
 * (response-clock.ts).
 */
export const requestTasks = new WeakMap<object, Task>();

const roots = new WeakMap<ServiceIdentity, Task>();

/** The root task of a service on this thread: work outside any request or spawned task. */
export function rootTask(identity: ServiceIdentity): Task {
  let t = roots.get(identity);
  if (t === undefined) {
    t = new Task(identity);
    roots.set(identity, t);
  }
  return t;
}

/** The task `ctx` runs in. */
export function taskOf(ctx: Context): Task {
  return (ctx.getValue(CLOCK_KEY) as Task | undefined) ?? rootTask(identityOf(ctx));
}

/** `ctx` with a new task that continues from `ctx`'s task (and optionally a remote clock). */
export function withNewTask(ctx: Context, incoming?: Iterable<readonly [string, number]>): Context {
  const child = taskOf(ctx).fork(identityOf(ctx));
  if (incoming !== undefined) child.merge(incoming);
  return ctx.setValue(CLOCK_KEY, child);
}

/** Component-wise a ≤ b. */
export function clockLeq(a: ClockEntries, b: ClockEntries): boolean {
  const bm = new Map(b);
  for (const [c, v] of a) if (v > (bm.get(c) ?? 0)) return false;
  return true;
}

/** a happened before b: a ≤ b and a ≠ b. */
export function happenedBefore(a: ClockEntries, b: ClockEntries): boolean {
  return clockLeq(a, b) && !clockLeq(b, a);
}

/** Parses an `ariadne.clock` attribute value; undefined when malformed. */
export function parseClock(text: string): ClockEntries | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  return validEntries(v);
}

export function validEntries(v: unknown): ClockEntries | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: ClockEntries = [];
  for (const e of v) {
    if (Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && typeof e[1] === 'number' && Number.isSafeInteger(e[1]) && e[1] >= 0) {
      out.push([e[0], e[1]]);
    }
  }
  return out;
}
