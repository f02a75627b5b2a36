// searchTraceQL against brute force: every trace of a block store evaluated
// whole, the newest `limit` by latest selected span. The pushdown may only
// narrow what is read, never what is found.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TraceStore } from '../store/types.js';
import type { Span, TraceQuery, TraceSummary } from '@ariadne/model';
import { evaluateTraceQL, parseTraceQL, traceQLPushdown } from '@ariadne/model';
import { BlockStore } from '../store/blocks/index.js';
import { compareSummaries } from '../store/query.js';
import { prng } from '../bench/dataset.js';
import { attrs, makeResource, makeSpan, randomSpanId, randomTraceId, SECOND, MS } from '../testing/fixtures.js';
import { searchTraceQL, type TraceQLSearchOptions } from './traceql.js';

const T0 = 1_700_000_000_000_000_000n;

/** 400 traces of 1–6 spans over few values, spans spread over 7 s (traces overlap), no two starting at the same nanosecond. */
function dataset(): Span[] {
  const rand = prng(42);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const resources = ['a', 'b', 'c'].map((s) => makeResource(s, { region: pick(['eu', 'us']) }));
  const spans: Span[] = [];
  let counter = 0n;
  for (let t = 0; t < 400; t++) {
    const traceId = randomTraceId();
    const trace: Span[] = [];
    const n = 1 + Math.floor(rand() * 6);
    for (let i = 0; i < n; i++) {
      const resource = pick(resources);
      const start = T0 + BigInt(Math.floor(rand() * 7000)) * MS + counter++;
      const parent = i === 0 ? undefined : pick(trace);
      trace.push(
        makeSpan({
          traceId,
          spanId: randomSpanId(),
          parentSpanId: parent?.spanId ?? '',
          resource,
          name: pick(['x', 'y', 'z']),
          kind: pick([1, 2, 3]) as Span['kind'],
          startTimeUnixNano: start,
          endTimeUnixNano: start + BigInt(pick([0, 1, 5, 10, 50, 100])) * MS,
          status: { code: pick([0, 0, 0, 1, 2]) as 0, message: '' },
          attributes: attrs(
            Object.fromEntries(
              [
                ['k', pick(['a', 'b', 'a b'])],
                ['code', pick([200, 200, 500])],
                ['ratio', pick([0.5, 1.5])],
                ['flag', rand() < 0.5],
              ].filter(() => rand() < 0.6),
            ),
          ),
        }),
      );
    }
    spans.push(...trace);
  }
  return spans;
}

const QUERIES = [
  '{ }',
  '{ resource.service.name = "a" }',
  '{ resource.service.name = "a" && name = "x" && span.code = 500 }',
  '{ .k = "a b" && duration >= 10ms }',
  '{ status = error && span.flag = true }',
  '{ kind = client && .ratio > 1 }', // nothing pushable but the window
  '{ name = "x" || name = "y" && status = ok }',
  '{ .code = 500 || .k = "b" }',
  '{ duration > 50ms }',
  '{ duration < 5ms && resource.region = "eu" }',
  '{ name =~ "x|z" && !(status = error) }',
  '{ .k != "a" }',
  '{ .nope = nil && resource.service.name = "c" }',
  '{ rootServiceName = "b" && status = error }',
  '{ traceDuration > 20ms }',
  '{ resource.service.name = "a" } && { status = error }',
  '{ span.code = 500 } && { .k = "b" && kind = server }',
  '{ name = "x" } > { name = "y" }',
  '{ resource.service.name = "b" } >> { status = error }',
  '{ status = error } < { }',
  '{ kind = client } ~ { kind = client }',
  '{ name = "z" } || { duration >= 100ms }',
  '{ } | count() > 4',
  '{ resource.service.name = "c" } | avg(duration) > 20ms',
  '({ name = "x" } | count() >= 2) && { .code = 500 }',
  '{ false }',
];

async function allTraces(store: TraceStore): Promise<Map<string, { spans: Span[]; summary: TraceSummary }>> {
  const out = new Map<string, { spans: Span[]; summary: TraceSummary }>();
  for (const summary of await store.search({ limit: 10_000 })) out.set(summary.traceId, { spans: await store.getTrace(summary.traceId), summary });
  return out;
}

/** Every matching trace, best first by latest selected span start. */
function bruteForce(traces: Map<string, { spans: Span[]; summary: TraceSummary }>, q: string, opts: TraceQLSearchOptions): { summary: TraceSummary; key: bigint }[] {
  const query = parseTraceQL(q);
  const out: { summary: TraceSummary; key: bigint }[] = [];
  for (const { spans, summary } of traces.values()) {
    const selected = evaluateTraceQL(query, spans, opts);
    if (selected.length) out.push({ summary, key: selected.reduce((m, s) => (s.startTimeUnixNano > m ? s.startTimeUnixNano : m), 0n) });
  }
  return out.sort((a, b) => (a.key > b.key ? -1 : a.key < b.key ? 1 : 0));
}

