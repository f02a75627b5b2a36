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
      const arena = this.arena;
      let k = 0;
      while (k < n && arena[a + k] === buf[start + k]) k++;
      if (k === n) return this.ids[e]!;
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

/** FNV-1a over bytes, 4 at a time where it can, with a final avalanche. */
export function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5 ^ (end - start);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    h = Math.imul(h ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)), 0x01000193);
  }
  for (; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h | 0;
}
