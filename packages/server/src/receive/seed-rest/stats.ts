// GET /stats, computed from the store on demand and bounded:
//
//   store.search(window, newest maxTraces) ──► trace counts, durations, slowest, per-service trace counts
//        └─ newest sampleTraces finished ──► getTrace ──► analyzeTrace ──► per-service self time
//   open spans (memory) ──────────────────────► activeTraces
//
// Concurrent requests share one computation.

import type { Span, TraceSummary } from '@ariadne/model';
import { analyzeTrace } from '@ariadne/model';
import type { TraceStore } from '../../store/types.js';
import { forEachLimited } from '../../store/scan.js';
import type { OpenSpans } from './open-spans.js';
import { nanosToMillis, unixNanosToMillis } from './convert.js';

export interface StatsOptions {
  /** only traces with a span that started in the last `windowNanos`; default: everything retained */
  windowNanos?: number;
  /** most traces read; the newest win. Default 10,000 (the store's search limit). */
  maxTraces: number;
  /** finished traces fully read for serviceStats.avgDuration. Default 100. */
  sampleTraces: number;
  /** how many slowest traces to list */
  slowest: number;
}

export interface SeedStatsJson {
  totalTraces: number;
  activeTraces: number;
  completedTraces: number;
  failedTraces: number;
  /** mean duration of the finished traces, ms */
  avgDuration: number;
  slowestTraces: { traceId: string; duration: number }[];
  /** count: traces the service took part in; avgDuration: its mean self time per trace, ms (null when not sampled) */
  serviceStats: Record<string, { count: number; avgDuration: number | null }>;
  /** what the numbers were computed over */
  window: { since: number | null; tracesRead: number; truncated: boolean; serviceSampleTraces: number };
}

export async function computeStats(
  store: TraceStore,
  open: OpenSpans,
  nowNanos: bigint,
  opts: StatsOptions,
): Promise<SeedStatsJson> {
  // Snapshot the open spans first: a trace finishing meanwhile then counts as active, never twice.
  const active = new Map<string, Set<string>>();
  for (const id of open.traceIds()) active.set(id, new Set(open.ofTrace(id).map((o) => o.span.service)));
  const since = opts.windowNanos !== undefined ? nowNanos - BigInt(Math.round(opts.windowNanos)) : undefined;
  const summaries = await store.search({ ...(since !== undefined ? { startUnixNano: since } : {}), limit: opts.maxTraces });

  let completed = 0;
  let failed = 0;
  let durationSum = 0;
  const finished: TraceSummary[] = [];
  const traceCount = new Map<string, number>();
  const countServices = (services: Iterable<string>) => {
    for (const s of services) traceCount.set(s, (traceCount.get(s) ?? 0) + 1);
  };
  for (const s of summaries) {
    const openServices = active.get(s.traceId);
    if (openServices) {
      // An active trace with finished spans too: count its services once, from both.
      countServices(new Set([...s.services, ...openServices]));
      active.delete(s.traceId);
      continue;
    }
    countServices(s.services);
    finished.push(s);
    if (s.errorCount > 0) failed++;
    else completed++;
    durationSum += s.durationNanos;
  }
  for (const services of active.values()) countServices(services);
  const activeTraces = summaries.length - finished.length + active.size;

  const slowestTraces = [...finished]
    .sort((a, b) => b.durationNanos - a.durationNanos || (a.traceId < b.traceId ? -1 : 1))
    .slice(0, opts.slowest)
    .map((s) => ({ traceId: s.traceId, duration: nanosToMillis(s.durationNanos) }));

  // Self time per service, averaged over the sampled traces it took part in.
  const sample = finished.slice(0, opts.sampleTraces);
  const selfSum = new Map<string, { sum: number; traces: number }>();
  await forEachLimited(sample, 8, async (s) => {
    const spans: Span[] = await store.getTrace(s.traceId);
    if (!spans.length) return;
    for (const [service, self] of Object.entries(analyzeTrace(spans).serviceBreakdown)) {
      const e = selfSum.get(service);
      if (e) (e.sum += self, e.traces++);
      else selfSum.set(service, { sum: self, traces: 1 });
    }
  });

  const serviceStats: SeedStatsJson['serviceStats'] = {};
  for (const service of [...traceCount.keys()].sort()) {
    const e = selfSum.get(service);
    serviceStats[service] = { count: traceCount.get(service)!, avgDuration: e ? nanosToMillis(Math.round(e.sum / e.traces)) : null };
  }
  return {
    totalTraces: completed + failed + activeTraces,
    activeTraces,
    completedTraces: completed,
    failedTraces: failed,
    avgDuration: finished.length ? nanosToMillis(Math.round(durationSum / finished.length)) : 0,
    slowestTraces,
    serviceStats,
    window: {
      since: since !== undefined ? unixNanosToMillis(since) : null,
      tracesRead: summaries.length,
      truncated: summaries.length >= opts.maxTraces,
      serviceSampleTraces: sample.length,
    },
  };
}
