// Clock-skew adjustment: a child measured on another machine's clock can
// appear to start before its parent or end after it. Like Jaeger's
// ClockSkew adjuster, shift such a child (and the part of its subtree on the
// same clock) so it sits inside the parent, assuming the network latency was
// split evenly between request and response:
//
//   parent (client, A)         |===========================|
//   child (server, B)    |=============|   B's clock is behind
//   adjusted child                    |=============|
//                              <------>             <------>   latency split evenly: (parent - child) / 2
//
// A child longer than its parent (the caller timed out, say) and an async
// child (a consumer, a follows-from reference), which may rightly outlast its
// parent, are only made not to start before the parent. Spans on the same
// clock as their parent (same service, or the same host when both declare
// one) are never adjusted on their own: they move exactly as their parent did.

import type { Resource, Span } from '../span.js';
import { findAttribute } from '../attributes.js';
import type { Nanos } from '../units.js';
import type { TraceIndex } from './trace-index.js';
import { buildIndex, shiftIndex } from './trace-index.js';

export type SkewReason =
  /** started before its parent; shifted to the middle of the parent */
  | 'starts-before-parent'
  /** ended after its parent; shifted to the middle of the parent */
  | 'ends-after-parent'
  /** longer than its parent and started before it; shifted to the parent's start */
  | 'longer-than-parent'
  /** async child (consumer, follows-from) that started before its parent; shifted to the parent's start */
  | 'async-starts-before-parent';

export interface SkewAdjustment {
  spanId: string;
  service: string;
  /** How far this span (and the spans on its clock below it) moved; positive is later. */
  deltaNanos: Nanos;
  reason: SkewReason;
  /** How many spans moved by this adjustment: this span and its same-clock descendants. */
  shiftedSpans: number;
}

export interface SkewResult {
  /**
   * The trace with skew removed: spans that moved are new objects (events
   * moved with them), the others are the input objects; duplicate span ids
   * are dropped (first wins).
   */
  spans: Span[];
  skewAdjustments: SkewAdjustment[];
}

/** Removes clock skew between services from one trace. Pure: the input is not touched. */
export function adjustClockSkew(spans: readonly Span[]): SkewResult {
  return adjustClockSkewOnIndex(buildIndex(spans)).result;
}

/** The adjustment, and the index of the adjusted trace (the same index when nothing moved). */
export function adjustClockSkewOnIndex(ix: TraceIndex): { result: SkewResult; index: TraceIndex } {
  const { n, spans, start, end, parent, order, service, resource, async } = ix;
  const clock = clocks(ix.resources);
  const delta = new Float64Array(n);
  const source = new Int32Array(n).fill(-1);
  const adjustments: SkewAdjustment[] = [];
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const p = parent[i]!;
    if (p < 0) continue;
    if (service[i] === service[p] || clock[resource[i]!] === clock[resource[p]!]) {
      delta[i] = delta[p]!;
      source[i] = source[p]!;
      continue;
    }
    const ps = start[p]! + delta[p]!;
    const pd = end[p]! - start[p]!;
    const cs = start[i]!;
    const cd = end[i]! - cs;
    let d = 0;
    let reason: SkewReason | undefined;
    if (async[i] || cd > pd) {
      // A consumer may rightly run long after its producer, and a child longer
      // than its parent cannot fit in it: only causality is enforced.
      if (cs < ps) {
        d = ps - cs;
        reason = async[i] ? 'async-starts-before-parent' : 'longer-than-parent';
      }
    } else if (cs < ps || cs + cd > ps + pd) {
      reason = cs < ps ? 'starts-before-parent' : 'ends-after-parent';
      d = ps + Math.floor((pd - cd) / 2) - cs;
    }
    delta[i] = d;
    if (d !== 0 && reason) {
      source[i] = adjustments.length;
      adjustments.push({ spanId: spans[i]!.spanId, service: spans[i]!.service, deltaNanos: d as Nanos, reason, shiftedSpans: 0 });
    }
  }
  if (adjustments.length === 0) return { result: { spans: spans.slice(), skewAdjustments: adjustments }, index: ix };
  const out = spans.slice();
  for (let i = 0; i < n; i++) {
    if (delta[i] === 0) continue;
    out[i] = shiftSpan(spans[i]!, BigInt(delta[i]!));
    adjustments[source[i]!]!.shiftedSpans++;
  }
  return { result: { spans: out, skewAdjustments: adjustments }, index: shiftIndex(ix, out, delta) };
}

function shiftSpan(s: Span, d: bigint): Span {
  return {
    ...s,
    startTimeUnixNano: s.startTimeUnixNano + d,
    endTimeUnixNano: s.endTimeUnixNano + d,
    events: s.events.map((e) => ({ ...e, timeUnixNano: e.timeUnixNano + d })),
  };
}

/**
 * Same clock: the same service (Jaeger compares hosts; a service spread over
 * hosts still never skews against itself here, as the contract asks), or two
 * services sharing one resource, or both declaring the same host. Besides the
 * service, that is one number per resource: its host's, or else its own.
 */
function clocks(resources: readonly Resource[]): Int32Array {
  const hostIds = new Map<string, number>();
  const clock = new Int32Array(resources.length);
  for (let r = 0; r < resources.length; r++) {
    const h = hostKey(resources[r]!);
    if (h === undefined) {
      clock[r] = -1 - r;
    } else {
      const c = hostIds.get(h) ?? hostIds.size;
      hostIds.set(h, c);
      clock[r] = c;
    }
  }
  return clock;
}

function hostKey(r: Resource): string | undefined {
  const attrs = r.attributes;
  const v = findAttribute(attrs, 'host.id') ?? findAttribute(attrs, 'host.name') ?? findAttribute(attrs, 'ip');
  return v?.stringValue || undefined;
}
