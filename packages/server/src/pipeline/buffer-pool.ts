// Request bodies that arrive in pieces (every gRPC message over 16 KiB: DATA
// frames are 16 KiB; HTTP bodies split across socket reads) are copied into
// one buffer. A fresh ArrayBuffer per request is external memory to V8, and
// ~100 MB/s of it made the ingest thread run a full mark-compact several
// times a second; recycling the buffers halved those (docs/benchmarks.md).
//
// take() hands out an exact-length view over a pooled buffer of a power-of-two
// size; give() takes it back once nothing reads it any more. Only buffers
// take() handed out (and not yet given back) are taken back, so a stray or
// second give() is a no-op rather than a buffer in two requests at once.

import { Buffer } from 'node:buffer';

export interface BufferPoolOptions {
  /** smallest size class; smaller requests get a class this big */
  minBytes?: number;
  /** larger requests are plain allocations, never pooled */
  maxBytes?: number;
  /** bytes kept idle in the pool at most, over all classes */
  maxIdleBytes?: number;
}

export class BufferPool {
  readonly #min: number;
  readonly #max: number;
  readonly #maxIdle: number;
  /** idle buffers by size class: index log2(size) - log2(min) */
  readonly #free: ArrayBuffer[][] = [];
  /** buffers out on loan: a give() of anything else is ignored */
  readonly #out = new WeakSet<ArrayBuffer>();
  #idleBytes = 0;

  constructor(o: BufferPoolOptions = {}) {
    this.#min = pow2AtLeast(o.minBytes ?? 16 * 1024);
    this.#max = o.maxBytes ?? 8 * 1024 * 1024;
    this.#maxIdle = o.maxIdleBytes ?? 16 * 1024 * 1024;
  }

  /** A buffer of exactly `length` bytes, contents undefined. */
  take(length: number): Buffer {
    if (length > this.#max) return Buffer.allocUnsafe(length);
    const size = Math.max(this.#min, pow2AtLeast(length));
    const ab = this.#free[classOf(size, this.#min)]?.pop();
    if (ab) this.#idleBytes -= ab.byteLength;
    const buf = ab ?? new ArrayBuffer(size);
    this.#out.add(buf);
    return Buffer.from(buf, 0, length);
  }

  /** Returns a buffer from take() for reuse; the caller must not touch it afterwards. */
  give(buf: Uint8Array): void {
    const ab = buf.buffer;
    if (!(ab instanceof ArrayBuffer) || !this.#out.delete(ab)) return;
    if (this.#idleBytes + ab.byteLength > this.#maxIdle) return; // let the GC have it
    const c = classOf(ab.byteLength, this.#min);
    (this.#free[c] ??= []).push(ab);
    this.#idleBytes += ab.byteLength;
  }

  /** Bytes held idle for reuse. */
  get idleBytes(): number {
    return this.#idleBytes;
  }
}

function pow2AtLeast(n: number): number {
  return n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n));
}

function classOf(size: number, min: number): number {
  return Math.round(Math.log2(size / min));
}
