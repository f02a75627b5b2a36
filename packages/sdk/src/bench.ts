// `ariadne bench sdk`: what the SDK costs next to plain OpenTelemetry, measured
// in one process so the machine cancels out.
//
//   traced(work)                vs  hand-written startActiveSpan + try/catch/finally
//   (init() stack: router,          (plain @opentelemetry/sdk-trace-base
//    NodeTracerProvider)             BasicTracerProvider)
//   track.write(...)            vs  span.addEvent('ariadne.state', same attributes)
//
// Both sides export through a BatchSpanProcessor into a discarding exporter,
// run in interleaved rounds (alternating which goes first), flush between
// rounds outside the timed region; costs are medians of per-round means,
// ratios medians of back-to-back pairs.

import { context, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { init } from './init.js';
import { track } from './track.js';
import { traced } from './traced.js';

export interface SdkBenchOptions {
  /** Calls measured per variant, spread over rounds. Default 50,000. */
  iterations?: number;
}

export interface SdkBenchResult {
  /** traced(fn) cost over the hand-written span's (median of back-to-back pairs). Aim ≤ 1.10. */
  decoratorRatio: number;
  /** traced(fn) per call, ns. */
  spanNanos: number;
  /** Hand-written span on BasicTracerProvider per call, ns. */
  referenceSpanNanos: number;
  /** @traced method per call, ns. */
  methodSpanNanos: number;
  /** The same for an @traced method. */
  methodRatio: number;
  /** track.write per event, ns. Aim ≤ 1000. */
  causalEventNanos: number;
  /** span.addEvent with the same attributes by hand, ns. */
  referenceEventNanos: number;
  /** track.write's cost over a hand-written addEvent's (median of pairs). */
  causalEventRatio: number;
  /** track.write with captureLocation on, ns. */
  causalEventWithLocationNanos: number;
  iterations: number;
  rounds: number;
  node: string;
}

class DiscardExporter implements SpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.exported += spans.length;
    done({ code: ExportResultCode.SUCCESS });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function timeLoop(n: number, body: (i: number) => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) body(i);
  return Number(process.hrtime.bigint() - t0) / n;
}

let sink = 0;
function work(x: number): number {
  return x * 2 + 1;
}

export async function runSdkBench(options: SdkBenchOptions = {}): Promise<SdkBenchResult> {
  const iterations = Math.max(100, Math.floor(options.iterations ?? 50_000));
  const perRound = Math.min(500, Math.max(50, Math.ceil(iterations / 25)));
  const rounds = Math.max(5, Math.ceil(iterations / perRound));
  const eventsPerSpan = 100;

  const sdk = init({ serviceName: 'ariadne-bench', exporter: new DiscardExporter(), sampler: new AlwaysOnSampler() });
  const reference = new BasicTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [new BatchSpanProcessor(new DiscardExporter())] });
  const refTracer = reference.getTracer('reference');
  const refOptions = { attributes: { 'code.function': 'work' } };

  const tracedWork = traced(work);
  class Worker {
    @traced
    work(x: number): number {
      return x * 2 + 1;
    }
  }
  const worker = new Worker();

  const referenceCall = (x: number): number =>
    refTracer.startActiveSpan('work', refOptions, (span: Span) => {
      try {
        return work(x);
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw err;
      } finally {
        span.end();
      }
    });

  const measureSpans = {
    traced: () => timeLoop(perRound, (i) => (sink += tracedWork(i))),
    method: () => timeLoop(perRound, (i) => (sink += worker.work(i))),
    reference: () => timeLoop(perRound, (i) => (sink += referenceCall(i))),
  };

  // Causal events: a fresh span per `eventsPerSpan` events keeps both sides under the span event limit.
  const eventRounds = Math.max(1, Math.round(perRound / eventsPerSpan));
  const measureEvents = (withLocation: boolean): number => {
    let total = 0;
    for (let r = 0; r < eventRounds; r++) {
      const span = sdk.tracer.startSpan('events');
      total += context.with(trace.setSpan(context.active(), span), () => {
        track.configure({ captureLocation: withLocation });
        try {
          return timeLoop(eventsPerSpan, (i) => track.write('counter', i, i + 1));
        } finally {
          track.configure({ captureLocation: false });
        }
      });
      span.end();
    }
    return total / eventRounds;
  };
  const clock = '[["ariadne-bench#0000/0:1",41]]';
  const measureReferenceEvents = (): number => {
    let total = 0;
    for (let r = 0; r < eventRounds; r++) {
      const span = refTracer.startSpan('events');
      total += timeLoop(eventsPerSpan, (i) =>
        span.addEvent('ariadne.state', {
          'ariadne.variable': 'counter',
          'ariadne.access': 'write',
          'ariadne.clock': clock,
          'thread.id': '0:1',
          'ariadne.old_value': String(i),
          'ariadne.new_value': String(i + 1),
        }),
      );
      span.end();
    }
    return total / eventRounds;
  };

  const samples = { traced: [] as number[], method: [] as number[], reference: [] as number[], event: [] as number[], refEvent: [] as number[], location: [] as number[] };
  // Ratios of measurements taken back to back: other load on the machine
  // moves both sides of a pair alike, so their median is steadier than a
  // ratio of medians.
  const ratios = { traced: [] as number[], method: [] as number[], event: [] as number[] };
  const flush = async (): Promise<void> => {
    await sdk.forceFlush();
    await reference.forceFlush();
  };
  try {
    const warmup = 3;
    for (let r = 0; r < rounds + warmup; r++) {
      const keep = r >= warmup;
      const order = r % 2 === 0 ? (['traced', 'reference', 'method'] as const) : (['method', 'reference', 'traced'] as const);
      const ns = { traced: 0, method: 0, reference: 0 };
      for (const k of order) {
        ns[k] = measureSpans[k]();
        await flush();
      }
      let ev: number;
      let refEv: number;
      if (r % 2 === 0) {
        ev = measureEvents(false);
        refEv = measureReferenceEvents();
      } else {
        refEv = measureReferenceEvents();
        ev = measureEvents(false);
      }
      const loc = r % 4 === 0 ? measureEvents(true) : undefined;
      await flush();
      if (!keep) continue;
      samples.traced.push(ns.traced);
      samples.method.push(ns.method);
      samples.reference.push(ns.reference);
      ratios.traced.push(ns.traced / ns.reference);
      ratios.method.push(ns.method / ns.reference);
      samples.event.push(ev);
      samples.refEvent.push(refEv);
      ratios.event.push(ev / refEv);
      if (loc !== undefined) samples.location.push(loc);
    }
  } finally {
    await sdk.shutdown();
    await reference.shutdown();
  }
  if (sink === 0.5) console.log(sink); // keeps `work` from being optimised away

  const spanNanos = median(samples.traced);
  const referenceSpanNanos = median(samples.reference);
  const methodSpanNanos = median(samples.method);
  const causalEventNanos = median(samples.event);
  const referenceEventNanos = median(samples.refEvent);
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    decoratorRatio: round(median(ratios.traced)),
    spanNanos: Math.round(spanNanos),
    referenceSpanNanos: Math.round(referenceSpanNanos),
    methodSpanNanos: Math.round(methodSpanNanos),
    methodRatio: round(median(ratios.method)),
    causalEventNanos: Math.round(causalEventNanos),
    referenceEventNanos: Math.round(referenceEventNanos),
    causalEventRatio: round(median(ratios.event)),
    causalEventWithLocationNanos: Math.round(samples.location.length > 0 ? median(samples.location) : NaN),
    iterations: rounds * perRound,
    rounds,
    node: process.version,
  };
}
