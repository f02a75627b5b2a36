// Search semantics every backend shares: query normalisation, the per-span
// match (all conditions on one span), and the trace summary. Backends push
// the same conditions down to their own storage; these functions are the
// reference they are tested against and what in-memory buffers use directly.

import type { Nanos, Span, StatusFilter, TraceQuery, TraceSummary } from '@ariadne/model';
import { DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT, StatusCode, attributeText, nanos } from '@ariadne/model';

const U64_MAX = 2n ** 64n - 1n;

/** A TraceQuery with defaults applied and every bound in range. */
export interface NormalizedQuery {
  service?: string;
  operation?: string;
  attributes: { key: string; value: string }[];
  minDurationNanos?: bigint;
  maxDurationNanos?: bigint;
  status?: StatusCode;
  startUnixNano?: bigint;
  endUnixNano?: bigint;
  limit: number;
  /** True when no span can match (e.g. start after end). */
  empty: boolean;
}

const STATUS: Record<StatusFilter, StatusCode> = { unset: StatusCode.UNSET, ok: StatusCode.OK, error: StatusCode.ERROR };

function clampU64(n: bigint): bigint {
  return n < 0n ? 0n : n > U64_MAX ? U64_MAX : n;
}

function durationBound(n: number | undefined): bigint | undefined {
  if (n === undefined || !Number.isFinite(n)) return undefined;
  return BigInt(Math.max(0, Math.ceil(n)));
}

export function normalizeQuery(q: TraceQuery): NormalizedQuery {
  const limit = q.limit !== undefined && Number.isFinite(q.limit) && q.limit >= 1 ? Math.min(Math.floor(q.limit), MAX_SEARCH_LIMIT) : DEFAULT_SEARCH_LIMIT;
  const n: NormalizedQuery = { attributes: q.attributes ?? [], limit, empty: false };
  if (q.service !== undefined) n.service = q.service;
  if (q.operation !== undefined) n.operation = q.operation;
  const min = durationBound(q.minDurationNanos);
  // A maximum rounds down: a span lasting 10.5 ns is not within 10 ns... nor can one exist.
  const max = q.maxDurationNanos !== undefined && Number.isFinite(q.maxDurationNanos) ? BigInt(Math.floor(q.maxDurationNanos)) : undefined;
  if (min !== undefined && min > 0n) n.minDurationNanos = min;
  if (max !== undefined) {
    if (max < 0n) n.empty = true;
    else n.maxDurationNanos = max;
  }
  if (q.status !== undefined) n.status = STATUS[q.status];
  if (q.startUnixNano !== undefined) {
    if (q.startUnixNano > U64_MAX) n.empty = true;
    else if (q.startUnixNano > 0n) n.startUnixNano = q.startUnixNano;
  }
  if (q.endUnixNano !== undefined) {
    if (q.endUnixNano < 0n) n.empty = true;
    else n.endUnixNano = clampU64(q.endUnixNano);
  }
  if (n.minDurationNanos !== undefined && n.maxDurationNanos !== undefined && n.minDurationNanos > n.maxDurationNanos) n.empty = true;
  if (n.startUnixNano !== undefined && n.endUnixNano !== undefined && n.startUnixNano > n.endUnixNano) n.empty = true;
  return n;
}

/** Duration as search sees it: end - start, 0 when the end precedes the start. */
function durationOf(s: Span): bigint {
  const d = s.endTimeUnixNano - s.startTimeUnixNano;
  return d < 0n ? 0n : d;
}

/** True when this one span satisfies every condition of the query. */
export function spanMatches(s: Span, q: NormalizedQuery): boolean {
  if (q.empty) return false;
  if (q.service !== undefined && s.service !== q.service) return false;
  if (q.operation !== undefined && s.name !== q.operation) return false;
  if (q.status !== undefined && s.status.code !== q.status) return false;
  if (q.startUnixNano !== undefined && s.startTimeUnixNano < q.startUnixNano) return false;
  if (q.endUnixNano !== undefined && s.startTimeUnixNano > q.endUnixNano) return false;
  if (q.minDurationNanos !== undefined || q.maxDurationNanos !== undefined) {
    const d = durationOf(s);
    if (q.minDurationNanos !== undefined && d < q.minDurationNanos) return false;
    if (q.maxDurationNanos !== undefined && d > q.maxDurationNanos) return false;
  }
  for (const { key, value } of q.attributes) {
    const has = (kvs: Span['attributes']) => kvs.some((kv) => kv.key === key && attributeText(kv.value) === value);
    if (!has(s.attributes) && !has(s.resource.attributes)) return false;
  }
  return true;
}

/** What a summary needs of a span; stores can fetch just these columns. */
export interface SummarySpan {
  spanId: string;
  parentSpanId: string;
  service: string;
  name: string;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  statusCode: number;
}

export function summarySpanOf(s: Span): SummarySpan {
  return {
    spanId: s.spanId,
    parentSpanId: s.parentSpanId,
    service: s.service,
    name: s.name,
    startTimeUnixNano: s.startTimeUnixNano,
    endTimeUnixNano: s.endTimeUnixNano,
    statusCode: s.status.code,
  };
}

function earlier(a: SummarySpan, b: SummarySpan): boolean {
  return a.startTimeUnixNano < b.startTimeUnixNano || (a.startTimeUnixNano === b.startTimeUnixNano && a.spanId < b.spanId);
}

/**
 * The summary of one trace from its spans (duplicates by span id count once;
 * the first copy wins). Root: the earliest span without a parent, else the
 * earliest span (ties broken by span id). Duration: latest end - earliest start.
 */
export function summarizeTrace(traceId: string, spans: Iterable<SummarySpan>): TraceSummary | undefined {
  const seen = new Set<string>();
  let root: SummarySpan | undefined;
  let first: SummarySpan | undefined;
  let maxEnd = 0n;
  let errors = 0;
  const services = new Set<string>();
  for (const s of spans) {
    if (seen.has(s.spanId)) continue;
    seen.add(s.spanId);
    if (!first || earlier(s, first)) first = s;
    if (s.parentSpanId === '' && (!root || earlier(s, root))) root = s;
    const end = s.endTimeUnixNano > s.startTimeUnixNano ? s.endTimeUnixNano : s.startTimeUnixNano;
    if (end > maxEnd) maxEnd = end;
    if (s.statusCode === StatusCode.ERROR) errors++;
    services.add(s.service);
  }
  if (!first) return undefined;
  root ??= first;
  return {
    traceId,
    rootService: root.service,
    rootOperation: root.name,
    startTimeUnixNano: first.startTimeUnixNano,
    durationNanos: nanos(Number(maxEnd - first.startTimeUnixNano)) as Nanos,
    spanCount: seen.size,
    errorCount: errors,
    services: [...services].sort(),
  };
}

/** Newest first by trace start, then by trace id, so equal starts order stably. */
export function compareSummaries(a: TraceSummary, b: TraceSummary): number {
  if (a.startTimeUnixNano !== b.startTimeUnixNano) return a.startTimeUnixNano > b.startTimeUnixNano ? -1 : 1;
  return a.traceId < b.traceId ? -1 : a.traceId > b.traceId ? 1 : 0;
}
