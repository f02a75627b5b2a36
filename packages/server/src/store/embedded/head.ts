// The in-memory head: spans written but not yet loaded into DuckDB, grouped
// by trace. Reads consult it next to the database, so a write is visible the
// moment write() resolves; a flush swaps in a fresh head and loads the old one.

import type { Span } from '@ariadne/model';

export class Head {
  readonly byTrace = new Map<string, Span[]>();
  count = 0;

  add(spans: readonly Span[]): void {
    for (const s of spans) {
      const list = this.byTrace.get(s.traceId);
      if (list) list.push(s);
      else this.byTrace.set(s.traceId, [s]);
    }
    this.count += spans.length;
  }

  *spans(): Iterable<Span> {
    for (const list of this.byTrace.values()) yield* list;
  }

  /** Removes spans that started before the cutoff; returns how many. */
  removeBefore(cutoff: bigint): number {
    let removed = 0;
    for (const [traceId, list] of this.byTrace) {
      const kept = list.filter((s) => s.startTimeUnixNano >= cutoff);
      if (kept.length === list.length) continue;
      removed += list.length - kept.length;
      if (kept.length) this.byTrace.set(traceId, kept);
      else this.byTrace.delete(traceId);
    }
    this.count -= removed;
    return removed;
  }

  /**
   * The batch to load: traces in trace id order, each trace's spans by start
   * time with repeated span ids dropped (the first copy wins, as in reads).
   * Yields to the event loop now and then: a batch can hold many thousands of spans.
   */
  async sortedForLoad(yieldEvery: number, pause: () => Promise<void>): Promise<Span[]> {
    const out: Span[] = [];
    const ids = [...this.byTrace.keys()].sort();
    let sinceYield = 0;
    for (const id of ids) {
      const list = this.byTrace.get(id)!;
      const seen = new Set<string>();
      const unique = list.filter((s) => !seen.has(s.spanId) && (seen.add(s.spanId), true));
      unique.sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : a.startTimeUnixNano > b.startTimeUnixNano ? 1 : 0));
      for (const s of unique) out.push(s);
      sinceYield += list.length;
      if (sinceYield >= yieldEvery) {
        sinceYield = 0;
        await pause();
      }
    }
    return out;
  }

  /** A head holding this one's spans followed by `later`'s (used to put back a failed batch). */
  static merge(first: Head, later: Head): Head {
    const h = new Head();
    for (const list of first.byTrace.values()) h.add(list);
    for (const list of later.byTrace.values()) h.add(list);
    return h;
  }
}
