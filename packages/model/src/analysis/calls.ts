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
  const ids = new Map<string, number>();
  const service = new Int32Array(n);
  const kind = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const s = spans[i]!;
    let v = ids.get(s.service);
    if (v === undefined) ids.set(s.service, (v = ids.size));
    service[i] = v;
    kind[i] = s.kind;
  }
  scanCalls(spans, parent, service, kind, {
    call(i, c) {
      const callee = spans[i]!;
      const client = c >= 0 ? spans[c] : undefined;
      const error = callee.status.code === StatusCode.ERROR || client?.status.code === StatusCode.ERROR;
      visit(spans[parent[i]!]!.service, callee.service, false, error, durationOf(client ?? callee));
    },
    virtual(i, peer) {
      const s = spans[i]!;
      visit(s.service, peer, true, s.status.code === StatusCode.ERROR, durationOf(s));
    },
  });
}

export interface CallSink {
  /** Span i is called from its parent's service; `client` is the caller's CLIENT span, or -1. */
  call(i: number, client: number): void;
  /** CLIENT/PRODUCER span i got no instrumented answer and names `peer`, another service. */
  virtual(i: number, peer: string): void;
}

/**
 * The calls among `spans` as span indexes, for a caller that counts them its
 * own way; `service[i]` numbers span i's service (equal numbers, equal
 * names) and `kind[i]` is its kind. O(n).
 */
export function scanCalls(spans: readonly Span[], parent: Int32Array, service: Int32Array, kind: Uint8Array, sink: CallSink): void {
  const n = spans.length;
  // The nearest CLIENT/PRODUCER span at or above i without leaving i's service.
  const caller = new Int32Array(n).fill(-2); // -2 unknown, -3 on the walk (a parent cycle ends it)
  const path: number[] = [];
  for (let i = 0; i < n; i++) {
    let j = i;
    while (caller[j] === -2) {
      const k = kind[j]!;
      if (k === SpanKind.CLIENT || k === SpanKind.PRODUCER) {
        caller[j] = j;
        break;
      }
      const p = parent[j]!;
      if (p < 0 || service[p] !== service[j]) {
        caller[j] = -1;
        break;
      }
      caller[j] = -3;
      path.push(j);
      j = p;
    }
    if (path.length === 0) continue;
    const found = Math.max(caller[j]!, -1);
    for (const k of path) caller[k] = found;
    path.length = 0;
  }

  const answered = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const p = parent[i]!;
    if (p < 0 || service[p] === service[i]) continue;
    const c = caller[p]!;
    if (c >= 0) answered[c] = 1;
    sink.call(i, c >= 0 && kind[c] === SpanKind.CLIENT ? c : -1);
  }
  for (let i = 0; i < n; i++) {
    if (answered[i] || (kind[i] !== SpanKind.CLIENT && kind[i] !== SpanKind.PRODUCER)) continue;
    const s = spans[i]!;
    const peer = peerOf(s);
    if (peer === undefined || peer === s.service) continue;
    sink.virtual(i, peer);
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
