// `ariadne <command>`: serve, trace, search, races, causal, bench.

import { ConfigError, loadConfig, parseArgs } from '../config/config.js';
import { traceCommand } from './trace.js';
import { searchCommand } from './search.js';
import { benchCommand } from './bench.js';
import { racesCommand } from './races.js';
import { causalCommand } from './causal.js';

const USAGE = `usage: ariadne <command> [flags]

commands:
  serve    [--data DIR] [--port 3000] [--otlp-http-port 4318] [--otlp-grpc-port 4317]
           [--config FILE] [--storage embedded|clickhouse] [--clickhouse-url URL] [--retention 7d]
           [--host 0.0.0.0] [--max-body-bytes N] [--max-inflight-bytes N] [--memory-limit 2GiB] [--wal-sync always|none]
           [--checkpoint-interval 10s] [--api-keys k1,k2]
           every flag also as ARIADNE_<FLAG_IN_CAPS>, e.g. ARIADNE_DATA, ARIADNE_PORT
  trace    <traceId> [--analyze] [--json] [--url http://localhost:3000]
           --analyze: critical path, bottleneck marks, service breakdown, clock skew
  search   [--service S] [--operation O] [--min-duration 100ms] [--max-duration 2s]
           [--status error|ok|unset] [--attr k=v]... [--start T] [--end T] [--limit N] [--json]
           [--url http://localhost:3000]
  search   --traceql|-q '<query>' [--start T] [--end T] [--limit N] [--json]
           TraceQL, e.g. -q '{ resource.service.name = "cart" && duration > 100ms } && { status = error }'
  bench    ingest [--duration 20s] [--concurrency 64] [--memory-limit SIZE] [--transport http|grpc] [--grpc-client h2|node] [--wal-sync always|none] [--json]
  bench    storage [--spans 1000000] [--json]
  bench    query [--spans 1000000] [--json]
  bench    sdk [--iterations 50000] [--json]
  bench    races [--state-events 100000] [--variables 1000] [--brute-force-events N] [--json]
  races    [--trace ID] [--start T] [--end T] [--service S] [--limit N] [--json] [--url http://localhost:3000]
           data races of one trace, or of every trace in a window (default the last hour)
  causal   <traceId> [--timeline 30] [--json] [--url http://localhost:3000]
           full-chain analysis: events by type and service, async pairs, decorated
           functions, timeline, races, locks, highlights`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'serve':
        return await serveCommand(rest);
      case 'trace':
        return await traceCommand(rest);
      case 'search':
        return await searchCommand(rest);
      case 'bench':
        return await benchCommand(rest);
      case 'races':
        return await racesCommand(rest);
      case 'causal':
        return await causalCommand(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        console.error(`ariadne: unknown command '${cmd}'\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`ariadne: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

async function serveCommand(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv);
  const config = loadConfig(flags);
  const { startAriadne } = await import('../main.js');
  const log = (m: string) => console.error(`ariadne: ${m}`);
  const server = await startAriadne(config, log);
  const { http, otlpHttp, otlpGrpc } = server.ports;
  console.log(`ariadne listening http=${http} otlp-http=${otlpHttp} otlp-grpc=${otlpGrpc}`);
  console.log(`ariadne data=${config.dataDir} storage=${config.storage} ui=http://localhost:${http}/`);
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      log(`${sig}: shutting down`);
      server.close().then(resolve, (e) => {
        log(`shutdown error: ${e}`);
        resolve();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}
