// Seed 004's vocabulary ↔ the span model: milliseconds ↔ nanoseconds
// (exact), tags ↔ typed attributes, status words ↔ status codes, and the
// span and trace shapes the seed's responses use.

import type { AnyValue, KeyValue, Span, TraceSummary } from '@ariadne/model';
import { StatusCode, plainValue, spanDurationNanos } from '@ariadne/model';

/**
 * Milliseconds (as JSON gave them) to nanoseconds, exactly: the decimal
 * digits of the number are shifted six places, so 0.1 ms is 100000 ns and not
 * 100000.00000000001. Sub-nanosecond digits round half up.
 */
export function millisToNanosExact(ms: number): bigint {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`not a non-negative number of milliseconds: ${ms}`);
  if (ms === 0) return 0n;
  // toExponential() with no argument gives the shortest digits that identify the double.
  const [mantissa, exponent] = ms.toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const shift = Number(exponent) - (digits.length - 1) + 6;
  const d = BigInt(digits);
  if (shift >= 0) return d * 10n ** BigInt(shift);
  const div = 10n ** BigInt(-shift);
  return (d + div / 2n) / div;
}

/** Nanoseconds as a millisecond number; prints as the exact decimal for any duration under ~11 days at ns precision. */
export function nanosToMillis(ns: bigint | number): number {
  return Number(ns) / 1e6;
}

/** A unix-nanosecond timestamp as epoch milliseconds with microsecond precision (what a double holds exactly). */
export function unixNanosToMillis(ns: bigint): number {
  return Number(ns / 1000n) / 1000;
}

export type TagValue = string | number | boolean | (string | number | boolean)[];

function tagToValue(v: TagValue): AnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isSafeInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  return { arrayValue: { values: v.map(tagToValue) } };
}

/** Seed tags to attributes: integers become int64, other numbers doubles. */
export function tagsToAttributes(tags: Record<string, TagValue> | undefined): KeyValue[] {
  return tags ? Object.entries(tags).map(([key, v]) => ({ key, value: tagToValue(v) })) : [];
}

/** Attributes as plain tags (int64 beyond 2^53 as text); a repeated key keeps its last value. */
export function attributesToTags(attrs: readonly KeyValue[]): Record<string, unknown> {
  return Object.fromEntries(attrs.map((kv) => [kv.key, plainValue(kv.value)]));
}

export type SeedStatusInput = 'success' | 'ok' | 'error' | 'failed' | 'failure' | 'unset';
export const SEED_STATUS_INPUTS: readonly SeedStatusInput[] = ['success', 'ok', 'error', 'failed', 'failure', 'unset'];

export function statusCodeOf(s: SeedStatusInput | undefined): StatusCode {
  if (s === 'success' || s === 'ok') return StatusCode.OK;
  if (s === 'error' || s === 'failed' || s === 'failure') return StatusCode.ERROR;
  return StatusCode.UNSET;
}

/** A span's status in seed words; a span still open here is 'active'. */
export type SeedSpanStatus = 'success' | 'error' | 'unset' | 'active';

export function seedStatusOf(span: Span, open: boolean): SeedSpanStatus {
  if (open) return 'active';
  return span.status.code === StatusCode.OK ? 'success' : span.status.code === StatusCode.ERROR ? 'error' : 'unset';
}

/** A trace is active while a span of it is open here, else failed when a span has status ERROR, else completed. */
export type SeedTraceStatus = 'active' | 'completed' | 'failed';

export interface SeedSpanJson {
  spanId: string;
  parentSpanId?: string;
  serviceName: string;
  operationName: string;
  /** epoch milliseconds */
  startTime: number;
  /** milliseconds; for an open span, so far */
  duration: number;
  status: SeedSpanStatus;
  tags: Record<string, unknown>;
}

export function toSeedSpan(span: Span, open: boolean): SeedSpanJson {
  return {
    spanId: span.spanId,
    ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
    serviceName: span.service,
    operationName: span.name,
    startTime: unixNanosToMillis(span.startTimeUnixNano),
    duration: nanosToMillis(spanDurationNanos(span)),
    status: seedStatusOf(span, open),
    tags: attributesToTags(span.attributes),
  };
}

/**
 * The root of a trace: the earliest span without a parent, else the earliest
 * span whose parent is not in the trace, else the earliest span (ties by id).
 */
export function rootOf(spans: readonly Span[]): Span | undefined {
  const ids = new Set(spans.map((s) => s.spanId));
  let best: Span | undefined;
  let bestRank = 3;
  for (const s of spans) {
    const rank = s.parentSpanId === '' ? 0 : ids.has(s.parentSpanId) ? 2 : 1;
    if (rank < bestRank || (rank === bestRank && best && earlier(s, best))) {
      best = s;
      bestRank = rank;
    }
  }
  return best;
}

function earlier(a: Span, b: Span): boolean {
  return a.startTimeUnixNano < b.startTimeUnixNano || (a.startTimeUnixNano === b.startTimeUnixNano && a.spanId < b.spanId);
}

/** Earliest start to latest end, in nanoseconds. */
export function traceDurationNanos(spans: readonly Span[]): bigint {
  if (!spans.length) return 0n;
  let lo = spans[0]!.startTimeUnixNano;
  let hi = spans[0]!.endTimeUnixNano;
  for (const s of spans) {
    if (s.startTimeUnixNano < lo) lo = s.startTimeUnixNano;
    if (s.endTimeUnixNano > hi) hi = s.endTimeUnixNano;
  }
  return hi > lo ? hi - lo : 0n;
}

export function traceStatusOf(spans: readonly Span[], active: boolean): SeedTraceStatus {
  if (active) return 'active';
  return spans.some((s) => s.status.code === StatusCode.ERROR) ? 'failed' : 'completed';
}

/** One row of GET /traces/query. */
export interface SeedTraceSummaryJson {
  traceId: string;
  serviceName: string;
  operationName: string;
  startTime: number;
  duration: number;
  serviceCalls: number;
  errorCount: number;
  services: string[];
  status: SeedTraceStatus;
}

export function toSeedSummary(s: TraceSummary, active: boolean): SeedTraceSummaryJson {
  return {
    traceId: s.traceId,
    serviceName: s.rootService,
    operationName: s.rootOperation,
    startTime: unixNanosToMillis(s.startTimeUnixNano),
    duration: nanosToMillis(s.durationNanos),
    serviceCalls: s.spanCount,
    errorCount: s.errorCount,
    services: s.services,
    status: active ? 'active' : s.errorCount > 0 ? 'failed' : 'completed',
  };
}
