// One LRU for everything decoded from block files (inflated chunks, decoded
// columns), bounded by bytes so memory stays flat however many blocks exist.

export class ByteLru {
  private readonly map = new Map<string, { value: unknown; bytes: number }>();
  private used = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly budget: number) {}

  get<T>(key: string): T | undefined {
    const e = this.map.get(key);
    if (!e) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // move to the young end
    this.map.delete(key);
    this.map.set(key, e);
    return e.value as T;
  }

  set(key: string, value: unknown, bytes: number): void {
    const old = this.map.get(key);
    if (old) {
      this.used -= old.bytes;
      this.map.delete(key);
    }
    if (bytes > this.budget) return;
    this.map.set(key, { value, bytes });
    this.used += bytes;
    if (this.used > this.budget) {
      for (const [k, e] of this.map) {
        this.map.delete(k);
        this.used -= e.bytes;
        if (this.used <= this.budget) break;
      }
    }
  }

  clear(): void {
    this.map.clear();
    this.used = 0;
  }

  /** Drops every entry whose key starts with the prefix (a block going away). */
  dropPrefix(prefix: string): void {
    for (const [k, e] of this.map) {
      if (k.startsWith(prefix)) {
        this.map.delete(k);
        this.used -= e.bytes;
      }
    }
  }

  get bytes(): number {
    return this.used;
  }
}
