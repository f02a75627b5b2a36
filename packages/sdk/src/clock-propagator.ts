// The `ariadne-clock` header: a standard TextMapPropagator, so it composes with
// the W3C trace-context and baggage propagators and rides on every instrumented
// request (HTTP, fetch, job payloads through inject()/extract()).
//
//   ariadne-clock: v1;<base64url(JSON {"trace_id","span_id","service","instance","clock":[[c,n],...]})>
//
// Raceway's `raceway-clock` header has the same layout and is read too (and
// written when `raceway: true`, for Raceway services downstream).

import { context, trace, isSpanContextValid, type Context, type TextMapGetter, type TextMapPropagator, type TextMapSetter } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { requestTasks, taskOf, validEntries, withNewTask, type ClockEntries } from './clock.js';

export const ARIADNE_CLOCK_HEADER = 'ariadne-clock';
export const RACEWAY_CLOCK_HEADER = 'raceway-clock';
const PREFIX = 'v1;';
/** Longer header values are ignored unparsed. */
const MAX_HEADER_LENGTH = 16 * 1024;

export interface ClockPayload {
  trace_id?: string;
  span_id?: string;
  parent_span_id?: string;
  service?: string;
  instance?: string;
  clock: ClockEntries;
}

export interface AriadneClockPropagatorOptions {
  /** Also write `raceway-clock` (it is always read). Default false. */
  raceway?: boolean;
}

export class AriadneClockPropagator implements TextMapPropagator {
  private readonly raceway: boolean;

  constructor(options: AriadneClockPropagatorOptions = {}) {
    this.raceway = options.raceway ?? false;
  }

  /** Counts as a send event: ticks the sender's component, then writes the clock. */
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    if (isTracingSuppressed(ctx)) return;
    const task = taskOf(ctx);
    task.tick();
    const payload: ClockPayload = { service: task.identity.service, instance: task.identity.instance, clock: task.entries() };
    const span = trace.getSpan(ctx);
    if (span !== undefined) requestTasks.set(span, task);
    const sc = span?.spanContext();
    if (sc !== undefined && isSpanContextValid(sc)) {
      payload.trace_id = sc.traceId;
      payload.span_id = sc.spanId;
    }
    const value = encodeClockHeader(payload);
    setter.set(carrier, ARIADNE_CLOCK_HEADER, value);
    if (this.raceway) setter.set(carrier, RACEWAY_CLOCK_HEADER, value);
  }

  /**
   * Counts as a receive: the returned context runs a new task whose clock is
   * the current task's (or the thread root's) merged with the incoming one.
   * Malformed headers are ignored; the new task is created regardless, because
   * extract() is how a server starts handling a request.
   */
  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const incoming: ClockEntries = [];
    for (const header of [ARIADNE_CLOCK_HEADER, RACEWAY_CLOCK_HEADER]) {
      const raw = getter.get(carrier, header);
      const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
      for (const v of values) {
        const p = decodeClockHeader(v);
        if (p !== undefined) incoming.push(...p.clock);
      }
    }
    return withNewTask(ctx, incoming);
  }

  fields(): string[] {
    return this.raceway ? [ARIADNE_CLOCK_HEADER, RACEWAY_CLOCK_HEADER] : [ARIADNE_CLOCK_HEADER];
  }
}

/**
 * Merges a clock that came back (an `ariadne-clock` / `raceway-clock` value on
 * a reply) into the current task, so what follows happens after the remote
 * work. The http and fetch instrumentations do this for you. Returns false
 * (and changes nothing) when the value is malformed.
 */
export function mergeClock(value: string | undefined, ctx: Context = context.active()): boolean {
  const p = decodeClockHeader(value);
  if (p === undefined) return false;
  taskOf(ctx).merge(p.clock);
  return true;
}

export function encodeClockHeader(payload: ClockPayload): string {
  return PREFIX + Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

/** The payload of an `ariadne-clock` / `raceway-clock` value; undefined when malformed. */
export function decodeClockHeader(value: unknown): ClockPayload | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim();
  if (!v.startsWith(PREFIX) || v.length > MAX_HEADER_LENGTH) return undefined;
  const body = v.slice(PREFIX.length);
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(body)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const o = parsed as Record<string, unknown>;
  const clock = validEntries(o.clock);
  if (clock === undefined) return undefined;
  const out: ClockPayload = { clock };
  for (const k of ['trace_id', 'span_id', 'parent_span_id', 'service', 'instance'] as const) {
    if (typeof o[k] === 'string') out[k] = o[k];
  }
  return out;
}
