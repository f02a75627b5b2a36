// `ariadne races [--trace ID] [--start T --end T] [--service S] [--json]`:
// the data races of one trace (GET /api/v1/traces/:id/races) or of every
// trace in a time window (GET /api/v1/races), one block per race with both
// accesses: service, thread, location, values, clocks and the spans they sit in.

import { formatTimestamp } from '@ariadne/model';
import { ConfigError, parseArgs } from '../config/config.js';
import { baseUrl, getJson } from './client.js';

export const RACES_USAGE = 'usage: ariadne races [--trace ID] [--start T] [--end T] [--service S] [--limit N] [--json] [--url http://localhost:3000]';

interface AccessJson {
  service: string;
  instance?: string | null;
  threadId: string;
  access: string;
  location: string | null;
  oldValue: string | null;
  newValue: string | null;
  clock: [string, number][];
  traceId: string;
  spanId: string;
  timeUnixNano?: string;
  locks?: string[];
}

export interface RaceJson {
  variable: string;
  severity: 'critical' | 'warning';
  accesses: [AccessJson, AccessJson];
}

export interface RacesAnswer {
  traceId?: string;
  start?: string;
  end?: string;
  service?: string;
  tracesScanned?: number;
  tracesWithEvents?: number;
  events: number;
  summary: { races: number; critical: number; warning: number; variables: number };
  races: RaceJson[];
  truncated: boolean;
  scanTruncated?: boolean;
  truncatedVariables: string[];
  error?: string;
}

const FLAG_TO_PARAM: Record<string, string> = { start: 'start', end: 'end', service: 'service', limit: 'limit', 'max-per-variable': 'maxPerVariable', 'max-traces': 'maxTraces' };

export async function racesCommand(argv: string[]): Promise<number> {
  const { flags, positional } = parseArgs(argv, ['json']);
  if (positional.length) throw new ConfigError(`races takes only flags, not '${positional[0]}' (use --trace ID)\n${RACES_USAGE}`);
  const params = new URLSearchParams();
  for (const [flag, value] of Object.entries(flags)) {
    if (flag === 'json' || flag === 'url' || flag === 'trace') continue;
    const p = FLAG_TO_PARAM[flag];
    if (!p) throw new ConfigError(`unknown flag --${flag} for races\n${RACES_USAGE}`);
    params.set(p, value);
  }
  const trace = flags.trace?.toLowerCase();
  if (trace !== undefined) {
    for (const f of ['start', 'end', 'service', 'max-traces']) if (flags[f] !== undefined) throw new ConfigError(`--${f} applies to a time window, not to --trace`);
  }
  const qs = params.toString() ? `?${params}` : '';
  const url = trace !== undefined ? `${baseUrl(flags)}/api/v1/traces/${encodeURIComponent(trace)}/races${qs}` : `${baseUrl(flags)}/api/v1/races${qs}`;
  const { status, body } = await getJson<RacesAnswer>(url);
  if (status !== 200 || !Array.isArray(body.races)) {
    console.error(`ariadne: ${body.error ?? `server answered ${status}`}`);
    return 1;
  }
  if (flags.json) {
    console.log(JSON.stringify(body, null, 2));
    return 0;
  }
  for (const line of racesReport(body)) console.log(line);
  return 0;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function time(ns: string | undefined): string {
  if (ns === undefined) return '';
  try {
    return formatTimestamp(BigInt(ns));
  } catch {
    return ns;
  }
}

export function formatClock(clock: readonly [string, number][]): string {
  return clock.length ? `[${clock.map(([c, n]) => `${c}:${n}`).join(', ')}]` : '(none)';
}

function value(v: string | null): string {
  if (v === null) return '∅';
  return v.length > 60 ? `${v.slice(0, 59)}…` : v;
}

/** The human report: a header, then one block per race. */
export function racesReport(r: RacesAnswer): string[] {
  const out: string[] = [];
  const s = r.summary;
  const scope =
    r.traceId !== undefined
      ? `trace ${r.traceId}`
      : `${plural(r.tracesWithEvents ?? 0, 'trace')} with causal events (${r.tracesScanned ?? 0} read) from ${time(r.start)} to ${time(r.end)}${r.service ? `, service ${r.service}` : ''}`;
  out.push(`Races in ${scope}: ${plural(s.races, 'race')} (${s.critical} critical, ${s.warning} warning) on ${plural(s.variables, 'variable')}; ${plural(r.events, 'causal event')} analysed`);
  if (r.scanTruncated) out.push('  (scan cut short: older traces in the window were not read; narrow the window or raise --max-traces)');
  if (r.truncatedVariables.length) out.push(`  (race list cut at the limits for: ${r.truncatedVariables.slice(0, 10).join(', ')}${r.truncatedVariables.length > 10 ? ', …' : ''})`);
  if (!r.races.length) {
    out.push('', r.events ? 'No data races.' : 'No causal events (ariadne.state / ariadne.lock / ariadne.async, or Raceway events) to analyse.');
    return out;
  }
  // Critical first; otherwise the server's order (by variable, then processing order).
  const races = [...r.races].sort((x, y) => (x.severity === y.severity ? 0 : x.severity === 'critical' ? -1 : 1));
  races.forEach((race, i) => {
    const [a, b] = race.accesses;
    out.push('', `[${i + 1}] ${race.severity.toUpperCase()}  ${race.variable}  ${a.access}/${b.access}${a.traceId !== b.traceId ? '  (across traces)' : ''}`);
    for (const [label, x] of [['A', a], ['B', b]] as const) {
      const where = `${x.service}${x.instance ? ` (${x.instance})` : ''}`;
      out.push(`    ${label}  ${where}  thread ${x.threadId}  ${x.access}${x.location ? `  at ${x.location}` : ''}`);
      out.push(`       value ${value(x.oldValue)} → ${value(x.newValue)}   clock ${formatClock(x.clock)}`);
      out.push(`       trace ${x.traceId}  span ${x.spanId}${x.timeUnixNano ? `  ${time(x.timeUnixNano)}` : ''}${x.locks?.length ? `  locks ${x.locks.join(', ')}` : ''}`);
    }
  });
  return out;
}
