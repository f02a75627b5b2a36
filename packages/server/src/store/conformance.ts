// The storage conformance suite, after Jaeger's storage integration tests:
// every TraceStore runs it (embedded/embedded.test.ts; a ClickHouse store
// would call it the same way). Data-dependent cases run in three states,
// since stores usually keep recent writes apart from flushed ones:
//   unflushed  everything written, no flush()
//   flushed    everything written, then flush()
//   split      every other span written and flushed, the rest written after
//              (each trace is then half flushed, half not)

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyValue, Resource, Span, SpanKind, TraceQuery, TraceSummary } from '@ariadne/model';
import { SpanKind as Kind, StatusCode, nanos } from '@ariadne/model';
import type { TraceStore } from './types.js';
import type { PlainAttribute } from '../testing/fixtures.js';
import { MS, SECOND, assertSameSpans, attrs, makeResource, makeRichSpan, makeSpan, makeTrace, nowNanos, randomSpanId, randomTraceId } from '../testing/fixtures.js';

export interface StoreHarness {
  store: TraceStore;
  /** Closes whichever store instance is open and deletes its data. */
  cleanup(): Promise<void>;
  /** Closes `store` (which flushes it) and opens the same data again; later calls use the returned store. */
  reopen?(): Promise<TraceStore>;
}

type State = 'unflushed' | 'flushed' | 'split';
const STATES: State[] = ['unflushed', 'flushed', 'split'];

async function writeIn(store: TraceStore, spans: Span[], state: State): Promise<void> {
  if (state === 'unflushed') {
    await store.write(spans);
  } else if (state === 'flushed') {
    await store.write(spans);
    await store.flush();
  } else {
    await store.write(spans.filter((_, i) => i % 2 === 0));
    await store.flush();
    await store.write(spans.filter((_, i) => i % 2 === 1));
  }
}

function sortByStart(spans: readonly Span[]): Span[] {
  return [...spans].sort((a, b) =>
    a.startTimeUnixNano !== b.startTimeUnixNano ? (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1) : a.spanId < b.spanId ? -1 : 1,
  );
}

