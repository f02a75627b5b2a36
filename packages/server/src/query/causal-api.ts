// The causal API under /api/v1 (documented in ./causal-openapi.ts): data races
// and the causal report, over the `ariadne.*` span events of one trace or of
// every trace in a time window. The algorithms are the model's
// (packages/model/src/causal, docs/design/races.md); this file fetches spans,
// bounds the work and shapes JSON (unix-ns times as decimal text).
//
//   /traces/:id/races ── getTrace ──► extractCausalEvents ──► buildCausalOrder ──► detectRaces
//   /races ───────────── scanTraces (bounded) ──► causal events of all traces ──► (same)
//   /traces/:id/causal ─ getTrace ──► buildCausalReport + detectRaces + traceActivity

import type { Context } from 'hono';
import { Hono } from 'hono';
import { z } from 'zod';
import type { CausalEvent, Race, RaceReport, Span, SpanInfo } from '@ariadne/model';
import {
  ASYNC_EVENT,
  CausalAttr,
  DEFAULT_MAX_RACES,
  LOCK_EVENT,
  MAX_SEARCH_LIMIT,
  STATE_EVENT,
  buildCausalOrder,
  buildCausalReport,
  detectRaces,
  extractCausalEvents,
  isValidTraceId,
  parseTimestamp,
  raceReportToJson,
  spanTopology,
} from '@ariadne/model';
import type { TraceStore } from '../store/types.js';
import { scanTraces } from '../store/scan.js';
import { checkParams, type Checked } from './analysis-params.js';
import { asyncReports, traceActivity } from './causal-activity.js';

export interface CausalApiOptions {
  /** time range when neither start nor end is given, ending now; default 1 hour */
  defaultWindowNanos?: number;
  /** traces read by /races unless maxTraces says otherwise; default 500 */
  defaultMaxTraces?: number;
  /** /races stops reading traces once it has read this many spans; default 1,000,000 */
  maxSpans?: number;
  /** /races stops collecting once it holds this many causal events; default 1,000,000 */
  maxEvents?: number;
  /** unix ns; injectable for tests */
  now?: () => bigint;
}

const HOUR = 3_600_000_000_000;

// ---- parameters ----

const MAX_VALUE = 4096;
const text = z.string().min(1, { error: 'must not be empty' }).max(MAX_VALUE, { error: `must be at most ${MAX_VALUE} characters` });
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, { error: `must be an integer from ${min} to ${max}` })
    .transform(Number)
    .pipe(z.number().min(min, { error: `must be an integer from ${min} to ${max}` }).max(max, { error: `must be an integer from ${min} to ${max}` }));
const timestamp = z.string().transform((s, ctx): bigint => {
  const t = parseTimestamp(s);
  if (t === undefined) {
    ctx.addIssue({ code: 'custom', message: `must be RFC 3339 (2024-01-02T03:04:05Z) or unix nanoseconds, not '${s.slice(0, 50)}'` });
    return z.NEVER;
  }
  return t;
});

const raceLimits = {
  limit: int(1, DEFAULT_MAX_RACES).default(1000),
  maxPerVariable: int(1, DEFAULT_MAX_RACES).default(100),
};
export const traceRacesParams = z.strictObject({ ...raceLimits });
export const windowRacesParams = z.strictObject({
  ...raceLimits,
  start: timestamp.optional(),
  end: timestamp.optional(),
  service: text.optional(),
  maxTraces: int(1, MAX_SEARCH_LIMIT).optional(),
});
export const causalParams = z.strictObject({
  timeline: int(0, 10_000).default(30),
  maxAccessesPerVariable: int(1, 100_000).default(1000),
  variable: text.optional(),
});

// ---- helpers ----

const CAUSAL_EVENTS = new Set([STATE_EVENT, LOCK_EVENT, ASYNC_EVENT]);

/** The spans with causal events, holding only what extractCausalEvents reads. */
function causalOnly(spans: readonly Span[]): { spans: Span[]; events: number } {
  const out: Span[] = [];
  let events = 0;
  for (const s of spans) {
    let n = 0;
    for (const e of s.events) if (CAUSAL_EVENTS.has(e.name)) n++;
    if (n === 0) continue;
    events += n;
    out.push({
      ...s,
      attributes: s.attributes.filter((kv) => kv.key === CausalAttr.threadId),
      events: n === s.events.length ? s.events : s.events.filter((e) => CAUSAL_EVENTS.has(e.name)),
      links: [],
    });
  }
  return { spans: out, events };
}

