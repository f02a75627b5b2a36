// A hash table from byte strings to ids, for the OTLP → head path: a name,
// key or value that arrives as UTF-8 bytes is looked up by its bytes, so a
// repeated one costs a hash and a compare instead of a new JS string and a
// Map lookup. Typed arrays only: nothing for the garbage collector to trace.

export class BytesTable {
  /** slot -> entry + 1 (0 = empty) */
  private slots = new Int32Array(1024);
  private hashes = new Int32Array(256);
  private starts = new Uint32Array(257);
  private ids = new Int32Array(256);
  private arena = new Uint8Array(4096);
  private arenaView: DataView = new DataView(this.arena.buffer);
  private used = 0;
  count = 0;

  /** The id stored for bytes [start, end) of `buf`, or -1. */
  get(buf: Uint8Array, start: number, end: number): number {
    const h = hashBytes(buf, start, end);
    const slots = this.slots;
    const mask = slots.length - 1;
    const n = end - start;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = slots[i]! - 1;
      if (e < 0) return -1;
      if (this.hashes[e] !== h) continue;
      const a = this.starts[e]!;
      if (this.starts[e + 1]! - a !== n) continue;
      if (sameBytes(this.arenaView, a, viewOf(buf), start, n)) return this.ids[e]!;
    }
  }

  /** Stores `id` for bytes [start, end) of `buf` (absent: the caller checked with get). */
  set(buf: Uint8Array, start: number, end: number, id: number): void {
    const e = this.count;
    if (e + 1 >= this.ids.length) this.growEntries();
    const n = end - start;
    if (this.used + n > this.arena.length) {
      let size = this.arena.length * 2;
      while (size < this.used + n) size *= 2;
      const a = new Uint8Array(size);
      a.set(this.arena.subarray(0, this.used));
      this.arena = a;
      this.arenaView = new DataView(a.buffer);
    }
    const arena = this.arena;
    for (let i = 0, at = this.used; i < n; i++) arena[at + i] = buf[start + i]!;
    this.starts[e] = this.used;
    this.used += n;
    this.starts[e + 1] = this.used;
    const h = hashBytes(buf, start, end);
    this.hashes[e] = h;
    this.ids[e] = id;
    this.count++;
    if (this.count * 2 > this.slots.length) this.rehash();
    else this.place(e, h);
  }

  /** Bytes held, for a caller that bounds the table's memory. */
  get bytes(): number {
    return this.used;
  }

  private place(e: number, h: number): void {
    const slots = this.slots;
    const mask = slots.length - 1;
    let i = h & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = e + 1;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    for (let e = 0; e < this.count; e++) this.place(e, this.hashes[e]!);
  }

  private growEntries(): void {
    const n = this.ids.length * 2;
    const h = new Int32Array(n);
    h.set(this.hashes);
    this.hashes = h;
    const ids = new Int32Array(n);
    ids.set(this.ids);
    this.ids = ids;
    const s = new Uint32Array(n + 1);
    s.set(this.starts);
    this.starts = s;
  }
}

// One DataView per input buffer, kept while calls keep passing that buffer:
// a 4-byte read through it is one load where indexing the bytes is four.
let lastBuf: Uint8Array | undefined;
let lastView: DataView = new DataView(new ArrayBuffer(0));

/** A DataView over exactly the bytes of `buf` (offsets as in `buf`). */
export function viewOf(buf: Uint8Array): DataView {
  if (buf !== lastBuf) {
    lastView = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    lastBuf = buf;
  }
  return lastView;
}

/** Whether the `n` bytes at `a` of `x` equal those at `b` of `y`. */
export function sameBytes(x: DataView, a: number, y: DataView, b: number, n: number): boolean {
  let k = 0;
  for (; k + 4 <= n; k += 4) if (x.getInt32(a + k) !== y.getInt32(b + k)) return false;
  for (; k < n; k++) if (x.getUint8(a + k) !== y.getUint8(b + k)) return false;
  return true;
}

/** FNV-1a over bytes, 4 at a time where it can (little-endian words), with a final avalanche. */
export function hashBytes(buf: Uint8Array, start: number, end: number): number {
  const v = viewOf(buf);
  let h = 0x811c9dc5 ^ (end - start);
  let i = start;
  for (; i + 4 <= end; i += 4) h = Math.imul(h ^ v.getInt32(i, true), 0x01000193);
  for (; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h | 0;
}