export function storeConformance(name: string, open: () => Promise<StoreHarness>): void {
  async function withStore(fn: (h: StoreHarness) => Promise<void>): Promise<void> {
    const h = await open();
    try {
      await fn(h);
    } finally {
      await h.cleanup();
    }
  }

  describe(`TraceStore conformance: ${name}`, () => {
    // --- trace by id ------------------------------------------------------------------

    describe('trace by id', () => {
      for (const state of STATES) {
        it(`returns every field of every span exactly (${state})`, () =>
          withStore(async ({ store }) => {
            const traceId = randomTraceId();
            const root = makeSpan({ traceId, service: 'plain', name: 'root' });
            const spans = [
              root,
              makeRichSpan({ traceId }),
              makeRichSpan({ traceId, parentSpanId: root.spanId, kind: Kind.PRODUCER, status: { code: StatusCode.OK, message: '' } }),
              // an end before the start, and the extremes of the timestamp range
              makeSpan({ traceId, parentSpanId: root.spanId, startTimeUnixNano: root.startTimeUnixNano + 5n, endTimeUnixNano: root.startTimeUnixNano + 4n }),
              makeSpan({ traceId, parentSpanId: root.spanId, startTimeUnixNano: 1n, endTimeUnixNano: 2n ** 64n - 1n, kind: Kind.UNSPECIFIED, flags: 0xffffffff }),
              makeSpan({ traceId, parentSpanId: root.spanId, startTimeUnixNano: 0n, endTimeUnixNano: 0n, name: '', traceState: 'k=v', status: { code: StatusCode.UNSET, message: 'unset with message' } }),
            ];
            await writeIn(store, spans, state);
            const got = await store.getTrace(traceId);
            assertSameSpans(got, spans, state);
          }));
      }

      it('orders spans by start time, then span id', () =>
        withStore(async ({ store }) => {
          const trace = makeTrace({ depth: 2, fanout: 3 });
          await writeIn(store, [...trace].reverse(), 'split');
          assert.deepStrictEqual(
            (await store.getTrace(trace[0]!.traceId)).map((s) => s.spanId),
            sortByStart(trace).map((s) => s.spanId),
          );
        }));

      it('returns [] for an unknown or malformed trace id', () =>
        withStore(async ({ store }) => {
          await store.write(makeTrace());
          await store.flush();
          await store.write(makeTrace());
          assert.deepStrictEqual(await store.getTrace(randomTraceId()), []);
          assert.deepStrictEqual(await store.getTrace('0'.repeat(32)), []);
          assert.deepStrictEqual(await store.getTrace('not-a-trace-id'), []);
          assert.deepStrictEqual(await store.getTrace(''), []);
          assert.deepStrictEqual(await store.getTrace("' OR 1=1 --"), []);
        }));

      it('returns a trace of 10,008 spans whole', () =>
        withStore(async ({ store }) => {
          const traceId = randomTraceId();
          const start = nowNanos() - 60n * SECOND;
          const root = makeSpan({ traceId, service: 'big', name: 'root', startTimeUnixNano: start, endTimeUnixNano: start + 20n * SECOND });
          const spans = [root];
          for (let i = 1; i < 10_008; i++) {
            const s = start + BigInt(i) * 1000n;
            spans.push(makeSpan({ traceId, parentSpanId: root.spanId, service: `big-${i % 7}`, name: `child ${i % 13}`, startTimeUnixNano: s, endTimeUnixNano: s + 500n, attributes: attrs({ i }) }));
          }
          for (let i = 0; i < spans.length; i += 1000) {
            await store.write(spans.slice(i, i + 1000));
            if (i === 5000) await store.flush();
          }
          const got = await store.getTrace(traceId);
          assert.equal(got.length, 10_008);
          assert.equal(new Set(got.map((s) => s.spanId)).size, 10_008);
          assertSameSpans(got, spans);
          const [summary] = await store.search({ service: 'big' });
          assert.equal(summary?.traceId, traceId);
          assert.equal(summary?.spanCount, 10_008);
        }));

      it('returns a re-sent span once and counts it once', () =>
        withStore(async ({ store }) => {
          const trace = makeTrace({ services: ['dup'], depth: 1, fanout: 2, errorAt: [1] });
          const traceId = trace[0]!.traceId;
          await store.write([...trace, trace[1]!]); // twice in one batch
          await store.write([trace[1]!]); // again in another write
          await store.flush();
          await store.write([trace[1]!, { ...trace[2]! }]); // again after the flush, as an equal copy
          await store.flush();
          await store.write([trace[1]!]); // and once more, unflushed
          const got = await store.getTrace(traceId);
          assertSameSpans(got, trace);
          const [summary] = await store.search({ service: 'dup' });
          assert.equal(summary?.spanCount, 3);
          assert.equal(summary?.errorCount, 1);
        }));

      it('shows writes to every read as soon as write() resolves', () =>
        withStore(async ({ store }) => {
          const span = makeSpan({ service: 'instant', name: 'now', attributes: attrs({ fresh: true }) });
          await store.write([span]);
          assertSameSpans(await store.getTrace(span.traceId), [span]);
          assert.deepStrictEqual((await store.search({ attributes: [{ key: 'fresh', value: 'true' }] })).map((s) => s.traceId), [span.traceId]);
          assert.ok((await store.services()).includes('instant'));
          assert.deepStrictEqual(await store.operations('instant'), [{ name: 'now', spanKind: Kind.SERVER }]);
          assert.ok((await store.stats()).spans >= 1);
        }));

      it('keeps every span of concurrent writes, flushes and reads', () =>
        withStore(async ({ store }) => {
          const traces = Array.from({ length: 40 }, (_, i) => makeTrace({ services: [`conc-${i % 4}`, 'conc-db'], depth: 2, fanout: 3 }));
          await Promise.all(
            traces.map(async (t, i) => {
              await store.write(t.slice(0, 6));
              if (i % 8 === 0) await store.flush();
              await store.getTrace(t[0]!.traceId);
              await store.write(t.slice(6));
              if (i % 8 === 4) await store.search({ service: 'conc-db', limit: 5 });
            }),
          );
          for (const t of traces) assertSameSpans(await store.getTrace(t[0]!.traceId), t);
          const all = await store.search({ service: 'conc-db', limit: 100 });
          assert.equal(all.length, 40);
          assert.ok(all.every((s) => s.spanCount === 13));
          assert.equal((await store.stats()).spans, 40 * 13);
        }));
    });

    // --- services and operations --------------------------------------------------------

    describe('services and operations', () => {
      for (const state of STATES) {
        it(`lists services sorted and operations with every span kind (${state})`, () =>
          withStore(async ({ store }) => {
            const span = (service: string, name: string, kind: SpanKind) => makeSpan({ service, name, kind });
            await writeIn(
              store,
              [
                span('svc-b', 'op', Kind.SERVER),
                span('svc-b', 'op', Kind.CLIENT),
                span('svc-b', 'op', Kind.SERVER),
                span('svc-b', 'another', Kind.INTERNAL),
                span('svc-a', 'only', Kind.CONSUMER),
                span('svc-c', 'op', Kind.PRODUCER),
              ],
              state,
            );
            assert.deepStrictEqual(await store.services(), ['svc-a', 'svc-b', 'svc-c']);
            assert.deepStrictEqual(await store.operations('svc-b'), [
              { name: 'another', spanKind: Kind.INTERNAL },
              { name: 'op', spanKind: Kind.SERVER },
              { name: 'op', spanKind: Kind.CLIENT },
            ]);
            assert.deepStrictEqual(await store.operations('svc-a'), [{ name: 'only', spanKind: Kind.CONSUMER }]);
            assert.deepStrictEqual(await store.operations('no-such-service'), []);
          }));
      }
    });

    // --- search ----------------------------------------------------------------------------

    for (const state of STATES) {
      describe(`search (${state})`, () => {
        const data = searchDataset();
        let h: StoreHarness;
        before(async () => {
          h = await open();
          await writeIn(h.store, data.spans, state);
        });
        after(() => h?.cleanup());

        for (const c of data.cases) {
          it(c.name, async () => {
            const got = await h.store.search(c.query);
            assert.deepStrictEqual(got.map((s) => data.label(s.traceId)), c.expect);
          });
        }

        it('summarizes each trace: root, start, duration, counts, services', async () => {
          const got = await h.store.search({ service: 'payment' });
          assert.deepStrictEqual(got, [data.summaries.t4, data.summaries.t2]);
        });
      });
    }

    describe('search input', () => {
      it('treats every value literally (no SQL, no wildcards, no separators)', () =>
        withStore(async ({ store }) => {
          const hostile = [
            makeSpan({ service: "svc' OR '1'='1", name: 'op%', attributes: attrs({ pct: '50%', 'a=b': 'c', sep: 'x\x1fy=z\x1e', quote: `it's "quoted"` }) }),
            makeSpan({ service: 'ünïcødé 服务', name: 'op_1', attributes: attrs({ a: 'b=c' }) }),
          ];
          await writeIn(store, hostile, 'split');
          const ids = async (q: TraceQuery) => (await store.search(q)).map((s) => s.traceId);
          const [t0, t1] = hostile.map((s) => s.traceId);
          assert.deepStrictEqual(await ids({ service: "' OR '1'='1" }), []);
          assert.deepStrictEqual(await ids({ service: "svc' OR '1'='1" }), [t0]);
          assert.deepStrictEqual(await ids({ service: 'ünïcødé 服务' }), [t1]);
          assert.deepStrictEqual(await ids({ operation: 'op_' }), []);
          assert.deepStrictEqual(await ids({ operation: '%' }), []);
          assert.deepStrictEqual(await ids({ operation: 'op%' }), [t0]);
          assert.deepStrictEqual(await ids({ attributes: [{ key: 'pct', value: '5%' }] }), []);
          assert.deepStrictEqual(await ids({ attributes: [{ key: 'pct', value: '50%' }] }), [t0]);
          assert.deepStrictEqual(await ids({ attributes: [{ key: 'a=b', value: 'c' }] }), [t0]);
          assert.deepStrictEqual(await ids({ attributes: [{ key: 'a', value: 'b=c' }] }), [t1]);
          assert.deepStrictEqual(await ids({ attributes: [{ key: 'sep', value: 'x\x1fy=z\x1e' }] }), [t0]);
          assert.deepStrictEqual(await ids({ attributes: [{ key: 'sep', value: 'x' }] }), []);
          assert.deepStrictEqual(await ids({ attributes: [{ key: 'quote', value: `it's "quoted"` }] }), [t0]);
          assert.deepStrictEqual(await ids({ attributes: [{ key: 'quote', value: "it's" }] }), []);
        }));

      it('returns 20 traces by default and honours larger limits', () =>
        withStore(async ({ store }) => {
          const start = nowNanos() - 600n * SECOND;
          const traces = Array.from({ length: 70 }, (_, i) => makeTrace({ services: ['many'], depth: 0, start: start + BigInt(i) * SECOND }));
          await writeIn(store, traces.flat(), 'split');
          const newestFirst = traces.map((t) => t[0]!.traceId).reverse();
          assert.deepStrictEqual((await store.search({ service: 'many' })).map((s) => s.traceId), newestFirst.slice(0, 20));
          assert.deepStrictEqual((await store.search({ service: 'many', limit: 25 })).map((s) => s.traceId), newestFirst.slice(0, 25));
          assert.deepStrictEqual((await store.search({ service: 'many', limit: 1000 })).map((s) => s.traceId), newestFirst);
        }));
    });

    // --- trace summaries --------------------------------------------------------------------

    describe('trace summaries', () => {
      for (const state of STATES) {
        it(`picks the root, start and duration from all spans (${state})`, () =>
          withStore(async ({ store }) => {
            const t0 = nowNanos() - 300n * SECOND;
            const a = randomTraceId();
            const rootA = makeSpan({ traceId: a, service: 'sum-root', name: 'the root', startTimeUnixNano: t0 + 10n * MS, endTimeUnixNano: t0 + 50n * MS });
            const spansA = [
              rootA,
              // starts before its parent (clock skew) and ends last: start and duration come from it
              makeSpan({ traceId: a, parentSpanId: rootA.spanId, service: 'sum-early', name: 'early', startTimeUnixNano: t0, endTimeUnixNano: t0 + 70n * MS, status: { code: StatusCode.ERROR, message: 'x' } }),
              makeSpan({ traceId: a, parentSpanId: rootA.spanId, service: 'sum-b', name: 'b', startTimeUnixNano: t0 + 20n * MS, endTimeUnixNano: t0 + 30n * MS, status: { code: StatusCode.ERROR, message: '' } }),
            ];
            // no span without a parent (a partial trace): the earliest span is the root
            const b = randomTraceId();
            const spansB = [
              makeSpan({ traceId: b, parentSpanId: randomSpanId(), service: 'sum-late', name: 'late', startTimeUnixNano: t0 + 5n * MS, endTimeUnixNano: t0 + 6n * MS }),
              makeSpan({ traceId: b, parentSpanId: randomSpanId(), service: 'sum-first', name: 'first', startTimeUnixNano: t0 + 1n * MS, endTimeUnixNano: t0 + 2n * MS }),
            ];
            // two spans without a parent: the earlier is the root, whichever arrives first
            const c = randomTraceId();
            const spansC = [
              makeSpan({ traceId: c, service: 'sum-second-root', name: 'second', startTimeUnixNano: t0 + 9n * MS, endTimeUnixNano: t0 + 10n * MS }),
              makeSpan({ traceId: c, service: 'sum-first-root', name: 'first', startTimeUnixNano: t0 + 8n * MS, endTimeUnixNano: t0 + 9n * MS }),
            ];
            await writeIn(store, [...spansA, ...spansB, ...spansC], state);
            const [sa] = await store.search({ service: 'sum-b' });
            assert.deepStrictEqual(sa, {
              traceId: a,
              rootService: 'sum-root',
              rootOperation: 'the root',
              startTimeUnixNano: t0,
              durationNanos: nanos(70_000_000),
              spanCount: 3,
              errorCount: 2,
              services: ['sum-b', 'sum-early', 'sum-root'],
            } satisfies TraceSummary);
            const [sb] = await store.search({ service: 'sum-late' });
            assert.deepStrictEqual(sb, {
              traceId: b,
              rootService: 'sum-first',
              rootOperation: 'first',
              startTimeUnixNano: t0 + 1n * MS,
              durationNanos: nanos(5_000_000),
              spanCount: 2,
              errorCount: 0,
              services: ['sum-first', 'sum-late'],
            } satisfies TraceSummary);
            const [sc] = await store.search({ service: 'sum-second-root' });
            assert.equal(sc?.rootOperation, 'first');
          }));
      }
    });

    // --- retention ------------------------------------------------------------------------------

    describe('retention', () => {
      for (const state of STATES) {
        it(`deleteBefore removes spans that started before the cutoff and keeps the rest (${state})`, () =>
          withStore(async ({ store }) => {
            const now = nowNanos();
            const cutoff = now - 86_400n * SECOND;
            const old = makeTrace({ services: ['ret-old'], depth: 1, fanout: 2, start: now - 10n * 86_400n * SECOND });
            const fresh = makeTrace({ services: ['ret-new'], depth: 1, fanout: 1, start: now - 60n * SECOND });
            const straddleId = randomTraceId();
            const straddleRoot = makeSpan({ traceId: straddleId, service: 'ret-straddle', startTimeUnixNano: cutoff - 1n, endTimeUnixNano: cutoff + SECOND });
            const straddleChild = makeSpan({ traceId: straddleId, parentSpanId: straddleRoot.spanId, service: 'ret-straddle', startTimeUnixNano: cutoff, endTimeUnixNano: cutoff + MS });
            await writeIn(store, [...old, ...fresh, straddleRoot, straddleChild], state);

            assert.equal(await store.deleteBefore(cutoff), old.length + 1);
            assert.deepStrictEqual(await store.getTrace(old[0]!.traceId), []);
            assertSameSpans(await store.getTrace(fresh[0]!.traceId), fresh);
            assertSameSpans(await store.getTrace(straddleId), [straddleChild]);
            assert.deepStrictEqual(await store.search({ service: 'ret-old' }), []);
            assert.deepStrictEqual((await store.search({})).map((s) => s.traceId).sort(), [fresh[0]!.traceId, straddleId].sort());
            assert.equal((await store.stats()).spans, fresh.length + 1);
            assert.equal(await store.deleteBefore(cutoff), 0);
            assert.equal(await store.deleteBefore(0n), 0);
          }));
      }
    });

    // --- durability --------------------------------------------------------------------------

    describe('durability', () => {
      it('keeps everything across flush and reopen', async (t) => {
        const h = await open();
        try {
          if (!h.reopen) {
            t.skip('this store cannot be reopened');
            return;
          }
          const rich = makeRichSpan();
          const traces = Array.from({ length: 20 }, (_, i) => makeTrace({ services: [`re-${i % 3}`, 're-db'], depth: 2, fanout: 2, errorAt: [i % 7] }));
          const spans = [rich, ...traces.flat()];
          await writeIn(h.store, spans, 'split');
          await h.store.write([traces[0]![1]!]); // a duplicate, unflushed
          await h.store.flush();
          const before = {
            services: await h.store.services(),
            operations: await h.store.operations('re-db'),
            search: await h.store.search({ service: 're-db', limit: 50 }),
            stats: await h.store.stats(),
          };
          assert.ok(before.stats.bytesOnDisk > 0, 'bytesOnDisk after flush');
          const store = await h.reopen();
          assertSameSpans(await store.getTrace(rich.traceId), [rich]);
          for (const t of traces) assertSameSpans(await store.getTrace(t[0]!.traceId), t);
          assert.deepStrictEqual(await store.services(), before.services);
          assert.deepStrictEqual(await store.operations('re-db'), before.operations);
          assert.deepStrictEqual(await store.search({ service: 're-db', limit: 50 }), before.search);
          assert.ok((await store.stats()).spans >= spans.length);
          // and the reopened store takes writes
          const more = makeTrace({ services: ['re-after'] });
          await store.write(more);
          assertSameSpans(await store.getTrace(more[0]!.traceId), more);
        } finally {
          await h.cleanup();
        }
      });

      it('reports stored spans and bytes on disk', () =>
        withStore(async ({ store }) => {
          const traces = Array.from({ length: 10 }, () => makeTrace({ depth: 1, fanout: 4 }));
          await store.write(traces.flat());
          assert.equal((await store.stats()).spans, 50);
          await store.flush();
          const st = await store.stats();
          assert.equal(st.spans, 50);
          assert.ok(st.bytesOnDisk > 0);
        }));
    });
  });
}

