// Builders for causal-event test fixtures: spans carrying `ariadne.*` events
// exactly as an instrumented service would send them. Test support only.

import { emptyScope, SpanKind, StatusCode, type KeyValue, type Span } from '../span.js';
import type { ClockEntry } from './clock.js';
import { ASYNC_EVENT, CausalAttr, LOCK_EVENT, STATE_EVENT, type AccessKind } from './events.js';

export const T0 = 1_700_000_000_000_000_000n;
/** Unix nanoseconds `ms` milliseconds after T0. */
export const at = (ms: number): bigint => T0 + BigInt(Math.round(ms * 1e6));

export interface FixtureEvent {
  name: string;
  time: number;
  attrs: KeyValue[];
}

const kv = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });

function common(thread: string | undefined, clock: ClockEntry[] | undefined): KeyValue[] {
  const a: KeyValue[] = [];
  if (thread !== undefined) a.push(kv(CausalAttr.threadId, thread));
  if (clock !== undefined) a.push(kv(CausalAttr.clock, JSON.stringify(clock)));
  return a;
}

export function stateEv(
  time: number,
  thread: string | undefined,
  clock: ClockEntry[] | undefined,
  variable: string,
  access: AccessKind,
  extra: { old?: string; new?: string; location?: string } = {},
): FixtureEvent {
  const attrs = [...common(thread, clock), kv(CausalAttr.variable, variable), kv(CausalAttr.access, access)];
  if (extra.old !== undefined) attrs.push(kv(CausalAttr.oldValue, extra.old));
  if (extra.new !== undefined) attrs.push(kv(CausalAttr.newValue, extra.new));
  attrs.push(kv(CausalAttr.location, extra.location ?? `app.ts:${Math.round(time)}`));
  return { name: STATE_EVENT, time, attrs };
}

export function lockEv(time: number, thread: string | undefined, clock: ClockEntry[] | undefined, id: string, op: 'acquire' | 'release', type = 'Mutex'): FixtureEvent {
  return { name: LOCK_EVENT, time, attrs: [...common(thread, clock), kv(CausalAttr.lockId, id), kv(CausalAttr.lockOp, op), kv(CausalAttr.lockType, type)] };
}

export function asyncEv(time: number, thread: string | undefined, clock: ClockEntry[] | undefined, taskId: string, op: 'spawn' | 'await'): FixtureEvent {
  return { name: ASYNC_EVENT, time, attrs: [...common(thread, clock), kv(CausalAttr.taskId, taskId), kv(CausalAttr.asyncOp, op)] };
}

export interface FixtureSpan {
  trace?: string;
  id: string;
  parent?: string;
  service: string;
  instance?: string;
  start: number;
  end?: number;
  thread?: string;
  events: FixtureEvent[];
}

export const traceIdOf = (name: string): string => name.padStart(32, '0').slice(-32);
export const spanIdOf = (name: string): string => name.padStart(16, '0').slice(-16);

/** Spans from compact descriptions; one shared resource per service instance. */
export function mkSpans(specs: readonly FixtureSpan[]): Span[] {
  const resources = new Map<string, Span['resource']>();
  return specs.map((s) => {
    const rk = `${s.service}/${s.instance ?? ''}`;
    let resource = resources.get(rk);
    if (!resource) {
      const attributes = [kv('service.name', s.service)];
      if (s.instance !== undefined) attributes.push(kv('service.instance.id', s.instance));
      resources.set(rk, (resource = { attributes, droppedAttributesCount: 0, schemaUrl: '' }));
    }
    const end = s.end ?? Math.max(s.start, ...s.events.map((e) => e.time)) + 1;
    return {
      traceId: traceIdOf(s.trace ?? 'a1'),
      spanId: spanIdOf(s.id),
      parentSpanId: s.parent ? spanIdOf(s.parent) : '',
      traceState: '',
      flags: 1,
      name: s.id,
      kind: SpanKind.INTERNAL,
      startTimeUnixNano: at(s.start),
      endTimeUnixNano: at(end),
      attributes: s.thread !== undefined ? [kv(CausalAttr.threadId, s.thread)] : [],
      droppedAttributesCount: 0,
      events: s.events.map((e) => ({ timeUnixNano: at(e.time), name: e.name, attributes: e.attrs, droppedAttributesCount: 0 })),
      droppedEventsCount: 0,
      links: [],
      droppedLinksCount: 0,
      status: { code: StatusCode.UNSET, message: '' },
      resource,
      scope: emptyScope(),
      service: s.service,
    };
  });
}
