// `ariadne bench <ingest|...> [--json]`: prints figures; see docs/benchmarks.md.

import { parseDuration } from '@ariadne/model';
import { ConfigError, parseArgs, parseSize } from '../config/config.js';

function memoryLimit(v: string): number {
  const n = parseSize(v);
  if (n === undefined) throw new ConfigError(`--memory-limit must be a size like 512MiB or 2GiB, not '${v}'`);
  return n;
}

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
        // 64 requests in flight (many exporters at once): enough to keep the server busy through its fsync latency; fewer measure the client's round trips (see docs/benchmarks.md)
        concurrency: Number(flags.concurrency ?? 64),
        spansPerRequest: Number(flags['spans-per-request'] ?? 100),
        distinctPayloads: 200,
        walSync: flags['wal-sync'] === 'none' ? 'none' : 'always',
        transport: flags.transport === 'grpc' ? 'grpc' : 'http',
        grpcClient: flags['grpc-client'] === 'node' ? 'node' : 'h2',
        ...(flags['memory-limit'] ? { memoryLimitBytes: memoryLimit(flags['memory-limit']) } : {}),
        log,
      });
      if (json) console.log(JSON.stringify(r, null, 2));
      else {
        console.log(`\ningest (${r.transport}${r.grpcClient ? ` via the ${r.grpcClient} client` : ''}, wal-sync=${r.walSync}, concurrency ${r.concurrency})`);
        console.log(`  durable spans/s        ${Math.round(r.spansPerSec)}  (acked during the load ${Math.round(r.ackedSpansPerSec)}/s, then ${r.drainSec.toFixed(1)} s of drain)`);
        console.log(`  protobufjs decode/s    ${Math.round(r.referenceDecodeSpansPerSec)}  (reference)`);
        console.log(`  ratio                  ${r.ratio.toFixed(2)}`);
        console.log(`  acked / stored / lost  ${r.spansAcked} / ${r.spansStored} / ${r.lost}`);
        console.log(`  failed requests        ${r.failedRequests}`);
        console.log(`  server CPU             ${r.cpuPercent.toFixed(0)}% (of one core)`);
        console.log(`  server peak RSS        ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB (memory limit ${(r.memoryLimitBytes / 2 ** 20).toFixed(0)} MiB)`);
        console.log(`  load generator CPU     ${r.clientCpuPercent.toFixed(0)}%`);
      }
      return r.lost === 0 ? 0 : 1;
    }
    case 'storage':
    case 'query': {
      const { runStorageBench } = await import('../bench/storage-query.js');
      const spans = Number(flags.spans ?? 1_000_000);
      if (!Number.isInteger(spans) || spans < 10_000) throw new ConfigError(`--spans must be an integer ≥ 10000, not '${flags.spans}'`);
      const { storage, query } = await runStorageBench(spans, log);
      const r = what === 'storage' ? storage : query;
      if (json) console.log(JSON.stringify(r, null, 2));
      else if (what === 'storage') {
        console.log(`\nstorage (block store, ${storage.spans} spans of the benchmark dataset)`);
        console.log(`  bytes on disk          ${storage.bytesOnDisk}`);
        console.log(`  bytes/span             ${storage.bytesPerSpan.toFixed(1)}   (OTLP protobuf: ${storage.otlpBytesPerSpan.toFixed(1)}, ratio ${storage.compressionRatio.toFixed(1)}×)`);
        console.log(`  flush spans/s          ${Math.round(storage.flushSpansPerSec)}`);
        console.log(`  write()+flush spans/s  ${Math.round(storage.ingestSpansPerSec)}`);
        console.log(`  peak RSS               ${(storage.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
      } else {
        console.log(`\nquery (block store, ${query.spans} spans)`);
        console.log(`  trace by id warm p50/p99   ${query.traceById.p50Ms} / ${query.traceById.p99Ms} ms (cold ${query.traceById.coldP50Ms} / ${query.traceById.coldP99Ms} ms)`);
        for (const [name, l] of Object.entries(query.search)) console.log(`  search ${name.padEnd(20)} p50 ${l.p50Ms} ms, p95 ${l.p95Ms} ms`);
        console.log(`  RED over everything        ${query.redMs} ms (exact, every row: ${query.redExactMs} ms)`);
        console.log(`  analyzeTrace, 100k spans   ${query.analyze100kMs} ms median warm (first run ${query.analyze100kColdMs} ms)`);
      }
      return 0;
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
      // The race detector against the brute-force reference on the same simulated
      // history: the issue's case (100k state events over 1k variables) and, unless
      // a case is given, 10 hot variables, where all-pairs checking turns quadratic.
      const { benchRaces } = await import('@ariadne/model');
      const num = (flag: string, dflt: number) => {
        const v = flags[flag] === undefined ? dflt : Number(flags[flag]);
        if (!Number.isSafeInteger(v) || v <= 0) throw new ConfigError(`--${flag} must be a positive integer, not '${flags[flag]}'`);
        return v;
      };
      const run = (stateEvents: number, variables: number, bruteForceStateEvents: number) => {
        const r = benchRaces({ stateEvents, variables, bruteForceStateEvents, seed: num('seed', 1) });
        const bf = r.bruteForce;
        return {
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
      };
      const custom = ['state-events', 'variables', 'brute-force-events'].some((f) => flags[f] !== undefined);
      const stateEvents = num('state-events', 100_000);
      const main = run(stateEvents, num('variables', 1000), num('brute-force-events', stateEvents));
      const hot = custom ? undefined : run(100_000, 10, 20_000);
      const ok = main.sameRacesAsBruteForce && (hot?.sameRacesAsBruteForce ?? true);
      if (json) console.log(JSON.stringify(hot ? { ...main, hot } : main, null, 2));
      else {
        const ms = (x: number) => `${x.toFixed(0)} ms`.padStart(8);
        for (const r of hot ? [main, hot] : [main]) {
          console.log(`races: ${r.stateEvents} state events (${r.events} events, ${r.threads} threads) over ${r.variables} variables`);
          console.log(`  detector                 ${ms(r.detectorMs)}  (happens-before ${ms(r.orderMs).trim()} + detection ${ms(r.detectMs).trim()}), ${r.races} races${r.racesCapped ? ' (capped at the API limit)' : ''}`);
          const same = r.bruteForceStateEvents === r.stateEvents ? 'all' : `the first ${r.bruteForceStateEvents}`;
          console.log(`  brute force (reference)  ${ms(r.bruteForceMs)}  on ${same} state events`);
          console.log(`  detector on the same     ${ms(r.detectorOnSameEventsMs)}  → speedup ${r.speedup === null ? 'n/a' : `${r.speedup.toFixed(1)}×`}; same races: ${r.sameRacesAsBruteForce ? 'yes' : 'NO'}`);
        }
      }
      return ok ? 0 : 1;
    }
    default:
      console.error('usage: ariadne bench <ingest|sdk|races> [--duration 20s] [--concurrency 64] [--memory-limit SIZE] [--json]');
      return 2;
  }
}