// --- the search dataset ------------------------------------------------------------------------

interface SearchCase {
  name: string;
  query: TraceQuery;
  /** trace labels, newest first */
  expect: string[];
}

/**
 * Four small traces whose spans differ in one property at a time, and the
 * queries that tell them apart (times in ms after T0):
 *
 *   t1 @1000  frontend GET /cart   SERVER 100ms unset  http.method=GET http.status_code=200   [env=prod]
 *             └ cart cart.get      SERVER  40ms ok     cache.hit=true items=3                [env=prod]
 *   t2 @2000  frontend GET /checkout SERVER 800ms error http.method=POST http.status_code=500 [env=prod]
 *             └ payment charge     SERVER 600ms error  amount=12.5 retry=false               [env=staging]
 *   t3 @3000  frontend GET /cart   SERVER  10ms ok     http.method=GET http.status_code=200   [env=prod]
 *   t4 @4000  cart cart.get        SERVER   5ms unset  items=1                               [env=dev]
 *             └ payment refund     INTERNAL 2000ms unset amount=0.5                          [env=dev]
 */
function searchDataset(): { spans: Span[]; cases: SearchCase[]; label(traceId: string): string; summaries: Record<'t2' | 't4', TraceSummary> } {
  const T0 = nowNanos() - 3600n * SECOND;
  const at = (ms: number) => T0 + BigInt(ms) * MS;
  const ids = { t1: randomTraceId(), t2: randomTraceId(), t3: randomTraceId(), t4: randomTraceId() };
  const labels = new Map(Object.entries(ids).map(([k, v]) => [v, k]));
  const r = {
    frontend: makeResource('frontend', { 'deployment.environment': 'prod' }),
    cartProd: makeResource('cart', { 'deployment.environment': 'prod' }),
    paymentStaging: makeResource('payment', { 'deployment.environment': 'staging' }),
    cartDev: makeResource('cart', { 'deployment.environment': 'dev' }),
    paymentDev: makeResource('payment', { 'deployment.environment': 'dev' }),
  };
  const span = (
    traceId: string,
    resource: Resource,
    name: string,
    startMs: number,
    durMs: number,
    attributes: Record<string, PlainAttribute>,
    status: StatusCode = StatusCode.UNSET,
    parent?: Span,
    kind: SpanKind = Kind.SERVER,
  ): Span =>
    makeSpan({
      traceId,
      resource,
      name,
      kind,
      parentSpanId: parent?.spanId ?? '',
      startTimeUnixNano: at(startMs),
      endTimeUnixNano: at(startMs + durMs),
      attributes: attrs(attributes) as KeyValue[],
      status: { code: status, message: status === StatusCode.ERROR ? 'failed' : '' },
    });
  const s1a = span(ids.t1, r.frontend, 'GET /cart', 1000, 100, { 'http.method': 'GET', 'http.status_code': 200 });
  const s1b = span(ids.t1, r.cartProd, 'cart.get', 1010, 40, { 'cache.hit': true, items: 3 }, StatusCode.OK, s1a);
  const s2a = span(ids.t2, r.frontend, 'GET /checkout', 2000, 800, { 'http.method': 'POST', 'http.status_code': 500 }, StatusCode.ERROR);
  const s2b = span(ids.t2, r.paymentStaging, 'charge', 2050, 600, { amount: 12.5, retry: false }, StatusCode.ERROR, s2a);
  const s3a = span(ids.t3, r.frontend, 'GET /cart', 3000, 10, { 'http.method': 'GET', 'http.status_code': 200 }, StatusCode.OK);
  const s4a = span(ids.t4, r.cartDev, 'cart.get', 4000, 5, { items: 1 });
  const s4b = span(ids.t4, r.paymentDev, 'refund', 4001, 2000, { amount: 0.5 }, StatusCode.UNSET, s4a, Kind.INTERNAL);

  const attr = (key: string, value: string) => ({ key, value });
  const ms = (n: number) => (n * 1e6) as TraceQuery['minDurationNanos'] & number;
  const cases: SearchCase[] = [
    { name: 'no condition: every trace, newest first', query: {}, expect: ['t4', 't3', 't2', 't1'] },
    { name: 'service', query: { service: 'frontend' }, expect: ['t3', 't2', 't1'] },
    { name: 'service of child spans', query: { service: 'payment' }, expect: ['t4', 't2'] },
    { name: 'unknown service', query: { service: 'nope' }, expect: [] },
    { name: 'service and operation', query: { service: 'frontend', operation: 'GET /cart' }, expect: ['t3', 't1'] },
    { name: 'operation alone', query: { operation: 'cart.get' }, expect: ['t4', 't1'] },
    { name: 'string attribute', query: { attributes: [attr('http.method', 'GET')] }, expect: ['t3', 't1'] },
    { name: 'int attribute', query: { attributes: [attr('http.status_code', '500')] }, expect: ['t2'] },
    { name: 'bool attribute', query: { attributes: [attr('cache.hit', 'true')] }, expect: ['t1'] },
    { name: 'double attribute', query: { attributes: [attr('amount', '12.5')] }, expect: ['t2'] },
    { name: 'false bool attribute', query: { attributes: [attr('retry', 'false')] }, expect: ['t2'] },
    { name: 'attribute value must match exactly', query: { attributes: [attr('amount', '12')] }, expect: [] },
    { name: 'resource attribute', query: { attributes: [attr('deployment.environment', 'staging')] }, expect: ['t2'] },
    { name: 'resource attribute on many spans', query: { attributes: [attr('deployment.environment', 'prod')] }, expect: ['t3', 't2', 't1'] },
    { name: 'resource service.name', query: { attributes: [attr('service.name', 'cart')] }, expect: ['t4', 't1'] },
    { name: 'two attributes on one span', query: { attributes: [attr('http.method', 'GET'), attr('http.status_code', '200')] }, expect: ['t3', 't1'] },
    { name: 'two attributes never on one span', query: { attributes: [attr('http.method', 'POST'), attr('http.status_code', '200')] }, expect: [] },
    { name: 'span and resource attribute on one span', query: { attributes: [attr('http.method', 'GET'), attr('deployment.environment', 'prod')] }, expect: ['t3', 't1'] },
    { name: 'span and resource attribute on different spans', query: { attributes: [attr('amount', '0.5'), attr('deployment.environment', 'prod')] }, expect: [] },
    { name: 'unknown attribute key', query: { attributes: [attr('nope', '1')] }, expect: [] },
    { name: 'service and attribute on different spans', query: { service: 'cart', attributes: [attr('amount', '0.5')] }, expect: [] },
    { name: 'service and attribute on one span', query: { service: 'payment', attributes: [attr('amount', '0.5')] }, expect: ['t4'] },
    { name: 'service and operation on different spans', query: { service: 'cart', operation: 'refund' }, expect: [] },
    { name: 'minimum duration', query: { minDurationNanos: ms(500) }, expect: ['t4', 't2'] },
    { name: 'maximum duration, inclusive', query: { maxDurationNanos: ms(10) }, expect: ['t4', 't3'] },
    { name: 'duration range, both ends inclusive', query: { minDurationNanos: ms(40), maxDurationNanos: ms(100) }, expect: ['t1'] },
    { name: 'empty duration range', query: { minDurationNanos: ms(100), maxDurationNanos: ms(40) }, expect: [] },
    { name: 'service and minimum duration', query: { service: 'frontend', minDurationNanos: ms(500) }, expect: ['t2'] },
    { name: 'service and minimum duration on different spans', query: { service: 'payment', minDurationNanos: ms(700) }, expect: ['t4'] },
    { name: 'status error', query: { status: 'error' }, expect: ['t2'] },
    { name: 'status ok', query: { status: 'ok' }, expect: ['t3', 't1'] },
    { name: 'status unset', query: { status: 'unset' }, expect: ['t4', 't1'] },
    { name: 'service and status on one span', query: { service: 'frontend', status: 'ok' }, expect: ['t3'] },
    { name: 'status and attribute on different spans', query: { status: 'error', attributes: [attr('amount', '0.5')] }, expect: [] },
    { name: 'time range, both ends inclusive', query: { startUnixNano: at(2000), endUnixNano: at(3000) }, expect: ['t3', 't2'] },
    { name: 'start bound, inclusive', query: { startUnixNano: at(3000) }, expect: ['t4', 't3'] },
    { name: 'start bound, one ns later', query: { startUnixNano: at(3000) + 1n }, expect: ['t4'] },
    { name: 'end bound, inclusive', query: { endUnixNano: at(1000) }, expect: ['t1'] },
    { name: 'end bound, one ns earlier', query: { endUnixNano: at(1000) - 1n }, expect: [] },
    { name: 'time range matches a child span', query: { startUnixNano: at(2001), endUnixNano: at(2100) }, expect: ['t2'] },
    { name: 'limit keeps the newest', query: { limit: 2 }, expect: ['t4', 't3'] },
    { name: 'limit 1', query: { limit: 1 }, expect: ['t4'] },
    { name: 'limit with a condition', query: { service: 'frontend', limit: 2 }, expect: ['t3', 't2'] },
    { name: 'everything at once', query: { service: 'frontend', operation: 'GET /checkout', status: 'error', minDurationNanos: ms(800), maxDurationNanos: ms(800), startUnixNano: at(2000), endUnixNano: at(2000), attributes: [attr('http.method', 'POST'), attr('deployment.environment', 'prod')] }, expect: ['t2'] },
  ];
  const summaries = {
    t2: { traceId: ids.t2, rootService: 'frontend', rootOperation: 'GET /checkout', startTimeUnixNano: at(2000), durationNanos: ms(800), spanCount: 2, errorCount: 2, services: ['frontend', 'payment'] },
    t4: { traceId: ids.t4, rootService: 'cart', rootOperation: 'cart.get', startTimeUnixNano: at(4000), durationNanos: ms(2001), spanCount: 2, errorCount: 0, services: ['cart', 'payment'] },
  } as Record<'t2' | 't4', TraceSummary>;
  return { spans: [s1a, s1b, s2a, s2b, s3a, s4a, s4b], cases, label: (id) => labels.get(id) ?? id, summaries };
}
