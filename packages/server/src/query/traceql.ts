// TraceQL search over any TraceStore, through the contract alone:
//
//   traceQLPushdown(query) ──▶ TraceQuery alternatives (+ start/end)
//     └─▶ store.search(alternative, limit n) each ──▶ candidate summaries
//           └─▶ store.getTrace, a batch at a time, latest-ending first ──▶ evaluateTraceQL on the whole trace
//   stop as soon as the answer is sure; if the candidates run out first,
//   n ×= overfetch and search again (new ids only), up to the store's
//   10,000-trace search limit and `maxCandidates` traces read.
//
// Which traces are chosen when more than `limit` match: those whose latest
// selected span started last (as TraceStore.search chooses by the latest
// matching span), returned newest trace start first, like search. The answer
// is sure once `limit` matches have their latest selected span at or after
// a bound B that no trace left unread can beat:
//   - a candidate not read yet: its spans all start by its summary's end
//     (start + duration), and candidates are read latest-ending first;
//   - a trace the store did not return for alternative a: the store returns
//     a's top n by latest matching span, so that trace has no span matching a
//     later than the lowest such span among a's returns. When every span the
//     query selects matches some alternative (`covers`), that bounds its
//     latest selected span too. Without `covers` (the side of `&&` or of a
//     structural operator that was not pushed down) nothing bounds it, and the
//     scan stops at `limit` matches among the latest-ending candidates.
//
// A store with a native TraceQL engine would evaluate in place instead of
// shipping whole candidate traces (1 + N round trips); see docs/traceql.md.

import type { Span, TraceQLQuery, TraceQuery, TraceSummary } from '@ariadne/model';
import { DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT, evaluateTraceQL, traceQLPushdown } from '@ariadne/model';
import { compareSummaries, normalizeQuery, spanMatches, type NormalizedQuery } from '../store/query.js';
import type { TraceStore } from '../store/types.js';

export interface TraceQLSearchOptions {
  /** inclusive bounds on the start of the spans the query may select, unix ns */
  startUnixNano?: bigint;
  endUnixNano?: bigint;
  /** most traces to return; default 20, at most 10,000 */
  limit?: number;
  /** most traces read and evaluated; default 10,000 */
  maxCandidates?: number;
  /** the first search asks each alternative for limit × overfetch traces, and each widening multiplies by it; default 4 */
  overfetch?: number;
  /** getTrace calls in flight; default 8 */
  concurrency?: number;
}

export interface TraceQLSearchResult {
  traces: TraceSummary[];
  /** traces read and evaluated */
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
  /** no span of the trace starts after this: start + duration */
  end: bigint;
  /** read and evaluated */
  read: boolean;
  /** start of the latest selected span, when the trace matches */
  key?: bigint;
  /** per alternative: start of the latest span matching it */
  latest: (bigint | undefined)[];
}

