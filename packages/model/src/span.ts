// The span model: OpenTelemetry's, kept exactly as the client sent it.
// Attribute values use the OTLP/JSON shape (int64 as decimal text) so that
// nothing is rounded on the way from a receiver to a query answer.

export interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  /** int64 as decimal text: JSON numbers cannot hold every int64. */
  intValue?: string;
  doubleValue?: number;
  arrayValue?: { values: AnyValue[] };
  kvlistValue?: { values: KeyValue[] };
  /** base64 (standard alphabet, padded), as in OTLP/JSON. */
  bytesValue?: string;
}

export interface KeyValue {
  key: string;
  value: AnyValue;
}

export const SpanKind = {
  UNSPECIFIED: 0,
  INTERNAL: 1,
  SERVER: 2,
  CLIENT: 3,
  PRODUCER: 4,
  CONSUMER: 5,
} as const;
export type SpanKind = (typeof SpanKind)[keyof typeof SpanKind];

export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;
export type StatusCode = (typeof StatusCode)[keyof typeof StatusCode];

export interface Status {
  code: StatusCode;
  message: string;
}

export interface Resource {
  attributes: KeyValue[];
  droppedAttributesCount: number;
  schemaUrl: string;
}

export interface InstrumentationScope {
  name: string;
  version: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  schemaUrl: string;
}

export interface SpanEvent {
  timeUnixNano: bigint;
  name: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

export interface SpanLink {
  traceId: string;
  spanId: string;
  traceState: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  flags: number;
}

/**
 * One span with its resource and scope. Spans of one OTLP ResourceSpans share
 * the same `resource` and `scope` objects; treat them as immutable.
 */
export interface Span {
  /** 32 lowercase hex. */
  traceId: string;
  /** 16 lowercase hex. */
  spanId: string;
  /** 16 lowercase hex, or '' for a root span. */
  parentSpanId: string;
  traceState: string;
  flags: number;
  name: string;
  kind: SpanKind;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  events: SpanEvent[];
  droppedEventsCount: number;
  links: SpanLink[];
  droppedLinksCount: number;
  status: Status;
  resource: Resource;
  scope: InstrumentationScope;
  /** resource `service.name`, or 'unknown_service' as the SDKs default it. */
  service: string;
}

export const UNKNOWN_SERVICE = 'unknown_service';

export function emptyResource(): Resource {
  return { attributes: [], droppedAttributesCount: 0, schemaUrl: '' };
}

export function emptyScope(): InstrumentationScope {
  return { name: '', version: '', attributes: [], droppedAttributesCount: 0, schemaUrl: '' };
}

/** The service name a resource declares, as the OpenTelemetry SDKs define it. */
export function serviceOf(resource: Resource): string {
  for (const kv of resource.attributes) {
    if (kv.key === 'service.name' && kv.value.stringValue !== undefined) return kv.value.stringValue;
  }
  return UNKNOWN_SERVICE;
}

export function spanDurationNanos(span: Pick<Span, 'startTimeUnixNano' | 'endTimeUnixNano'>): bigint {
  const d = span.endTimeUnixNano - span.startTimeUnixNano;
  return d < 0n ? 0n : d;
}
