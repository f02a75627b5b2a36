// The `limit` traces whose latest matching span started last (equal starts:
// trace id ascending), gathered across the head and the blocks. A trace seen
// again keeps its latest start. Once full, `floorFor` tells a block which
// start offsets could still get in, so most rows of older blocks are skipped.

interface Entry {
  traceId: string;
  start: bigint;
  /** position in the heap */
  at: number;
}

/** a worse than b: earlier start, or the same start and a larger trace id */
function worse(a: Entry, b: Entry): boolean {
  return a.start < b.start || (a.start === b.start && a.traceId > b.traceId);
}

export class TopTraces {
  /** min-heap: the worst entry at 0 */
  private readonly heap: Entry[] = [];
  private readonly byId = new Map<string, Entry>();

  constructor(readonly limit: number) {}

  get full(): boolean {
    return this.heap.length >= this.limit;
  }

  /**
   * Offsets from `base` below which a start cannot get in (an equal start
   * still may, by trace id); -Infinity until full. Rounding keeps the
   * comparison right for offsets below 2^53, which is all a block holds.
   */
  floorFor(base: bigint): number {
    if (!this.full) return -Infinity;
    return Number(this.heap[0]!.start - base);
  }

  offer(traceId: string, start: bigint): void {
    const e = this.byId.get(traceId);
    if (e) {
      if (start > e.start) {
        e.start = start;
        this.down(e.at);
      }
      return;
    }
    const n: Entry = { traceId, start, at: this.heap.length };
    if (!this.full) {
      this.heap.push(n);
      this.byId.set(traceId, n);
      this.up(n.at);
      return;
    }
    const w = this.heap[0]!;
    if (!worse(w, n)) return;
    this.byId.delete(w.traceId);
    n.at = 0;
    this.heap[0] = n;
    this.byId.set(traceId, n);
    this.down(0);
  }

  /** Trace ids, best first. */
  result(): string[] {
    return [...this.heap].sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0)).map((e) => e.traceId);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!worse(h[i]!, h[p]!)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && worse(h[l]!, h[m]!)) m = l;
      if (r < h.length && worse(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(i: number, j: number): void {
    const h = this.heap;
    const a = h[i]!;
    const b = h[j]!;
    h[i] = b;
    h[j] = a;
    a.at = j;
    b.at = i;
  }
}
