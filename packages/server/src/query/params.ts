// Search parameters of GET /api/v1/traces, validated at the boundary with a
// message that names the offending parameter.

import {
  DEFAULT_SEARCH_LIMIT,
  MAX_SEARCH_LIMIT,
  parseDuration,
  parseTimestamp,
  parseTraceQL,
  TraceQLError,
  type TraceQLQuery,
  type TraceQuery,
} from '@ariadne/model';

/**
 * With `q`, `traceql` is the parsed query and `query` holds only start, end
 * and limit; `q` cannot be combined with the per-span filters (they would be
 * ambiguous next to a query with several spansets: write them in it instead).
 */
export type ParamsResult =
  | { ok: true; query: TraceQuery; traceql?: TraceQLQuery }
  /** `offset`: where in a TraceQL `q` the error is */
  | { ok: false; param: string; message: string; offset?: number };

const KNOWN = new Set(['q', 'service', 'operation', 'minDuration', 'maxDuration', 'status', 'start', 'end', 'limit']);
const FILTERS = ['service', 'operation', 'minDuration', 'maxDuration', 'status'];
const MAX_VALUE = 4096;

export function parseSearchParams(params: URLSearchParams): ParamsResult {
  const q: TraceQuery = { limit: DEFAULT_SEARCH_LIMIT };
  const attributes: { key: string; value: string }[] = [];
  let traceql: TraceQLQuery | undefined;
  for (const [name, value] of params) {
    if (value.length > MAX_VALUE) return bad(name, `must be at most ${MAX_VALUE} characters`);
    if (name.startsWith('attr.')) {
      const key = name.slice(5);
      if (!key) return bad(name, 'needs an attribute key: attr.<key>=<value>');
      attributes.push({ key, value });
      continue;
    }
    if (!KNOWN.has(name)) return bad(name, `is not a search parameter (known: ${[...KNOWN].join(', ')}, attr.<key>)`);
    switch (name) {
      case 'q':
        try {
          traceql = parseTraceQL(value);
        } catch (e) {
          if (!(e instanceof TraceQLError)) throw e;
          return { ok: false, param: 'q', message: `parameter 'q' is not valid TraceQL: ${e.reason} at offset ${e.offset}`, offset: e.offset };
        }
        break;
      case 'service':
      case 'operation':
        if (!value) return bad(name, 'must not be empty');
        q[name] = value;
        break;
      case 'minDuration':
      case 'maxDuration': {
        const d = parseDuration(value);
        if (d === undefined) return bad(name, `must be a duration like 250ms, 1.5s or 800us, not '${value}'`);
        if (name === 'minDuration') q.minDurationNanos = d;
        else q.maxDurationNanos = d;
        break;
      }
      case 'status':
        if (value !== 'error' && value !== 'ok' && value !== 'unset') return bad(name, `must be error, ok or unset, not '${value}'`);
        q.status = value;
        break;
      case 'start':
      case 'end': {
        const t = parseTimestamp(value);
        if (t === undefined) return bad(name, `must be RFC 3339 (2024-01-02T03:04:05Z) or unix nanoseconds, not '${value}'`);
        if (name === 'start') q.startUnixNano = t;
        else q.endUnixNano = t;
        break;
      }
      case 'limit': {
        const n = Number(value);
        if (!/^\d+$/.test(value) || n < 1 || n > MAX_SEARCH_LIMIT) return bad(name, `must be an integer from 1 to ${MAX_SEARCH_LIMIT}, not '${value}'`);
        q.limit = n;
        break;
      }
    }
  }
  if (traceql) {
    const other = FILTERS.find((f) => params.has(f)) ?? (attributes.length ? 'attr.' : undefined);
    if (other) return bad('q', `cannot be combined with '${other}': write the condition in the query, e.g. { resource.service.name = "checkout" && name = "GET /cart" && duration > 100ms && status = error && span.http.method = "GET" }`);
  }
  if (attributes.length) q.attributes = attributes;
  if (q.minDurationNanos !== undefined && q.maxDurationNanos !== undefined && q.minDurationNanos > q.maxDurationNanos) {
    return bad('minDuration', 'must not be greater than maxDuration');
  }
  if (q.startUnixNano !== undefined && q.endUnixNano !== undefined && q.startUnixNano > q.endUnixNano) {
    return bad('start', 'must not be after end');
  }
  return traceql ? { ok: true, query: q, traceql } : { ok: true, query: q };
}

function bad(param: string, message: string): ParamsResult {
  return { ok: false, param, message: `parameter '${param}' ${message}` };
}
