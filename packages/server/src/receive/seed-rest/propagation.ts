// Incoming trace context on the seed endpoints: seed 004's own
// `X-Trace-ID` / `X-Parent-Span-ID` headers and W3C `traceparent`.
//
// traceparent is parsed to the letter of W3C Trace Context, and an invalid
// one is ignored (the spec's rule: the receiver starts a new trace). The
// seed headers are this API's own input, so a malformed one is an error
// that names the header.

import { isValidSpanId, isValidTraceId } from '@ariadne/model';

export interface IncomingContext {
  traceId: string;
  parentSpanId?: string;
  /** which header it came from, for error messages */
  source: 'traceparent' | 'X-Trace-ID';
}

export type ContextResult = { ok: true; context?: IncomingContext } | { ok: false; field: string; message: string };

// version "-" trace-id "-" parent-id "-" trace-flags, lowercase hex only
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(.*)$/s;
const OWS = /^[ \t]+|[ \t]+$/g;

/**
 * A traceparent value, or undefined when invalid: version ff, uppercase,
 * wrong lengths, all-zero ids, anything after the flags on version 00, or a
 * future version whose extra fields do not start with '-'. Node joins a
 * repeated header with ', ', which fails these checks: a duplicated
 * traceparent is ignored, as the spec asks.
 */
export function parseTraceparent(value: string | undefined): { traceId: string; parentSpanId: string; flags: number } | undefined {
  if (value === undefined || value.length > 512) return undefined;
  const m = TRACEPARENT.exec(value.replace(OWS, ''));
  if (!m) return undefined;
  const [, version, traceId, parentSpanId, flags, rest] = m as unknown as [string, string, string, string, string, string];
  if (version === 'ff') return undefined;
  if (version === '00' ? rest !== '' : rest !== '' && !rest.startsWith('-')) return undefined;
  if (!isValidTraceId(traceId) || !isValidSpanId(parentSpanId)) return undefined;
  return { traceId, parentSpanId, flags: parseInt(flags, 16) };
}

/**
 * The context a request carries. `X-Trace-ID` (with `X-Parent-Span-ID`)
 * wins over `traceparent` when both are present: it is the seed's own
 * protocol, spoken on purpose by its clients. Ids are accepted in any case
 * and lowercased.
 */
export function incomingContext(header: (name: string) => string | undefined): ContextResult {
  const xTrace = header('x-trace-id');
  const xParent = header('x-parent-span-id');
  if (xTrace !== undefined) {
    const traceId = xTrace.trim().toLowerCase();
    if (!isValidTraceId(traceId)) return { ok: false, field: 'X-Trace-ID', message: `header 'X-Trace-ID' must be 32 hex characters, not all zero` };
    if (xParent === undefined) return { ok: true, context: { traceId, source: 'X-Trace-ID' } };
    const parentSpanId = xParent.trim().toLowerCase();
    if (!isValidSpanId(parentSpanId)) return { ok: false, field: 'X-Parent-Span-ID', message: `header 'X-Parent-Span-ID' must be 16 hex characters, not all zero` };
    return { ok: true, context: { traceId, parentSpanId, source: 'X-Trace-ID' } };
  }
  if (xParent !== undefined) return { ok: false, field: 'X-Parent-Span-ID', message: `header 'X-Parent-Span-ID' needs an 'X-Trace-ID' header beside it` };
  const tp = parseTraceparent(header('traceparent'));
  return tp ? { ok: true, context: { traceId: tp.traceId, parentSpanId: tp.parentSpanId, source: 'traceparent' } } : { ok: true };
}
