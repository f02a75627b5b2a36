// A batch of spans between decoding and the head: the row values with
// dictionary ids already resolved (phase one, which may still refuse the
// batch), so that appending them as rows (phase two, Head.commit) cannot
// fail halfway. Reused from batch to batch; typed arrays only.

import type { OddTimes, RowExtras } from './head.js';

export class Staged {
  count = 0;
  private cap = 0;
  traceWords!: Uint32Array;
  spanHi!: Uint32Array;
  spanLo!: Uint32Array;
  parentHi!: Uint32Array;
  parentLo!: Uint32Array;
  /** ns after the head's base (rounded when the span is odd; see odd) */
  start!: Float64Array;
  dur!: Float64Array;
  service!: Uint32Array;
  name!: Uint32Array;
  kind!: Uint8Array;
  status!: Uint8Array;
  statusMsg!: Uint32Array;
  traceState!: Uint32Array;
  flags!: Uint32Array;
  resource!: Uint32Array;
  scope!: Uint32Array;
  shape!: Uint32Array;
  attrStart!: Uint32Array;
  attrVals = new Uint32Array(4096);
  attrCount = 0;
  /** staged index -> exact times of a span whose offsets do not fit a double */
  readonly odd = new Map<number, OddTimes>();
  readonly extras = new Map<number, RowExtras>();

  constructor() {
    this.grow(256);
  }

  reset(): void {
    this.count = 0;
    this.attrCount = 0;
    this.attrStart[0] = 0;
    this.odd.clear();
    this.extras.clear();
  }

  /** A new staged span's index; its attrStart is set, its attrStart[i + 1] is the caller's. */
  push(): number {
    const i = this.count++;
    if (i >= this.cap) this.grow(this.cap * 2);
    this.attrStart[i] = this.attrCount;
    return i;
  }

  /** Room for `n` more attribute value ids. */
  ensureAttrs(n: number): void {
    if (this.attrCount + n <= this.attrVals.length) return;
    let size = this.attrVals.length * 2;
    while (size < this.attrCount + n) size *= 2;
    const a = new Uint32Array(size);
    a.set(this.attrVals.subarray(0, this.attrCount));
    this.attrVals = a;
  }

  private grow(cap: number): void {
    const g = <T extends Uint32Array | Float64Array | Uint8Array>(a: T | undefined, n: number, make: new (n: number) => T): T => {
      const b = new make(n);
      if (a) b.set(a.subarray(0, Math.min(a.length, n)) as never);
      return b;
    };
    this.traceWords = g(this.traceWords, cap * 4, Uint32Array);
    this.spanHi = g(this.spanHi, cap, Uint32Array);
    this.spanLo = g(this.spanLo, cap, Uint32Array);
    this.parentHi = g(this.parentHi, cap, Uint32Array);
    this.parentLo = g(this.parentLo, cap, Uint32Array);
    this.start = g(this.start, cap, Float64Array);
    this.dur = g(this.dur, cap, Float64Array);
    this.service = g(this.service, cap, Uint32Array);
    this.name = g(this.name, cap, Uint32Array);
    this.kind = g(this.kind, cap, Uint8Array);
    this.status = g(this.status, cap, Uint8Array);
    this.statusMsg = g(this.statusMsg, cap, Uint32Array);
    this.traceState = g(this.traceState, cap, Uint32Array);
    this.flags = g(this.flags, cap, Uint32Array);
    this.resource = g(this.resource, cap, Uint32Array);
    this.scope = g(this.scope, cap, Uint32Array);
    this.shape = g(this.shape, cap, Uint32Array);
    this.attrStart = g(this.attrStart, cap + 1, Uint32Array);
    this.cap = cap;
  }
}
