// Service-to-service calls read off the span tree, shared by the per-trace
// `serviceCalls` and the cross-trace dependency graph.
//
//   A: SERVER ─ A: CLIENT ───── B: SERVER        one call A→B: the only
//                   (caller side)  (callee side)  cross-service parent/child
//   A: SERVER ─ B: SERVER                         one call A→B (no client span)
//   A: CLIENT  peer.service=pay, no child in      one call A→pay, "virtual":
//              another service                    the callee is not instrumented
//
// A call is counted once per callee span, never once per side. Its latency is
// the caller's CLIENT span when there is one (what the caller waited), else the
// callee span; it failed if either side has status ERROR. Calls within one
// service are not edges (as in Jaeger's dependency graph).

import type { Span } from '../span.js';
import { SpanKind, StatusCode } from '../span.js';
import { findAttribute } from '../attributes.js';

/** Attributes naming an uninstrumented callee, in order of preference (Tempo's service-graph defaults). */
export const PEER_ATTRIBUTES = ['peer.service', 'db.name', 'db.system'] as const;

export type CallVisitor = (from: string, to: string, virtual: boolean, error: boolean, latencyNanos: number) => void;

/**
 * Visits every call among `spans`; `parent[i]` is the index of span i's
 * parent (-1 when absent). O(n).
 */
export function forEachCall(spans: readonly Span[], parent: Int32Array, visit: CallVisitor): void {
  const n = spans.length;
  // The nearest CLIENT/PRODUCER span at or above i without leaving i's service.
  const caller = new Int32Array(n).fill(-2); // -2 unknown, -3 on the walk (a parent cycle ends it)
  const path: number[] = [];
  for (let i = 0; i < n; i++) {
    let j = i;
    while (caller[j] === -2) {
      const k = spans[j]!.kind;
      if (k === SpanKind.CLIENT || k === SpanKind.PRODUCER) {
        caller[j] = j;
        break;
      }
      const p = parent[j]!;
      if (p < 0 || spans[p]!.service !== spans[j]!.service) {
        caller[j] = -1;
        break;
      }
      caller[j] = -3;
      path.push(j);
      j = p;
    }
    const found = Math.max(caller[j]!, -1);
    for (const k of path) caller[k] = found;
    path.length = 0;
  }

  const answered = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const p = parent[i]!;
    if (p < 0) continue;
    const callee = spans[i]!;
    const from = spans[p]!.service;
    if (from === callee.service) continue;
    const c = caller[p]!;
    if (c >= 0) answered[c] = 1;
    const client = c >= 0 && spans[c]!.kind === SpanKind.CLIENT ? spans[c]! : undefined;
    const error = callee.status.code === StatusCode.ERROR || client?.status.code === StatusCode.ERROR;
    visit(from, callee.service, false, error, durationOf(client ?? callee));
  }
  for (let i = 0; i < n; i++) {
    const s = spans[i]!;
    if (answered[i] || (s.kind !== SpanKind.CLIENT && s.kind !== SpanKind.PRODUCER)) continue;
    const peer = peerOf(s);
    if (peer === undefined || peer === s.service) continue;
    visit(s.service, peer, true, s.status.code === StatusCode.ERROR, durationOf(s));
  }
}

function peerOf(s: Span): string | undefined {
  for (const key of PEER_ATTRIBUTES) {
    const v = findAttribute(s.attributes, key)?.stringValue;
    if (v) return v;
  }
  return undefined;
}

function durationOf(s: Span): number {
  const d = s.endTimeUnixNano - s.startTimeUnixNano;
  return d > 0n ? Number(d) : 0;
}
