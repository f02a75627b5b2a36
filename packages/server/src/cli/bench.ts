// `ariadne bench <ingest|...> [--json]`: prints figures; see docs/benchmarks.md.

import { parseDuration } from '@ariadne/model';
import { ConfigError, parseArgs } from '../config/config.js';

export async function benchCommand(argv: string[]): Promise<number> {
  const [what, ...rest] = argv;
  const { flags } = parseArgs(rest, ['json']);
  const json = flags.json === 'true';
  const log = json ? () => {} : (m: string) => console.log(m);
  switch (what) {
    case 'ingest': {
      const { runIngestBench } = await import('../bench/ingest.js');
      const d = parseDuration(flags.duration ?? '20s');
      if (d === undefined) throw new ConfigError(`--duration must be like 20s, not '${flags.duration}'`);
      const r = await runIngestBench({
        durationMs: d / 1e6,
        concurrency: Number(flags.concurrency ?? 16),
        spansPerRequest: Number(flags['spans-per-request'] ?? 100),
        distinctPayloads: 200,
        walSync: flags['wal-sync'] === 'none' ? 'none' : 'always',
        transport: flags.transport === 'grpc' ? 'grpc' : 'http',
        log,
      });
      if (json) console.log(JSON.stringify(r, null, 2));
      else {
        console.log(`\ningest (${r.transport}, wal-sync=${r.walSync}, concurrency ${r.concurrency})`);
        console.log(`  durable spans/s        ${Math.round(r.spansPerSec)}`);
        console.log(`  protobufjs decode/s    ${Math.round(r.referenceDecodeSpansPerSec)}  (reference)`);
        console.log(`  ratio                  ${r.ratio.toFixed(2)}`);
        console.log(`  acked / stored / lost  ${r.spansAcked} / ${r.spansStored} / ${r.lost}`);
        console.log(`  failed requests        ${r.failedRequests}`);
        console.log(`  server CPU             ${r.cpuPercent.toFixed(0)}% (of one core)`);
        console.log(`  server peak RSS        ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
      }
      return r.lost === 0 ? 0 : 1;
    }
    case 'sdk': {
      const { runSdkBench } = await import('@ariadne/sdk');
      const r = await runSdkBench({ iterations: Number(flags.iterations ?? 50_000) });
      if (json) console.log(JSON.stringify(r, null, 2));
      else {
        console.log(`sdk (${r.iterations} calls per variant, ${r.rounds} interleaved rounds, medians)`);
        console.log(`  traced(fn) per call        ${r.spanNanos.toFixed(0)} ns`);
        console.log(`  hand-written span          ${r.referenceSpanNanos.toFixed(0)} ns  (reference: @opentelemetry/sdk-trace-base)`);
        console.log(`  decorator ratio            ${r.decoratorRatio.toFixed(3)}  (@traced method: ${r.methodRatio.toFixed(3)})`);
        console.log(`  causal event               ${r.causalEventNanos.toFixed(0)} ns  (hand-written addEvent: ${r.referenceEventNanos.toFixed(0)} ns)`);
        console.log(`  causal event + location    ${r.causalEventWithLocationNanos.toFixed(0)} ns`);
      }
      return 0;
    }
    case 'races': {
      // The race detector against the brute-force reference on the same simulated history.
      const { benchRaces } = await import('@ariadne/model');
      const num = (flag: string, dflt: number) => {
        const v = flags[flag] === undefined ? dflt : Number(flags[flag]);
        if (!Number.isSafeInteger(v) || v <= 0) throw new ConfigError(`--${flag} must be a positive integer, not '${flags[flag]}'`);
        return v;
      };
      const stateEvents = num('state-events', 100_000);
      const r = benchRaces({ stateEvents, variables: num('variables', 1000), bruteForceStateEvents: num('brute-force-events', stateEvents), seed: num('seed', 1) });
      const bf = r.bruteForce;
      const out = {
        events: r.events,
        stateEvents: r.stateEvents,
        variables: r.variables,
        threads: r.threads,
        orderMs: r.orderMs,
        detectMs: r.detectMs,
        detectorMs: r.totalMs,
        races: r.races,
        racesCapped: r.truncated,
        bruteForceStateEvents: bf.stateEvents,
        bruteForceMs: bf.totalMs,
        detectorOnSameEventsMs: bf.detectorMs,
        speedup: bf.detectorMs > 0 ? bf.totalMs / bf.detectorMs : null,
        sameRacesAsBruteForce: bf.sameRacesAsDetector,
      };
      if (json) console.log(JSON.stringify(out, null, 2));
      else {
        const ms = (x: number) => `${x.toFixed(0)} ms`;
        console.log(`races (${r.stateEvents} state events of ${r.events} events, ${r.variables} variables, ${r.threads} threads)`);
        console.log(`  detector                 ${ms(r.totalMs)}  (happens-before ${ms(r.orderMs)} + detection ${ms(r.detectMs)}), ${r.races} races${r.truncated ? ' (capped)' : ''}`);
        console.log(`  brute force (reference)  ${ms(bf.totalMs)}  on ${bf.stateEvents === r.stateEvents ? 'the same' : `the first ${bf.stateEvents}`} state events`);
        console.log(`  detector on those        ${ms(bf.detectorMs)}  → speedup ${out.speedup === null ? 'n/a' : `${out.speedup.toFixed(1)}×`}`);
        console.log(`  same races               ${bf.sameRacesAsDetector ? 'yes' : 'NO'}`);
      }
      return bf.sameRacesAsDetector ? 0 : 1;
    }
    default:
      console.error('usage: ariadne bench <ingest|sdk|races> [--duration 20s] [--concurrency 16] [--json]');
      return 2;
  }
}
