// The official W3CTraceContextPropagator, held to the letter of W3C Trace
// Context where it is lenient. It already rejects version ff, all-zero ids,
// uppercase hex, wrong lengths and extra fields on version 00, and accepts
// future versions with extra fields. On top of that this class:
//
// - rejects a duplicated `traceparent` (several values for the header);
// - accepts optional whitespace (space, tab) around the value, any amount;
// - discards the *whole* `tracestate` when it is invalid — more than 32 list
//   members, a duplicated key, or a member breaking the key/value grammar —
//   where the official one drops or keeps members one by one. This is what
//   the W3C test suite expects ("expects the tracestate to be discarded").
//
// Inject is unchanged.

import { trace, type Context, type SpanContext, type TextMapGetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator, TRACE_PARENT_HEADER, TRACE_STATE_HEADER } from '@opentelemetry/core';

export const MAX_TRACESTATE_MEMBERS = 32;

// key = simple-key / multi-tenant-key
//   simple-key       = lcalpha 0*255( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
//   multi-tenant-key = tenant-id "@" system-id
//   tenant-id        = ( lcalpha / DIGIT ) 0*240( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
//   system-id        = lcalpha 0*13( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
const KEY = /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})$/;
// value = 0*255(chr) nblk-chr ; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E ; chr = %x20 / nblk-chr
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
const OWS = /^[ \t]+|[ \t]+$/g;

/** True when `header` is a valid tracestate list (empty members and OWS allowed). */
export function isValidTraceState(header: string): boolean {
  const seen = new Set<string>();
  for (const member of header.split(',')) {
    const m = member.replace(OWS, '');
    if (m === '') continue;
    const eq = m.indexOf('=');
    if (eq <= 0) return false;
    const key = m.slice(0, eq);
    if (!KEY.test(key) || !VALUE.test(m.slice(eq + 1))) return false;
    if (seen.has(key)) return false;
    seen.add(key);
    if (seen.size > MAX_TRACESTATE_MEMBERS) return false;
  }
  return true;
}

export class StrictW3CTraceContextPropagator extends W3CTraceContextPropagator {
  override extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const raw = getter.get(carrier, TRACE_PARENT_HEADER);
    if (Array.isArray(raw) && raw.length !== 1) return ctx;
    const tp = Array.isArray(raw) ? raw[0] : raw;
    if (typeof tp !== 'string') return ctx;
    const trimmed = tp.replace(OWS, '');
    const strictGetter: TextMapGetter = {
      keys: (c) => getter.keys(c),
      get: (c, key) => (key === TRACE_PARENT_HEADER ? trimmed : getter.get(c, key)),
    };
    const out = super.extract(ctx, carrier, strictGetter);
    if (out === ctx) return ctx;
    const sc = trace.getSpanContext(out);
    if (sc?.traceState === undefined) return out;
    const ts = getter.get(carrier, TRACE_STATE_HEADER);
    const header = Array.isArray(ts) ? ts.join(',') : (ts ?? '');
    if (isValidTraceState(header)) return out;
    const { traceState: _dropped, ...rest } = sc;
    return trace.setSpanContext(ctx, rest as SpanContext);
  }
}
