// Context propagation: the composite propagator init() installs, and
// inject()/extract() for carriers that are not HTTP requests — job payloads,
// message headers — so a worker continues the producer's trace and clock.

import { context, propagation, type Context, type TextMapPropagator } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { AriadneClockPropagator } from './clock-propagator.js';
import { CLOCK_KEY, taskOf, type Task } from './clock.js';
import { StrictW3CTraceContextPropagator } from './w3c.js';

export type PropagatorName = 'tracecontext' | 'baggage' | 'b3' | 'b3multi' | 'none';

export interface PropagatorOptions {
  /** Standard propagators by their OTEL_PROPAGATORS names. Default `['tracecontext', 'baggage']`. */
  names?: readonly string[];
  /** Also write Raceway's `raceway-clock` header. */
  raceway?: boolean;
  /** More propagators, after the named ones. */
  extra?: readonly TextMapPropagator[];
}

/**
 * W3C trace context + W3C baggage + the Ariadne clock (plus anything asked
 * for). The clock propagator is always present: causal events depend on it.
 * Unknown names are returned in `unknown` for the caller to report.
 */
export function createPropagator(options: PropagatorOptions = {}): { propagator: TextMapPropagator; unknown: string[] } {
  const propagators: TextMapPropagator[] = [];
  const unknown: string[] = [];
  for (const name of options.names ?? ['tracecontext', 'baggage']) {
    switch (name) {
      case 'tracecontext':
        propagators.push(new StrictW3CTraceContextPropagator());
        break;
      case 'baggage':
        propagators.push(new W3CBaggagePropagator());
        break;
      case 'b3':
        propagators.push(new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER }));
        break;
      case 'b3multi':
        propagators.push(new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }));
        break;
      case 'none':
        break;
      default:
        unknown.push(name);
    }
  }
  propagators.push(...(options.extra ?? []));
  propagators.push(new AriadneClockPropagator({ raceway: options.raceway ?? false }));
  return { propagator: new CompositePropagator({ propagators }), unknown };
}

let fallback: TextMapPropagator | undefined;

/** The global propagator, or the default composite when none was installed (so job context is never silently lost). */
function activePropagator(): TextMapPropagator {
  if (propagation.fields().length > 0) return propagation as unknown as TextMapPropagator;
  fallback ??= createPropagator().propagator;
  return fallback;
}

/**
 * Writes the current trace context, baggage and clock into `carrier` (e.g. a
 * job payload's `trace` field) and returns it. Counts as a send: the clock
 * ticks.
 */
export function inject<T extends Record<string, unknown> = Record<string, string>>(carrier: T = {} as T, ctx: Context = context.active()): T {
  activePropagator().inject(ctx, carrier, {
    set(c, key, value) {
      (c as Record<string, unknown>)[key] = value;
    },
  });
  return carrier;
}

/**
 * The context stored in `carrier` by inject(), on top of `ctx`: run the
 * consumer's work in it (`context.with(extract(job.trace), ...)`). Counts as a
 * receive: the returned context runs a new task whose clock includes the
 * producer's.
 */
export function extract(carrier: Record<string, unknown> | undefined | null, ctx: Context = context.active()): Context {
  return activePropagator().extract(ctx, carrier ?? {}, {
    keys: (c) => Object.keys(c as object),
    get(c, key) {
      const v = (c as Record<string, unknown>)[key];
      if (typeof v === 'string') return v;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
      return undefined;
    },
  });
}

/**
 * Runs `fn` in the context stored in `carrier` (a job's `trace` field) and,
 * once it returns or its promise settles, joins the job's clock back into the
 * current task. A consumer that awaits one job before taking the next thus
 * orders its jobs (program order is real synchronization); with extract()
 * alone, consecutive jobs would look concurrent.
 */
export function withExtracted<T>(carrier: Record<string, unknown> | undefined | null, fn: () => T, ctx: Context = context.active()): T {
  const consumer = taskOf(ctx);
  const inner = extract(carrier, ctx);
  const job = inner.getValue(CLOCK_KEY) as Task | undefined;
  const join = (): void => {
    if (job !== undefined && job !== consumer) consumer.merge(job.entries());
  };
  let result: T;
  try {
    result = context.with(inner, fn);
  } catch (err) {
    join();
    throw err;
  }
  if (result instanceof Promise) return result.finally(join) as T;
  join();
  return result;
}
