// Request bodies on their way to the store's thread, in one SharedArrayBuffer
// both threads see: a write copies its bytes in and sends their place, not a
// fresh ArrayBuffer per request (whose allocation, transfer and collection
// cost both threads more than the copy). Space is taken in order around the
// ring and given back when the store has answered; what does not fit goes
// the old way.

export class SharedRing {
  readonly buffer: SharedArrayBuffer;
  private readonly bytes: Uint8Array;
  /** live regions in the order they were taken: start, end, freed (0/1) */
  private readonly live: number[] = [];
  /** where the next region starts */
  private head = 0;

  constructor(size: number) {
    this.buffer = new SharedArrayBuffer(size);
    this.bytes = new Uint8Array(this.buffer);
  }

  /** Copies `src` in; its offset, or -1 when the ring has no room for it now. */
  put(src: Uint8Array): number {
    const n = src.length;
    const size = this.bytes.length;
    if (n === 0 || n > size) return -1;
    let at = this.head;
    if (this.live.length === 0) {
      at = 0;
    } else {
      const tail = this.live[0]!; // the oldest live region's start
      if (at > tail) {
        // not wrapped: free space is [head, size), then [0, tail)
        if (size - at < n) {
          if (tail < n) return -1;
          at = 0;
        }
      } else if (tail - at < n) return -1; // wrapped: free space is [head, tail)
    }
    this.bytes.set(src, at);
    this.live.push(at, at + n, 0);
    this.head = at + n;
    return at;
  }

  /** Gives back the region put() returned `at` for. */
  release(at: number): void {
    const live = this.live;
    for (let i = 0; i < live.length; i += 3) {
      if (live[i] === at && live[i + 2] === 0) {
        live[i + 2] = 1;
        break;
      }
    }
    while (live.length > 0 && live[2] === 1) live.splice(0, 3);
  }

  /** Regions not yet given back. */
  get regions(): number {
    return this.live.length / 3;
  }
}
