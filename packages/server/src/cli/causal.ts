// `ariadne causal <traceId> [--json]`: seed 000's full-chain analysis of one
// trace (what its full-chain.sh prints), from GET /api/v1/traces/:id/causal:
// services present, events by service, by type and by type per service,
// async spawn/await pairs with status and duration, decorator-tracked
// functions, a timeline of the first events, then races, locks and the
// highlight totals.

import { formatDuration, formatTimestamp } from '@ariadne/model';
import { ConfigError, parseArgs } from '../config/config.js';
import { baseUrl, getJson } from './client.js';

export const CAUSAL_USAGE = 'usage: ariadne causal <traceId> [--timeline 30] [--json] [--url http://localhost:3000]';

interface AsyncEndJson {
  threadId: string;
  spanId: string;
  timeUnixNano: string;
}

export interface CausalAnswer {
  traceId: string;
  spanCount: number;
  services: string[];
  summary: { events: number; services: number; threads: number; variables: number; racyVariables: number; races: number; criticalRaces: number; warningRaces: number };
  totalEvents: number;
  eventTypes: Record<string, number>;
  eventsByService: { service: string; total: number; types: Record<string, number> }[];
  asyncPairs: {
    taskId: string;
    service: string;
    instance: string | null;
    spawn: AsyncEndJson | null;
    await: AsyncEndJson | null;
    durationNanos: number | null;
    outcome: 'completed' | 'pending' | 'await_without_spawn';
    status: string | null;
    reportedDurationMs: number | null;
  }[];
  decorated: { total: number; services: { service: string; calls: number; functions: string[] }[] };
  timeline: { timeUnixNano: string; service: string; type: string; detail: string; spanId: string; threadId: string | null }[];
  auditTrails: { variable: string; accessCount: number; racyCount: number }[];
  locks: { lockId: string; acquisitions: number; holds: number; threads: number; maxHoldNanos: number; meanHoldNanos: number; waiters: number; maxWaitNanos: number; unreleased: number }[];
  races: { races: number; critical: number; warning: number; variables: number; truncated: boolean; byVariable: { variable: string; races: number; critical: number; warning: number; services: string[] }[] };
  highlights: { functionCalls: number; asyncSpawned: number; asyncCompleted: number; stateChanges: number; variableAccesses: number; locksAcquired: number; decoratedCalls: number; races: number; criticalRaces: number };
  error?: string;
}

export async function causalCommand(argv: string[]): Promise<number> {
  const { flags, positional } = parseArgs(argv, ['json']);
  const id = positional[0];
  if (!id || positional.length > 1) {
    console.error(CAUSAL_USAGE);
    return 2;
  }
  for (const f of Object.keys(flags)) if (!['json', 'url', 'timeline'].includes(f)) throw new ConfigError(`unknown flag --${f} for causal\n${CAUSAL_USAGE}`);
  const qs = flags.timeline !== undefined ? `?timeline=${encodeURIComponent(flags.timeline)}` : '';
  const { status, body } = await getJson<CausalAnswer>(`${baseUrl(flags)}/api/v1/traces/${encodeURIComponent(id.toLowerCase())}/causal${qs}`);
  if (status !== 200 || !body.eventTypes) {
    console.error(`ariadne: ${body.error ?? `server answered ${status}`}`);
    return 1;
  }
  if (flags.json) {
    console.log(JSON.stringify(body, null, 2));
    return 0;
  }
  for (const line of causalReport(body)) console.log(line);
  return 0;
}

// full-chain.sh's icons
const ICONS: Record<string, string> = {
  FunctionCall: '🔵',
  StateChange: '🟢',
  VariableAccess: '🟡',
  AsyncSpawn: '🟣',
  AsyncAwait: '🟠',
  LockAcquire: '🔴',
  LockRelease: '⚪',
};
const icon = (type: string) => ICONS[type] ?? '⚫';
const RULE = '='.repeat(80);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function shortTime(ns: string): string {
  try {
    return formatTimestamp(BigInt(ns)).slice(0, 23);
  } catch {
    return ns;
  }
}

