// `ariadne search ...`: trace summaries as a table or JSON; `--traceql` (`-q`)
// sends a TraceQL query instead of the per-span filters.

import { formatDuration, formatTimestamp, summaryFromJson, type TraceSummaryJson } from '@ariadne/model';
import { ConfigError, parseArgs } from '../config/config.js';
import { baseUrl, getJson } from './client.js';

const FLAG_TO_PARAM: Record<string, string> = {
  service: 'service',
  operation: 'operation',
  'min-duration': 'minDuration',
  'max-duration': 'maxDuration',
  status: 'status',
  start: 'start',
  end: 'end',
  limit: 'limit',
  traceql: 'q',
};

export async function searchCommand(argv: string[]): Promise<number> {
  const { flags, all, positional } = parseArgs(argv.map((a) => (a === '-q' ? '--traceql' : a)), ['json']);
  if (positional.length) throw new ConfigError(`search takes only flags, not '${positional[0]}'`);
  const params = new URLSearchParams();
  for (const [flag, values] of Object.entries(all)) {
    if (flag === 'json' || flag === 'url') continue;
    if (flag === 'attr') {
      for (const v of values) {
        const eq = v.indexOf('=');
        if (eq <= 0) throw new ConfigError(`--attr needs key=value, not '${v}'`);
        params.append(`attr.${v.slice(0, eq)}`, v.slice(eq + 1));
      }
      continue;
    }
    const p = FLAG_TO_PARAM[flag];
    if (!p) throw new ConfigError(`unknown flag --${flag} for search`);
    params.set(p, values[values.length - 1]!);
  }
  const { status, body } = await getJson<{ traces?: TraceSummaryJson[]; truncated?: boolean; error?: string; offset?: number }>(`${baseUrl(flags)}/api/v1/traces?${params}`);
  if (status !== 200 || !body.traces) {
    console.error(`ariadne: ${body.error ?? `server answered ${status}`}`);
    const q = flags.traceql;
    // Point at the error in the query, as compilers do.
    if (q !== undefined && body.offset !== undefined && !q.includes('\n')) console.error(`  ${q}\n  ${' '.repeat(body.offset)}^`);
    return 1;
  }
  if (body.truncated) console.error('ariadne: the scan hit its bound before the answer was sure; narrow the query or the time range (--start/--end)');
  if (flags.json) {
    console.log(JSON.stringify(body.traces, null, 2));
    return 0;
  }
  const rows = body.traces.map(summaryFromJson).map((t) => [
    t.traceId,
    formatTimestamp(t.startTimeUnixNano).replace(/\.\d+Z$/, 'Z'),
    formatDuration(t.durationNanos),
    String(t.spanCount),
    String(t.errorCount),
    `${t.rootService}: ${t.rootOperation}`,
  ]);
  printTable(['TRACE ID', 'START', 'DURATION', 'SPANS', 'ERRORS', 'ROOT'], rows);
  if (!rows.length) console.log('(no traces match)');
  return 0;
}

function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}
