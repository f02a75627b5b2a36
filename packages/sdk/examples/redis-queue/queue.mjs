// @ts-check
// A Redis-backed job queue (LPUSH / BRPOP) whose jobs carry their trace
// context: the producer stores it with the job, the worker continues the trace
// and records how long the job waited (`job.wait_time_ms`). The vector clock
// travels in the same field, so causal events in the worker happen after the
// producer's.
//
//   producer span ──LPUSH {id, payload, enqueued_at, trace: inject()}──► redis list
//   worker ◄──BRPOP── withExtracted(job.trace, ...) ──► "<queue> process" span (child)

import { randomUUID } from 'node:crypto';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { inject, track, withExtracted } from '@ariadne/sdk';

const tracer = trace.getTracer('redis-queue-example');

/**
 * @typedef {{ id: string, type: string, payload: unknown, enqueued_at: number, trace: Record<string, string> }} Job
 * @typedef {{ lpush(key: string, value: string): Promise<number>, brpop(key: string, timeout: number): Promise<[string, string] | null> }} RedisLike
 */

/** @param {import('@opentelemetry/api').Span} span @param {unknown} err */
function fail(span, err) {
  const e = err instanceof Error ? err : new Error(String(err));
  span.recordException(e);
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
}

export class JobQueue {
  /**
   * @param {RedisLike} redis  a client for LPUSH (and BRPOP when this process works the queue;
   *                           BRPOP blocks its connection, so give workers their own client)
   * @param {string} name      queue name; the Redis list is `queue:<name>`
   */
  constructor(redis, name = 'jobs') {
    this.redis = redis;
    this.name = name;
    this.key = `queue:${name}`;
    this.stopped = false;
  }

  /**
   * Enqueues a job in a PRODUCER span; the job carries the trace context.
   * @param {string} type @param {unknown} payload @returns {Promise<Job>}
   */
  enqueue(type, payload) {
    const attributes = { 'messaging.system': 'redis', 'messaging.destination.name': this.name, 'messaging.operation.type': 'send', 'job.type': type };
    return tracer.startActiveSpan(`${this.name} publish`, { kind: SpanKind.PRODUCER, attributes }, async (span) => {
      try {
        const id = randomUUID();
        span.setAttribute('messaging.message.id', id);
        track.spawn(`job:${id}`);
        /** @type {Job} */
        const job = { id, type, payload, enqueued_at: Date.now(), trace: inject() };
        await this.redis.lpush(this.key, JSON.stringify(job));
        return job;
      } catch (err) {
        fail(span, err);
        throw err;
      } finally {
        span.end();
      }
    });
  }

  /**
   * Runs `handler` for one job in a CONSUMER span that continues the job's trace.
   * @template T @param {Job} job @param {(job: Job) => Promise<T> | T} handler @returns {Promise<T>}
   */
  process(job, handler) {
    const attributes = {
      'messaging.system': 'redis',
      'messaging.destination.name': this.name,
      'messaging.operation.type': 'process',
      'messaging.message.id': job.id,
      'job.id': job.id,
      'job.type': job.type,
      'job.wait_time_ms': Math.max(0, Date.now() - job.enqueued_at),
    };
    // withExtracted = context.with(extract(job.trace), ...) plus, when the job
    // is done, its clock joined back into this worker: jobs worked one after
    // another are then ordered by their clocks too.
    return withExtracted(job.trace, () =>
      tracer.startActiveSpan(`${this.name} process`, { kind: SpanKind.CONSUMER, attributes }, async (span) => {
        try {
          return await handler(job);
        } catch (err) {
          fail(span, err);
          throw err;
        } finally {
          span.end();
        }
      }),
    );
  }

  /**
   * Works the queue until stop(): BRPOP, then process(). A failing job is
   * recorded on its span and does not stop the loop.
   * @param {(job: Job) => Promise<unknown> | unknown} handler
   * @param {{ pollSeconds?: number, onError?: (err: unknown, job: Job) => void }} [opts]
   */
  async work(handler, opts = {}) {
    while (!this.stopped) {
      const popped = await this.redis.brpop(this.key, opts.pollSeconds ?? 1);
      if (popped === null) continue;
      /** @type {Job} */
      const job = JSON.parse(popped[1]);
      try {
        await this.process(job, handler);
      } catch (err) {
        opts.onError?.(err, job);
      }
    }
  }

  /** Ends work() after the current BRPOP returns. */
  stop() {
    this.stopped = true;
  }
}