/** The full-chain text of one trace's causal report. */
export function causalReport(r: CausalAnswer): string[] {
  const out: string[] = [];
  out.push('📊 DISTRIBUTED TRACE CAUSAL ANALYSIS', RULE, `Trace ID: ${r.traceId}`, `Total Events: ${r.totalEvents}  (${plural(r.spanCount, 'span')}, ${plural(r.summary.events, 'causal event')}, ${plural(r.summary.threads, 'thread')})`, '');

  out.push('Events by Service:');
  for (const s of r.eventsByService) out.push(`  • ${s.service}: ${plural(s.total, 'event')}`);
  for (const svc of r.services) if (!r.eventsByService.some((s) => s.service === svc)) out.push(`  • ${svc}: 0 events`);
  out.push('');

  out.push('Events by Type:');
  for (const [type, n] of Object.entries(r.eventTypes)) out.push(`  ${icon(type)} ${type}: ${n}`);
  if (!Object.keys(r.eventTypes).length) out.push('  (none)');
  out.push('');

  out.push('Events by Type per Service:', '-'.repeat(80));
  for (const s of r.eventsByService) {
    out.push(`  ${s.service}:`);
    for (const [type, n] of Object.entries(s.types)) out.push(`    ${icon(type)} ${type}: ${n}`);
  }
  out.push('');

  if (r.asyncPairs.length) {
    out.push('Async Operations Summary:', `  ${icon('AsyncSpawn')} AsyncSpawn events: ${r.highlights.asyncSpawned}`, `  ${icon('AsyncAwait')} AsyncAwait events: ${r.highlights.asyncCompleted}`, '', '  Async Operation Pairs:');
    for (const p of r.asyncPairs) {
      const parts: string[] = [];
      if (p.status !== null) parts.push(`status=${p.status}`);
      if (p.durationNanos !== null) parts.push(formatDuration(p.durationNanos));
      if (p.reportedDurationMs !== null) parts.push(`reported ${p.reportedDurationMs}ms`);
      const outcome = p.outcome === 'await_without_spawn' ? 'awaited (no spawn seen)' : p.outcome;
      out.push(`    [${p.service}] ${p.taskId} → ${outcome}${parts.length ? ` (${parts.join(', ')})` : ''}`);
    }
    out.push('');
  }

  if (r.decorated.total) {
    out.push('Decorator-Tracked Functions:', `  Total: ${r.decorated.total}`);
    for (const s of r.decorated.services) {
      out.push(`  [${s.service}]: ${s.functions.length} unique functions tracked`);
      for (const fn of s.functions.slice(0, 5)) out.push(`    • ${fn}`);
      if (s.functions.length > 5) out.push(`    ... and ${s.functions.length - 5} more`);
    }
    out.push('');
  }

  out.push(`Event Timeline (first ${r.timeline.length} events):`, '-'.repeat(80));
  r.timeline.forEach((e, i) => {
    out.push(`${String(i + 1).padStart(2)}. ${shortTime(e.timeUnixNano)} ${icon(e.type)} [${e.service.padEnd(18)}] ${e.type.padEnd(15)} ${e.detail.slice(0, 50)}`);
  });
  if (r.totalEvents > r.timeline.length) out.push(`... and ${r.totalEvents - r.timeline.length} more events`);
  out.push(RULE, '');

  out.push('Data Races:');
  if (!r.races.races) out.push(r.summary.variables ? `  none among ${plural(r.summary.variables, 'shared variable')}` : '  no variable accesses tracked');
  else {
    out.push(`  ${plural(r.races.races, 'race')} (${r.races.critical} critical, ${r.races.warning} warning) on ${plural(r.races.variables, 'variable')}${r.races.truncated ? ' (list capped)' : ''}`);
    for (const v of r.races.byVariable) out.push(`    ⚠️  ${v.variable}: ${plural(v.races, 'race')} (${v.critical} critical) — ${v.services.join(', ')}`);
    out.push(`  both accesses of each: ariadne races --trace ${r.traceId}`);
  }
  if (r.locks.length) {
    out.push('', 'Locks:');
    for (const l of r.locks) {
      out.push(
        `  ${l.lockId}: ${plural(l.holds, 'hold')} by ${plural(l.threads, 'thread')}, mean ${formatDuration(l.meanHoldNanos)}, max ${formatDuration(l.maxHoldNanos)}; ${plural(l.waiters, 'waiter')}${l.waiters ? ` (longest wait ${formatDuration(l.maxWaitNanos)})` : ''}${l.unreleased ? `; ${l.unreleased} never released` : ''}`,
      );
    }
  }
  out.push('');

  out.push(`✅ ${plural(r.services.length, 'service')} present in the trace: ${r.services.join(', ')}`, '');
  const h = r.highlights;
  out.push(
    '📈 Tracking Highlights:',
    `  • ${h.functionCalls} function calls tracked`,
    `  • ${h.asyncSpawned} async operations spawned`,
    `  • ${h.asyncCompleted} async operations completed`,
    `  • ${h.stateChanges} state changes tracked`,
    `  • ${h.variableAccesses} variable accesses tracked`,
    `  • ${h.decoratedCalls} decorator-tracked function calls`,
  );
  if (h.locksAcquired) out.push(`  • ${h.locksAcquired} lock acquisitions tracked`);
  out.push(`  • ${h.races} data races detected (${h.criticalRaces} critical)`);
  return out;
}
