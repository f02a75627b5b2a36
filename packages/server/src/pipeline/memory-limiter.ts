// The memory limiter (the OpenTelemetry Collector's memory_limiter is the
// model): the process's resident memory is sampled on a timer; above the
// soft limit (90% of --memory-limit) receivers refuse new requests with a
// retryable 503 / UNAVAILABLE and the store is asked to flush, until memory
// falls back under 80%. Refusing early is what keeps an overloaded server
// alive and every acknowledged span safe.

export interface MemoryLimiterOptions {
  limitBytes: number;
  /** how often to sample; default 50 ms */
  checkIntervalMs?: number;
  /** the process's resident set size; default process.memoryUsage.rss */
  readRss?: () => number;
  /** called once each time memory crosses the soft limit (e.g. flush the store) */
  onPressure?: () => void;
  /** every sample, for gauges */
  onSample?: (rssBytes: number) => void;
}

export const SOFT_LIMIT = 0.9;
export const RECOVER_BELOW = 0.8;

export class MemoryLimiter {
  private pressured = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly readRss: () => number;
  lastRss = 0;

  constructor(private readonly opts: MemoryLimiterOptions) {
    this.readRss = opts.readRss ?? (() => process.memoryUsage.rss());
  }

  start(): void {
    this.check();
    this.timer = setInterval(() => this.check(), this.opts.checkIntervalMs ?? 50);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Samples memory now; true while over the soft limit (and until it recovers). */
  check(): boolean {
    const rss = (this.lastRss = this.readRss());
    this.opts.onSample?.(rss);
    if (!this.pressured && rss > this.opts.limitBytes * SOFT_LIMIT) {
      this.pressured = true;
      this.opts.onPressure?.();
    } else if (this.pressured && rss < this.opts.limitBytes * RECOVER_BELOW) {
      this.pressured = false;
    }
    return this.pressured;
  }

  /** True while new requests should be refused. */
  get overLimit(): boolean {
    return this.pressured;
  }

  get limitBytes(): number {
    return this.opts.limitBytes;
  }
}
