// The search contract shared by the API, the CLI, the UI and every store.

import type { SpanKind } from './span.js';
import type { Nanos } from './units.js';

export type StatusFilter = 'error' | 'ok' | 'unset';

/**
 * Find traces that contain at least one span matching every given condition
 * (Jaeger's semantics): service, operation, attributes, duration and status
 * all apply to the same span. The time range bounds that span's start.
 */
export interface TraceQuery {
  service?: string;
  operation?: string;
  /** AND of `key = value`; the value matches the attribute's text form (see attributeText). */
  attributes?: { key: string; value: string }[];
  minDurationNanos?: Nanos;
  maxDurationNanos?: Nanos;
  status?: StatusFilter;
  /** inclusive, unix ns */
  startUnixNano?: bigint;
  /** inclusive, unix ns */
  endUnixNano?: bigint;
  /** most traces to return, newest first; default 20 */
  limit?: number;
}

export interface TraceSummary {
  traceId: string;
  rootService: string;
  rootOperation: string;
  startTimeUnixNano: bigint;
  durationNanos: Nanos;
  spanCount: number;
  errorCount: number;
  services: string[];
}

export interface OperationInfo {
  name: string;
  spanKind: SpanKind;
}

export const DEFAULT_SEARCH_LIMIT = 20;
export const MAX_SEARCH_LIMIT = 10_000;
