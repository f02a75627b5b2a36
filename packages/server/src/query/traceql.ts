// TraceQL search over any TraceStore, through the contract alone:
//
//   traceQLPushdown(query) ──▶ TraceQuery alternatives (+ start/end)
//        └─▶ store.search(alternative, limit n) per alternative ──▶ candidate trace ids
//              └─▶ store.getTrace, a few at a time ──▶ evaluateTraceQL on the whole trace
//   not sure of the answer yet? n ×= overfetch and search again (new ids only), up to
//   the store's 10,000-trace search limit and `maxCandidates` traces evaluated.
//
// Which traces are chosen when more than `limit` match: those whose latest
// selected span started last, as TraceStore.search chooses by the latest
// matching span; then newest trace start first, like search. The store
// returns each alternative's top n by its latest matching span, so a trace it
// did not return has no span matching that alternative later than the lowest
// one it did return (the alternative's threshold). When every span the query
// selects matches some alternative (`covers`), a match whose latest selected
// span is at or after the highest threshold cannot be beaten by an unseen
// trace, and the scan stops once `limit` such matches are in. For `&&` and
// structural queries the other side's spans are not pushed down; there the
// scan stops at `limit` matches among the newest candidates.
//
// A store with a native TraceQL engine would evaluate in place instead of
// shipping whole candidate traces (1 + N round trips); see docs/traceql.md.

import type { Span, TraceQLQuery, TraceQuery, TraceSummary } from '@ariadne/model';
import { DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT, evaluateTraceQL, traceQLPushdown } from '@ariadne/model';
import { compareSummaries, normalizeQuery, spanMatches, type NormalizedQuery } from '../store/query.js';
import { forEachLimited } from '../store/scan.js';
import type { TraceStore } from '../store/types.js';

export interface TraceQLSearchOptions {
  /** inclusive bounds on the start of the spans the query may select, unix ns */
  startUnixNano?: bigint;
  endUnixNano?: bigint;
  /** most traces to return; default 20, at most 10,000 */
  limit?: number;
  /** most traces loaded and evaluated; default 10,000 */
  maxCandidates?: number;
  /** the first search asks for limit × overfetch candidates per alternative, and each widening multiplies by it; default 4 */
  overfetch?: number;
  /** getTrace calls in flight; default 8 */
  concurrency?: number;
}

export interface TraceQLSearchResult {
  traces: TraceSummary[];
  /** traces loaded and evaluated */
  candidates: number;
  /** a bound (maxCandidates, or the store's 10,000-trace search limit) stopped the scan before the answer was sure */
  truncated: boolean;
}

interface Alternative {
  query: TraceQuery;
  normalized: NormalizedQuery;
  /** the store returned everything matching it */
  exhausted: boolean;
  /** ids it returned last time */
  ids: string[];
}

interface Candidate {
  summary: TraceSummary;
  /** start of the latest selected span, when the trace matches */
  key?: bigint;
  /** per alternative: start of the latest span matching it */
  latest: (bigint | undefined)[];
}

export async function searchTraceQL(store: TraceStore, query: TraceQLQuery, opts: TraceQLSearchOptions = {}): Promise<TraceQLSearchResult> {
  const limit = opts.limit !== undefined && Number.isFinite(opts.limit) && opts.limit >= 1 ? Math.min(Math.floor(opts.limit), MAX_SEARCH_LIMIT) : DEFAULT_SEARCH_LIMIT;
  const maxCandidates = Math.max(1, opts.maxCandidates ?? MAX_SEARCH_LIMIT);
  const overfetch = Math.max(2, opts.overfetch ?? 4);
  const window: TraceQuery = {};
  if (opts.startUnixNano !== undefined) window.startUnixNano = opts.startUnixNano;
  if (opts.endUnixNano !== undefined) window.endUnixNano = opts.endUnixNano;

  const plan = traceQLPushdown(query);
  const alts: Alternative[] = plan.alternatives.map((a) => {
    const q = { ...a, ...window };
    return { query: q, normalized: normalizeQuery(q), exhausted: false, ids: [] };
  });
  const seen = new Map<string, Candidate>();
  let truncated = false;
  let n = Math.min(MAX_SEARCH_LIMIT, limit * overfetch);

  while (alts.length) {
    const open = alts.filter((a) => !a.exhausted);
    const results = await Promise.all(open.map((a) => store.search({ ...a.query, limit: n })));
    const fresh = new Map<string, TraceSummary>();
    open.forEach((a, k) => {
      const found = results[k]!;
      a.exhausted = found.length < n;
      a.ids = found.map((s) => s.traceId);
      for (const s of found) if (!seen.has(s.traceId)) fresh.set(s.traceId, s);
    });
    let toLoad = [...fresh.values()];
    if (seen.size + toLoad.length > maxCandidates) {
      toLoad = toLoad.slice(0, maxCandidates - seen.size);
      truncated = true;
    }
    await forEachLimited(toLoad, opts.concurrency ?? 8, async (summary) => {
      const spans = await store.getTrace(summary.traceId);
      seen.set(summary.traceId, evaluate(query, spans, summary, alts, opts));
    });

    if (truncated || alts.every((a) => a.exhausted)) break;
    if (enough(plan.covers, alts, seen, limit)) break;
    if (n >= MAX_SEARCH_LIMIT) {
      truncated = true;
      break;
    }
    n = Math.min(MAX_SEARCH_LIMIT, n * overfetch);
  }

  const matches = [...seen.values()].filter((c) => c.key !== undefined);
  matches.sort((a, b) => (a.key! !== b.key! ? (a.key! > b.key! ? -1 : 1) : a.summary.traceId < b.summary.traceId ? -1 : 1));
  return { traces: matches.slice(0, limit).map((c) => c.summary).sort(compareSummaries), candidates: seen.size, truncated };
}

function evaluate(query: TraceQLQuery, spans: Span[], summary: TraceSummary, alts: Alternative[], window: TraceQLSearchOptions): Candidate {
  const latest = (pick: (s: Span) => boolean) => {
    let t: bigint | undefined;
    for (const s of spans) if (pick(s) && (t === undefined || s.startTimeUnixNano > t)) t = s.startTimeUnixNano;
    return t;
  };
  const selected = new Set(evaluateTraceQL(query, spans, window));
  const c: Candidate = { summary, latest: alts.map((a) => latest((s) => spanMatches(s, a.normalized))) };
  if (selected.size) c.key = latest((s) => selected.has(s));
  return c;
}

/** Whether the matches found so far are sure to hold the answer (see the header). */
function enough(covers: boolean, alts: Alternative[], seen: Map<string, Candidate>, limit: number): boolean {
  let matched = 0;
  for (const c of seen.values()) if (c.key !== undefined) matched++;
  if (matched < limit) return false;
  if (!covers) return true;
  // No unseen trace has a selected span later than the highest threshold.
  let bound: bigint | undefined;
  alts.forEach((a, k) => {
    if (a.exhausted) return;
    let threshold: bigint | undefined;
    for (const id of a.ids) {
      const t = seen.get(id)?.latest[k];
      if (t !== undefined && (threshold === undefined || t < threshold)) threshold = t;
    }
    if (threshold !== undefined && (bound === undefined || threshold > bound)) bound = threshold;
  });
  let sure = 0;
  for (const c of seen.values()) if (c.key !== undefined && (bound === undefined || c.key >= bound)) sure++;
  return sure >= limit;
}
