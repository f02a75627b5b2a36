// Types for queue.mjs (the example is plain JavaScript so it runs without a build).

export interface Job {
  id: string;
  type: string;
  payload: unknown;
  /** Milliseconds since the epoch, when the producer enqueued the job. */
  enqueued_at: number;
  /** What inject() wrote: traceparent, tracestate, baggage, ariadne-clock. */
  trace: Record<string, string>;
}

export interface RedisLike {
  lpush(key: string, value: string): Promise<number>;
  brpop(key: string, timeout: number): Promise<[string, string] | null>;
}

export declare class JobQueue {
  constructor(redis: RedisLike, name?: string);
  readonly name: string;
  readonly key: string;
  enqueue(type: string, payload: unknown): Promise<Job>;
  process<T>(job: Job, handler: (job: Job) => Promise<T> | T): Promise<T>;
  work(handler: (job: Job) => Promise<unknown> | unknown, opts?: { pollSeconds?: number; onError?: (err: unknown, job: Job) => void }): Promise<void>;
  stop(): void;
}
