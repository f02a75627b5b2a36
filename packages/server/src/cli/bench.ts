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
    default:
      console.error('usage: ariadne bench <ingest|sdk> [--duration 20s] [--concurrency 16] [--json]');
      return 2;
  }
}
