/// <reference types="node" />
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { benchRaces } from './bench.js';

const ms = (x: number) => `${Math.round(x)}ms`;

// The issue asks for 100k state events over 1k variables in under 1 s. Shared
// CI machines are noisy, so the assertion leaves room; the figure is printed.
const LIMIT_MS = Number(process.env['ARIADNE_RACE_BENCH_LIMIT_MS'] ?? 3000);

it('speed: 100k state events over 1k variables, detector vs brute force on the same events', (t) => {
  const r = benchRaces();
  t.diagnostic(
    `detector: ${r.stateEvents} state events (${r.events} events, ${r.threads} threads, ${r.variables} variables): ` +
      `${ms(r.totalMs)} (order ${ms(r.orderMs)} + detect ${ms(r.detectMs)}), ${r.races} races${r.truncated ? ' (capped)' : ''}`,
  );
  t.diagnostic(`brute force on the same ${r.bruteForce.stateEvents} state events: ${ms(r.bruteForce.totalMs)}, same races: ${r.bruteForce.sameRacesAsDetector}`);
  assert.ok(r.bruteForce.sameRacesAsDetector);
  assert.ok(r.totalMs < LIMIT_MS, `${ms(r.totalMs)} over ${LIMIT_MS}ms`);
});

it('speed: 100k state events over 10 hot variables (brute force on a 10k prefix: it is quadratic)', (t) => {
  const r = benchRaces({ variables: 10, bruteForceStateEvents: 10_000 });
  t.diagnostic(`detector: ${r.stateEvents} state events over ${r.variables} variables: ${ms(r.totalMs)} (order ${ms(r.orderMs)} + detect ${ms(r.detectMs)})`);
  t.diagnostic(
    `brute force on the first ${r.bruteForce.stateEvents} state events: ${ms(r.bruteForce.totalMs)} (detector on the same: ${ms(r.bruteForce.detectorMs)}), same races: ${r.bruteForce.sameRacesAsDetector}`,
  );
  assert.ok(r.bruteForce.sameRacesAsDetector);
  assert.ok(r.totalMs < LIMIT_MS, `${ms(r.totalMs)} over ${LIMIT_MS}ms`);
});
