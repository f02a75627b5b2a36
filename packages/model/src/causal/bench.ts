// The race-detection benchmark behind `ariadne bench races`: a simulated
// history (default 100k state events over 1k variables) through the detector,
// and the brute-force reference on the same events (or a prefix of them),
// both with the API's default limits on reported races.

import { buildCausalOrder } from './happens-before.js';
import { detectRaces, detectRacesBruteForce, type RaceReport } from './races.js';
import { simulateHistory } from './simulate.js';

export interface RaceBenchOptions {
  stateEvents?: number;
  variables?: number;
  processes?: number;
  threadsPerProcess?: number;
  seed?: number;
  /** Share of variables always accessed under their own lock (default 0.9). */
  guarded?: number;
  /** Mean events per request context (default 40; see SimulationOptions). */
  contextEvents?: number;
  /** State events given to the brute-force reference (default: all; it is O(n²) per variable). */
  bruteForceStateEvents?: number;
  /** Clock in milliseconds (default performance.now or Date.now). */
  now?: () => number;
}

export interface RaceBenchResult {
  events: number;
  stateEvents: number;
  variables: number;
  threads: number;
  /** Effective clocks and processing order. */
  orderMs: number;
  /** The per-variable pass, with the default limits (as the API runs it). */
  detectMs: number;
  /** orderMs + detectMs. */
  totalMs: number;
  races: number;
  truncated: boolean;
  /** Detector and reference on the same events (or a prefix), same limits. */
  bruteForce: { events: number; stateEvents: number; totalMs: number; detectorMs: number; races: number; sameRacesAsDetector: boolean };
}

function defaultNow(): () => number {
  const perf = (globalThis as { performance?: { now(): number } }).performance;
  return perf ? () => perf.now() : () => Date.now();
}

const json = (r: RaceReport) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

export function benchRaces(opts: RaceBenchOptions = {}): RaceBenchResult {
  const now = opts.now ?? defaultNow();
  const stateEvents = opts.stateEvents ?? 100_000;
  const variables = opts.variables ?? 1000;
  const { events } = simulateHistory({
    seed: opts.seed ?? 1,
    processes: opts.processes ?? 20,
    threadsPerProcess: opts.threadsPerProcess ?? 5,
    variables,
    locks: 10,
    stateEvents,
    traces: 1000,
    contextEvents: opts.contextEvents ?? 40,
    guarded: opts.guarded ?? 0.9,
  });
  const t0 = now();
  const order = buildCausalOrder(events);
  const t1 = now();
  const report = detectRaces(events, { order });
  const t2 = now();

  // The reference on a prefix holding bruteForceStateEvents state events.
  const bfState = Math.min(opts.bruteForceStateEvents ?? stateEvents, stateEvents);
  let cut = events.length;
  if (bfState < stateEvents) {
    let seen = 0;
    cut = events.findIndex((e) => e.kind === 'state' && ++seen > bfState);
    if (cut < 0) cut = events.length;
  }
  const prefix = events.slice(0, cut);
  const b0 = now();
  const bf = detectRacesBruteForce(prefix);
  const b1 = now();
  const fast = detectRaces(prefix);
  const b2 = now();
  return {
    events: events.length,
    stateEvents,
    variables,
    threads: order.threadKeys.length,
    orderMs: t1 - t0,
    detectMs: t2 - t1,
    totalMs: t2 - t0,
    races: report.races.length,
    truncated: report.truncated,
    bruteForce: {
      events: prefix.length,
      stateEvents: bfState,
      totalMs: b1 - b0,
      detectorMs: b2 - b1,
      races: bf.races.length,
      sameRacesAsDetector: json(bf) === json(fast),
    },
  };
}
