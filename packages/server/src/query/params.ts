// Search parameters of GET /api/v1/traces, validated at the boundary with a
// message that names the offending parameter.

import {
  DEFAULT_SEARCH_LIMIT,
  MAX_SEARCH_LIMIT,
  parseDuration,
  parseTimestamp,
  type TraceQuery,
} from '@ariadne/model';

export type ParamsResult = { ok: true; query: TraceQuery } | { ok: false; param: string; message: string };

const KNOWN = new Set(['service', 'operation', 'minDuration', 'maxDuration', 'status', 'start', 'end', 'limit']);
const MAX_VALUE = 4096;

export function parseSearchParams(params: URLSearchParams): ParamsResult {
  const q: TraceQuery = { limit: DEFAULT_SEARCH_LIMIT };
  const attributes: { key: string; value: string }[] = [];
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
  if (attributes.length) q.attributes = attributes;
  if (q.minDurationNanos !== undefined && q.maxDurationNanos !== undefined && q.minDurationNanos > q.maxDurationNanos) {
    return bad('minDuration', 'must not be greater than maxDuration');
  }
  if (q.startUnixNano !== undefined && q.endUnixNano !== undefined && q.startUnixNano > q.endUnixNano) {
    return bad('start', 'must not be after end');
  }
  return { ok: true, query: q };
}

function bad(param: string, message: string): ParamsResult {
  return { ok: false, param, message: `parameter '${param}' ${message}` };
}
