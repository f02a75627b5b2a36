// Spans opened through the seed API (POST /traces/start, or /traces/span
// without a duration) and not finished yet. They are not spans of the store
// until they end, so they wait here: in memory, bounded in count and bytes,
// oldest first. When a bound is hit the oldest are handed back to be written
// as unfinished, as are those open longer than the timeout.

import type { Span } from '@ariadne/model';

export type UnfinishedReason = 'timeout' | 'evicted' | 'shutdown';

export interface OpenSpan {
  span: Span;
  /** monotonic ms when opened */
  openedAt: number;
  /** rough memory cost: the request body that opened it */
  bytes: number;
}

export interface OpenSpansOptions {
  /** most spans open at once; the oldest beyond it is evicted. Default 10,000. */
  maxSpans?: number;
  /** most request bytes held by open spans; the oldest beyond it are evicted. Default 64 MiB. */
  maxBytes?: number;
  /** an open span older than this is finished as unfinished. Default 10 minutes. */
  timeoutMs?: number;
  /** monotonic milliseconds; injectable for tests */
  clock?: () => number;
}

export class OpenSpans {
  readonly maxSpans: number;
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly #clock: () => number;
  // Insertion order is opening order, so the oldest span is always first.
  readonly #bySpan = new Map<string, OpenSpan>();
  readonly #byTrace = new Map<string, Set<string>>();
  #bytes = 0;

  constructor(opts: OpenSpansOptions = {}) {
    this.maxSpans = opts.maxSpans ?? 10_000;
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    this.timeoutMs = opts.timeoutMs ?? 10 * 60_000;
    this.#clock = opts.clock ?? (() => performance.now());
  }

  get size(): number {
    return this.#bySpan.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Traces with at least one open span. */
  get activeTraces(): number {
    return this.#byTrace.size;
  }

  has(spanId: string): boolean {
    return this.#bySpan.has(spanId);
  }

  get(spanId: string): OpenSpan | undefined {
    return this.#bySpan.get(spanId);
  }

  isActive(traceId: string): boolean {
    return this.#byTrace.has(traceId);
  }

  traceIds(): IterableIterator<string> {
    return this.#byTrace.keys();
  }

  /** The open spans of a trace. */
  ofTrace(traceId: string): OpenSpan[] {
    const ids = this.#byTrace.get(traceId);
    return ids ? [...ids].map((id) => this.#bySpan.get(id)!) : [];
  }

  /**
   * Holds a span until it is finished. Returns the spans evicted to make
   * room (oldest first), which the caller writes as unfinished. A span id
   * already open is refused (false).
   */
  open(span: Span, bytes: number): { ok: boolean; evicted: OpenSpan[] } {
    if (this.#bySpan.has(span.spanId)) return { ok: false, evicted: [] };
    const evicted: OpenSpan[] = [];
    while (this.#bySpan.size > 0 && (this.#bySpan.size + 1 > this.maxSpans || this.#bytes + bytes > this.maxBytes)) {
      evicted.push(this.#remove(this.#bySpan.keys().next().value!)!);
    }
    this.#bySpan.set(span.spanId, { span, openedAt: this.#clock(), bytes });
    this.#bytes += bytes;
    let ids = this.#byTrace.get(span.traceId);
    if (!ids) this.#byTrace.set(span.traceId, (ids = new Set()));
    ids.add(span.spanId);
    return { ok: true, evicted };
  }

  /** Removes and returns an open span (to finish it). */
  take(spanId: string): OpenSpan | undefined {
    return this.#remove(spanId);
  }

  /** Puts back a span taken for finishing when writing it failed, keeping its age. */
  restore(o: OpenSpan): void {
    // No eviction here: the span held this room a moment ago.
    if (this.#bySpan.has(o.span.spanId)) return;
    this.#bySpan.set(o.span.spanId, o);
    this.#bytes += o.bytes;
    let ids = this.#byTrace.get(o.span.traceId);
    if (!ids) this.#byTrace.set(o.span.traceId, (ids = new Set()));
    ids.add(o.span.spanId);
  }

  /** Removes and returns the spans open longer than the timeout. */
  expire(): OpenSpan[] {
    const cutoff = this.#clock() - this.timeoutMs;
    const out: OpenSpan[] = [];
    for (const [id, o] of this.#bySpan) {
      // Restored spans keep their age, so the map is only nearly sorted: scan it all (it is bounded).
      if (o.openedAt <= cutoff) out.push(this.#remove(id)!);
    }
    return out;
  }

  /** Removes and returns every open span. */
  drain(): OpenSpan[] {
    const out = [...this.#bySpan.values()];
    this.#bySpan.clear();
    this.#byTrace.clear();
    this.#bytes = 0;
    return out;
  }

  #remove(spanId: string): OpenSpan | undefined {
    const o = this.#bySpan.get(spanId);
    if (!o) return undefined;
    this.#bySpan.delete(spanId);
    this.#bytes -= o.bytes;
    const ids = this.#byTrace.get(o.span.traceId)!;
    ids.delete(spanId);
    if (ids.size === 0) this.#byTrace.delete(o.span.traceId);
    return o;
  }
}