export async function searchTraceQL(store: TraceStore, query: TraceQLQuery, opts: TraceQLSearchOptions = {}): Promise<TraceQLSearchResult> {
  const limit = opts.limit !== undefined && Number.isFinite(opts.limit) && opts.limit >= 1 ? Math.min(Math.floor(opts.limit), MAX_SEARCH_LIMIT) : DEFAULT_SEARCH_LIMIT;
  const maxCandidates = Math.max(1, opts.maxCandidates ?? MAX_SEARCH_LIMIT);
  const overfetch = Math.max(2, opts.overfetch ?? 4);
  const concurrency = Math.max(1, opts.concurrency ?? 8);
  const window: TraceQuery = {};
  if (opts.startUnixNano !== undefined) window.startUnixNano = opts.startUnixNano;
  if (opts.endUnixNano !== undefined) window.endUnixNano = opts.endUnixNano;

  const plan = traceQLPushdown(query);
  const alts: Alternative[] = plan.alternatives.map((a) => {
    const q = { ...a, ...window };
    return { query: q, normalized: normalizeQuery(q), exhausted: false, ids: [] };
  });
  const seen = new Map<string, Candidate>();
  const matches: Candidate[] = [];
  let reads = 0;
  let truncated = false;
  let n = Math.min(MAX_SEARCH_LIMIT, limit * overfetch);

  search: while (alts.length) {
    const open = alts.filter((a) => !a.exhausted);
    const results = await Promise.all(open.map((a) => store.search({ ...a.query, limit: n })));
    open.forEach((a, k) => {
      const found = results[k]!;
      a.exhausted = found.length < n;
      a.ids = found.map((s) => s.traceId);
      for (const s of found) if (!seen.has(s.traceId)) seen.set(s.traceId, { summary: s, end: s.startTimeUnixNano + BigInt(s.durationNanos), read: false, latest: [] });
    });
    const pending = [...seen.values()].filter((c) => !c.read).sort((a, b) => (a.end > b.end ? -1 : a.end < b.end ? 1 : 0));
    for (let i = 0; i < pending.length; i += concurrency) {
      if (reads >= maxCandidates) {
        truncated = true;
        break search;
      }
      const batch = pending.slice(i, i + Math.min(concurrency, maxCandidates - reads));
      reads += batch.length;
      await Promise.all(
        batch.map(async (c) => {
          read(c, query, await store.getTrace(c.summary.traceId), alts, opts);
          if (c.key !== undefined) matches.push(c);
        }),
      );
      if (sure(plan.covers, alts, seen, matches, pending[i + batch.length], limit)) break search;
    }
    if (alts.every((a) => a.exhausted)) break;
    if (n >= MAX_SEARCH_LIMIT) {
      truncated = true;
      break;
    }
    n = Math.min(MAX_SEARCH_LIMIT, n * overfetch);
  }

  matches.sort((a, b) => (a.key! !== b.key! ? (a.key! > b.key! ? -1 : 1) : a.summary.traceId < b.summary.traceId ? -1 : 1));
  return { traces: matches.slice(0, limit).map((c) => c.summary).sort(compareSummaries), candidates: reads, truncated };
}

function read(c: Candidate, query: TraceQLQuery, spans: Span[], alts: Alternative[], window: TraceQLSearchOptions): void {
  const latest = (pick: (s: Span) => boolean) => {
    let t: bigint | undefined;
    for (const s of spans) if (pick(s) && (t === undefined || s.startTimeUnixNano > t)) t = s.startTimeUnixNano;
    return t;
  };
  const selected = new Set(evaluateTraceQL(query, spans, window));
  c.read = true;
  c.latest = alts.map((a) => latest((s) => spanMatches(s, a.normalized)));
  if (selected.size) c.key = latest((s) => selected.has(s));
}

/** Whether no trace left unread can displace the best `limit` matches (see the header). */
function sure(covers: boolean, alts: Alternative[], seen: Map<string, Candidate>, matches: Candidate[], nextUnread: Candidate | undefined, limit: number): boolean {
  if (matches.length < limit) return false;
  if (!covers) return true;
  const max = (a: bigint | undefined, b: bigint | undefined) => (a === undefined ? b : b === undefined || a > b ? a : b);
  const min = (a: bigint | undefined, b: bigint | undefined) => (a === undefined ? b : b === undefined || a < b ? a : b);
  // Unread candidates are taken latest-ending first.
  let bound = nextUnread?.end;
  alts.forEach((a, k) => {
    if (a.exhausted) return;
    // at least the lowest latest matching span among a's returns (an unknown one is below its trace's end)
    let threshold: bigint | undefined;
    for (const id of a.ids) {
      const c = seen.get(id)!;
      threshold = min(threshold, c.read ? c.latest[k] : c.end);
    }
    bound = max(bound, threshold);
  });
  let count = 0;
  for (const m of matches) if (bound === undefined || m.key! >= bound) count++;
  return count >= limit;
}