function raceSummary(races: readonly Race[]): { races: number; critical: number; warning: number; variables: number } {
  let critical = 0;
  for (const r of races) if (r.severity === 'critical') critical++;
  return { races: races.length, critical, warning: races.length - critical, variables: new Set(races.map((r) => r.variable)).size };
}

/** Races of one variable, for the /causal summary. */
function racesByVariable(races: readonly Race[]): { variable: string; races: number; critical: number; warning: number; services: string[] }[] {
  const m = new Map<string, { races: number; critical: number; services: Set<string> }>();
  for (const r of races) {
    let v = m.get(r.variable);
    if (!v) m.set(r.variable, (v = { races: 0, critical: 0, services: new Set() }));
    v.races++;
    if (r.severity === 'critical') v.critical++;
    for (const a of r.accesses) v.services.add(a.service);
  }
  return [...m].map(([variable, v]) => ({ variable, races: v.races, critical: v.critical, warning: v.races - v.critical, services: [...v.services].sort() }));
}

/** bigint → decimal text, for c.json. */
function jsonSafe<T>(v: T): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)));
}

// ---- the API ----

export function causalApi(store: TraceStore, opts: CausalApiOptions = {}): Hono {
  const defaultWindow = BigInt(opts.defaultWindowNanos ?? HOUR);
  const defaultMaxTraces = opts.defaultMaxTraces ?? 500;
  const maxSpans = opts.maxSpans ?? 1_000_000;
  const maxEvents = opts.maxEvents ?? 1_000_000;
  const now = opts.now ?? (() => BigInt(Date.now()) * 1_000_000n);
  const api = new Hono();

  const params = <T>(c: Context, checked: Checked<T>): T | Response =>
    checked.ok ? checked.value : c.json({ error: checked.message, param: checked.param }, 400);
  const search = (c: Context) => new URL(c.req.url).searchParams;

  /** The trace's spans, or the 400/404 answer. */
  const traceOf = async (c: Context): Promise<{ traceId: string; spans: Span[] } | Response> => {
    const traceId = c.req.param('traceId')!.toLowerCase();
    if (!isValidTraceId(traceId)) return c.json({ error: `parameter 'traceId' must be 32 hex characters, not all zero`, param: 'traceId' }, 400);
    const spans = await store.getTrace(traceId);
    if (!spans.length) return c.json({ error: `trace ${traceId} not found` }, 404);
    return { traceId, spans };
  };

  api.get('/traces/:traceId/races', async (c) => {
    const p = params(c, checkParams(traceRacesParams, search(c)));
    if (p instanceof Response) return p;
    const t = await traceOf(c);
    if (t instanceof Response) return t;
    const events = extractCausalEvents(t.spans);
    const order = buildCausalOrder(events, { topology: spanTopology(t.spans) });
    const report = detectRaces(events, { order, maxRaces: p.limit, maxRacesPerVariable: p.maxPerVariable });
    return c.json({ traceId: t.traceId, events: events.length, summary: raceSummary(report.races), ...(raceReportToJson(report) as object) });
  });

  api.get('/races', async (c) => {
    const p = params(c, checkParams(windowRacesParams, search(c)));
    if (p instanceof Response) return p;
    const end = p.end ?? now();
    const start = p.start ?? (end > defaultWindow ? end - defaultWindow : 0n);
    if (start >= end) return c.json({ error: `parameter 'start' must be before end`, param: 'start' }, 400);

    // Whole traces with a span starting in the window; only their causal spans are kept.
    const traces: { start: bigint; traceId: string; spans: Span[] }[] = [];
    const topology = new Map<string, SpanInfo>();
    let held = 0;
    let eventsCut = false;
    const scan = await scanTraces(store, { startUnixNano: start, endUnixNano: end, maxTraces: p.maxTraces ?? defaultMaxTraces, maxSpans }, (spans, summary) => {
      if (eventsCut) return;
      const light = causalOnly(spans);
      if (!light.spans.length) return;
      if (held + light.events > maxEvents) {
        eventsCut = true;
        return;
      }
      held += light.events;
      traces.push({ start: summary.startTimeUnixNano, traceId: summary.traceId, spans: light.spans });
      for (const [k, v] of spanTopology(spans)) topology.set(k, v);
    });
    // Visits interleave: put the traces in a fixed order so answers are repeatable.
    traces.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.traceId < b.traceId ? -1 : 1));
    let events: CausalEvent[] = extractCausalEvents(traces.flatMap((t) => t.spans));

    let report: RaceReport;
    if (p.service === undefined) {
      const order = buildCausalOrder(events, { topology });
      report = detectRaces(events, { order, maxRaces: p.limit, maxRacesPerVariable: p.maxPerVariable });
    } else {
      // Races with an access in the service: every access to the variables it touches
      // counts (the other side may be anywhere), then the pairs are filtered.
      const service = p.service;
      const touched = new Set(events.filter((e) => e.service === service && e.variable !== undefined).map((e) => e.variable!));
      events = events.filter((e) => e.kind !== 'state' || touched.has(e.variable!));
      const order = buildCausalOrder(events, { topology });
      const all = detectRaces(events, { order, maxRaces: DEFAULT_MAX_RACES, maxRacesPerVariable: p.maxPerVariable });
      const mine = all.races.filter((r) => r.accesses.some((a) => a.service === service));
      report = {
        races: mine.slice(0, p.limit),
        truncated: all.truncated || mine.length > p.limit,
        truncatedVariables: [...new Set([...all.truncatedVariables.filter((v) => touched.has(v)), ...mine.slice(p.limit).map((r) => r.variable)])],
      };
    }
    const scanTruncated = scan.truncated || eventsCut;
    const json = raceReportToJson(report) as { races: unknown[]; truncated: boolean; truncatedVariables: string[] };
    return c.json({
      start: start.toString(),
      end: end.toString(),
      ...(p.service !== undefined ? { service: p.service } : {}),
      tracesScanned: scan.traces,
      tracesWithEvents: traces.length,
      events: events.length,
      summary: raceSummary(report.races),
      races: json.races,
      truncated: scanTruncated || report.truncated,
      scanTruncated,
      truncatedVariables: json.truncatedVariables,
    });
  });

  api.get('/traces/:traceId/causal', async (c) => {
    const p = params(c, checkParams(causalParams, search(c)));
    if (p instanceof Response) return p;
    const t = await traceOf(c);
    if (t instanceof Response) return t;
    const events = extractCausalEvents(t.spans);
    const order = buildCausalOrder(events, { topology: spanTopology(t.spans) });
    const report = buildCausalReport(events, { order, maxAccessesPerVariable: p.maxAccessesPerVariable, ...(p.variable !== undefined ? { variables: [p.variable] } : {}) });
    const races = detectRaces(events, { order });
    const activity = traceActivity(t.spans, { timeline: p.timeline });
    const reports = asyncReports(t.spans, report.asyncPairs);
    return c.json(
      jsonSafe({
        traceId: t.traceId,
        spanCount: t.spans.length,
        services: activity.services,
        summary: { ...report.summary, ...prefixed(raceSummary(races.races)) },
        totalEvents: activity.totalEvents,
        eventTypes: activity.eventTypes,
        eventsByService: activity.eventsByService,
        breakdown: report.breakdown,
        asyncPairs: report.asyncPairs.map((pair, i) => ({ ...pair, ...reports[i]! })),
        decorated: activity.decorated,
        timeline: activity.timeline,
        auditTrails: report.auditTrails,
        locks: report.locks,
        races: { ...raceSummary(races.races), truncated: races.truncated, byVariable: racesByVariable(races.races) },
        highlights: { ...activity.highlights, races: races.races.length, criticalRaces: raceSummary(races.races).critical },
      }) as object,
    );
  });

  return api;
}

function prefixed(s: { races: number; critical: number; warning: number }): { races: number; criticalRaces: number; warningRaces: number } {
  return { races: s.races, criticalRaces: s.critical, warningRaces: s.warning };
}