describe('searchTraceQL', () => {
  let dir: string;
  let store: BlockStore;
  let traces: Map<string, { spans: Span[]; summary: TraceSummary }>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ariadne-traceql-'));
    store = await BlockStore.open({ dir });
    const spans = dataset();
    // half flushed to blocks, half in the head, as in a running server
    await store.write(spans.slice(0, spans.length / 2));
    await store.flush();
    await store.write(spans.slice(spans.length / 2));
    traces = await allTraces(store);
    assert.equal(traces.size, 400);
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const last = T0 + 10_000_000_000n;
  const windows: [string, TraceQLSearchOptions][] = [
    ['everything', {}],
    ['a window', { startUnixNano: T0 + 2n * SECOND, endUnixNano: T0 + 5n * SECOND }],
    ['a narrow window', { startUnixNano: T0 + 3n * SECOND, endUnixNano: T0 + 3n * SECOND + 300n * MS }],
    ['an empty window', { startUnixNano: last, endUnixNano: last + SECOND }],
  ];
  for (const q of QUERIES) {
    it(`finds what brute force finds: ${q}`, async () => {
      const covers = traceQLPushdown(parseTraceQL(q)).covers;
      for (const [what, window] of windows) {
        const expected = bruteForce(traces, q, window);
        for (const limit of [1, 3, 20, 1000]) {
          for (const overfetch of [2, 4]) {
            const r = await searchTraceQL(store, parseTraceQL(q), { ...window, limit, overfetch });
            const ids = r.traces.map((t) => t.traceId);
            const label = `${what}, limit ${limit}, overfetch ${overfetch}: ${r.candidates} candidates`;
            assert.equal(r.truncated, false, label);
            assert.deepEqual(r.traces, [...r.traces].sort(compareSummaries), `ordered like search: ${label}`);
            assert.equal(ids.length, Math.min(limit, expected.length), label);
            if (covers) {
              // the newest `limit` by latest selected span, exactly
              assert.deepEqual(ids, expected.slice(0, limit).map((m) => m.summary).sort(compareSummaries).map((s) => s.traceId), label);
            } else {
              const all = new Set(expected.map((m) => m.summary.traceId));
              for (const id of ids) assert.ok(all.has(id), `${id} does not match: ${label}`);
            }
            for (const t of r.traces) assert.deepEqual(t, traces.get(t.traceId)!.summary);
          }
        }
      }
    });
  }

  it('reads only what the pushdown lets through when it is exact, and widens when few candidates match', async () => {
    const reads: string[] = [];
    const searches: TraceQuery[] = [];
    const counting: TraceStore = Object.create(store, {
      getTrace: { value: (id: string) => (reads.push(id), store.getTrace(id)) },
      search: { value: (q: TraceQuery) => (searches.push(q), store.search(q)) },
    });
    const exact = await searchTraceQL(counting, parseTraceQL('{ resource.service.name = "a" }'), { limit: 5 });
    assert.equal(exact.traces.length, 5);
    assert.deepEqual(searches, [{ service: 'a', limit: 20 }], 'one search of limit × 4');
    // every candidate matches: the first batch of reads is enough
    assert.deepEqual([reads.length, exact.candidates], [8, 8]);

    reads.length = searches.length = 0;
    // about one trace in nine: candidates are every trace, newest first, in widening rounds
    const rare = await searchTraceQL(counting, parseTraceQL('{ kind = client && .ratio > 1 && name = "z" && .k = "b" }'), { limit: 5, overfetch: 2 });
    assert.equal(rare.traces.length, Math.min(5, bruteForce(traces, '{ kind = client && .ratio > 1 && name = "z" && .k = "b" }', {}).length));
    assert.ok(searches.length >= 2, `${searches.length} searches`);
    assert.equal(new Set(reads).size, reads.length, 'no trace read twice across rounds');
  });

  it('stops at maxCandidates and says the answer may be incomplete', async () => {
    // kind = unspecified is never written; the error side is pushed down and matches most traces
    const r = await searchTraceQL(store, parseTraceQL('{ status = error } && { kind = unspecified }'), { limit: 5, maxCandidates: 50 });
    assert.deepEqual([r.traces.length, r.candidates, r.truncated], [0, 50, true]);
    const none = await searchTraceQL(store, parseTraceQL('{ name = "nope" }'), { limit: 5, maxCandidates: 50 });
    assert.deepEqual([none.traces.length, none.candidates, none.truncated], [0, 0, false], 'the store found nothing to read');
  });

  it('a query no span can satisfy costs no store call', async () => {
    const never: TraceStore = Object.create(store, { search: { value: () => assert.fail('searched') } });
    assert.deepEqual(await searchTraceQL(never, parseTraceQL('{ name = "a" && name = "b" }')), { traces: [], candidates: 0, truncated: false });
  });

  it('works on a trace written after the search found it, and on one deleted in between', async () => {
    const fresh = makeSpan({ traceId: randomTraceId(), name: 'late', startTimeUnixNano: T0 + 20n * SECOND, service: 'late' });
    await store.write([fresh]);
    const racing: TraceStore = Object.create(store, {
      getTrace: { value: async (id: string) => (id === fresh.traceId ? [] : store.getTrace(id)) },
    });
    assert.deepEqual((await searchTraceQL(racing, parseTraceQL('{ resource.service.name = "late" }'))).traces, []);
    assert.deepEqual((await searchTraceQL(store, parseTraceQL('{ resource.service.name = "late" }'))).traces.map((t) => t.traceId), [fresh.traceId]);
  });
});
