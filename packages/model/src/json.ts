// Span <-> JSON for the API: OTLP/JSON field names, hex ids, 64-bit
// timestamps as decimal text, resource and scope inline on each span.

import type { InstrumentationScope, Resource, Span, SpanEvent, SpanKind, SpanLink, StatusCode } from './span.js';
import { serviceOf } from './span.js';
import type { TraceSummary } from './query.js';
import type { Nanos } from './units.js';

type Jsonify<T> = T extends bigint
  ? string
  : T extends (infer U)[]
    ? Jsonify<U>[]
    : T extends object
      ? { [K in keyof T]: Jsonify<T[K]> }
      : T;

export type SpanJson = Jsonify<Span>;
export type TraceSummaryJson = Jsonify<TraceSummary>;

export function spanToJson(s: Span): SpanJson {
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId,
    traceState: s.traceState,
    flags: s.flags,
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: s.startTimeUnixNano.toString(),
    endTimeUnixNano: s.endTimeUnixNano.toString(),
    attributes: s.attributes,
    droppedAttributesCount: s.droppedAttributesCount,
    events: s.events.map((e) => ({ ...e, timeUnixNano: e.timeUnixNano.toString() })),
    droppedEventsCount: s.droppedEventsCount,
    links: s.links,
    droppedLinksCount: s.droppedLinksCount,
    status: s.status,
    resource: s.resource,
    scope: s.scope,
    service: s.service,
  };
}

export function spanFromJson(j: SpanJson): Span {
  const resource: Resource = j.resource;
  const scope: InstrumentationScope = j.scope;
  return {
    traceId: j.traceId,
    spanId: j.spanId,
    parentSpanId: j.parentSpanId,
    traceState: j.traceState,
    flags: j.flags,
    name: j.name,
    kind: j.kind as SpanKind,
    startTimeUnixNano: BigInt(j.startTimeUnixNano),
    endTimeUnixNano: BigInt(j.endTimeUnixNano),
    attributes: j.attributes,
    droppedAttributesCount: j.droppedAttributesCount,
    events: j.events.map((e): SpanEvent => ({ ...e, timeUnixNano: BigInt(e.timeUnixNano) })),
    droppedEventsCount: j.droppedEventsCount,
    links: j.links as SpanLink[],
    droppedLinksCount: j.droppedLinksCount,
    status: { code: j.status.code as StatusCode, message: j.status.message },
    resource,
    scope,
    service: j.service || serviceOf(resource),
  };
}

export function summaryToJson(s: TraceSummary): TraceSummaryJson {
  return { ...s, startTimeUnixNano: s.startTimeUnixNano.toString() };
}

export function summaryFromJson(j: TraceSummaryJson): TraceSummary {
  return { ...j, startTimeUnixNano: BigInt(j.startTimeUnixNano), durationNanos: j.durationNanos as Nanos };
}
