import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import type { Span } from '@ariadne/model';
import { storeConformance } from '../conformance.js';
import type { StoreHarness } from '../conformance.js';
import { assertSameSpans, makeRichSpan, makeSpan, makeTrace } from '../../testing/fixtures.js';
import { decodeTraceRequestJson, decodeTraceRequestProto, encodeTraceRequestProto, referenceEncode, validateTraceRequestProto } from '../../receive/otlp/index.js';
import { arbModelSpans, spansToOtlpJson } from '../../receive/otlp/testing.js';
import { EMBEDDED_STORE_ENTRY, WorkerStore } from './index.js';
import type { WorkerStoreOptions } from './index.js';

const TESTING_ENTRY = new URL('./testing-entry.js', import.meta.url);

function embeddedHarness(extra: Partial<WorkerStoreOptions> = {}): () => Promise<StoreHarness & { dir: string }> {
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ariadne-worker-'));
    const open = () => WorkerStore.open({ module: EMBEDDED_STORE_ENTRY, options: { dir, threads: 2 }, ...extra });
    let current = await open();
    return {
      dir,
      get store() {
        return current;
      },
      async reopen() {
        await current.close();
        current = await open();
        return current;
      },
      async cleanup() {
        await current.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  };
}

storeConformance('worker(embedded)', embeddedHarness());

async function withEmbedded(fn: (store: WorkerStore, h: StoreHarness) => Promise<void>, extra: Partial<WorkerStoreOptions> = {}): Promise<void> {
  const h = await embeddedHarness(extra)();
  try {
    await fn(h.store as WorkerStore, h);
  } finally {
    await h.cleanup();
  }
}

/** What the main thread would have written for these bytes. */
function decoded(bytes: Uint8Array): Span[] {
  const out = decodeTraceRequestProto(bytes);
  assert.ok(out.ok);
  return out.result.spans;
}

describe('WorkerStore.writeEncoded', () => {
  it('stores exactly what decodeTraceRequestProto + write would (plain, rich and random spans)', () =>
    withEmbedded(async (store) => {
      const plain = makeTrace({ services: ['enc-a', 'enc-b'], depth: 2, fanout: 3 });
      const rich = makeRichSpan();
      for (const spans of [plain, [rich]]) {
        const bytes = encodeTraceRequestProto(spans);
        assert.deepStrictEqual(await store.writeEncoded(bytes), { spans: spans.length });
        assertSameSpans(await store.getTrace(spans[0]!.traceId), decoded(bytes));
      }
      // makeTrace spans survive OTLP unchanged (the rich one has text UTF-8 cannot carry)
      assertSameSpans(await store.getTrace(plain[0]!.traceId), plain);
      const samples = fc.sample(arbModelSpans.filter((s) => s.length > 0), { numRuns: 30, seed: 7 });
      for (const spans of samples) {
        const bytes = encodeTraceRequestProto(spans);
        assert.equal((await store.writeEncoded(bytes)).spans, spans.length);
        for (const traceId of new Set(spans.map((s) => s.traceId))) {
          const want = decoded(bytes).filter((s) => s.traceId === traceId);
          // a random trace id may repeat across samples: compare the spans of this request only
          const got = (await store.getTrace(traceId)).filter((s) => want.some((w) => w.spanId === s.spanId));
          assertSameSpans(got, want);
        }
      }
    }));

  it('stores only the valid spans of a partly invalid request, and counts as the validator does', () =>
    withEmbedded(async (store) => {
      const good = makeTrace({ services: ['partial'], depth: 1, fanout: 2 });
      const toRef = (s: Span, traceId: Uint8Array, spanId: Uint8Array, parent?: Uint8Array) => ({
        traceId,
        spanId,
        ...(parent ? { parentSpanId: parent } : {}),
        name: s.name,
        startTimeUnixNano: String(s.startTimeUnixNano),
        endTimeUnixNano: String(s.endTimeUnixNano),
        kind: s.kind,
      });
      const hex = (h: string) => Buffer.from(h, 'hex');
      const spans = [
        toRef(good[0]!, hex(good[0]!.traceId), hex(good[0]!.spanId)),
        toRef(good[1]!, new Uint8Array(16), hex(good[1]!.spanId)), // all-zero trace id
        toRef(good[1]!, hex(good[1]!.traceId), hex(good[1]!.spanId).subarray(0, 5)), // short span id
        toRef(good[2]!, hex(good[2]!.traceId), hex(good[2]!.spanId), hex(good[0]!.spanId)),
        toRef(good[2]!, hex(good[2]!.traceId), hex('0102030405060708'), new Uint8Array(3)), // odd parent
      ];
      const bytes = referenceEncode({
        resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'partial' } }] }, scopeSpans: [{ spans }] }],
      });
      const v = validateTraceRequestProto(bytes);
      assert.ok(v.ok);
      assert.equal(v.spans, 2);
      assert.equal(v.rejectedSpans, 3);
      assert.deepStrictEqual(await store.writeEncoded(bytes), { spans: v.spans });
      const got = await store.getTrace(good[0]!.traceId);
      assert.deepStrictEqual(got.map((s) => s.spanId).sort(), [good[0]!.spanId, good[2]!.spanId].sort());
      assertSameSpans(got, decoded(bytes));
    }));

  it('refuses bytes that are not a request, and keeps serving', () =>
    withEmbedded(async (store) => {
      await assert.rejects(store.writeEncoded(Buffer.from('not protobuf at all')), /^SyntaxError: cannot decode OTLP protobuf: .*wire type/);
      const span = makeSpan({ service: 'after-bad-bytes' });
      assert.deepStrictEqual(await store.writeEncoded(encodeTraceRequestProto([span])), { spans: 1 });
      assertSameSpans(await store.getTrace(span.traceId), [span]);
      assert.deepStrictEqual(await store.writeEncoded(new Uint8Array(0)), { spans: 0 });
    }));

  it('decodes OTLP/JSON in the worker when asked, as the main thread would', () =>
    withEmbedded(async (store) => {
      // (the rich span's uint64-sized int value is no OTLP/JSON int64: leave it out)
      const rich = makeRichSpan();
      const spans = [...makeTrace({ services: ['json'], depth: 1, fanout: 2 }), { ...rich, attributes: rich.attributes.filter((kv) => kv.key !== 'kvlist') }];
      const body = Buffer.from(JSON.stringify(spansToOtlpJson(spans)));
      const expected = decodeTraceRequestJson(body);
      assert.ok(expected.ok);
      assert.deepStrictEqual(await store.writeEncoded(body, { format: 'otlp-json' }), { spans: spans.length });
      for (const traceId of new Set(spans.map((s) => s.traceId))) {
        assertSameSpans(await store.getTrace(traceId), expected.result.spans.filter((s) => s.traceId === traceId));
      }
      await assert.rejects(store.writeEncoded(Buffer.from('{"resourceSpans": 3}'), { format: 'otlp-json' }), /^SyntaxError: cannot decode OTLP JSON: /);
    }));

  it('copies a view into a larger buffer, and hands over a whole buffer when asked', () =>
    withEmbedded(async (store) => {
      const a = makeSpan({ service: 'view' });
      const bytes = encodeTraceRequestProto([a]);
      const big = new Uint8Array(bytes.length + 20);
      big.set(bytes, 10);
      const view = big.subarray(10, 10 + bytes.length);
      assert.deepStrictEqual(await store.writeEncoded(view, { transfer: true }), { spans: 1 }); // a view: copied
      assert.equal(big.byteLength, bytes.length + 20);
      const b = makeSpan({ service: 'view' });
      const own = Uint8Array.from(encodeTraceRequestProto([b]));
      assert.deepStrictEqual(await store.writeEncoded(own, { transfer: true }), { spans: 1 });
      assert.equal(own.byteLength, 0, 'transferred: detached here');
      assertSameSpans(await store.getTrace(a.traceId), [a]);
      assertSameSpans(await store.getTrace(b.traceId), [b]);
    }));
});

describe('WorkerStore: errors from the store', () => {
  it("rejects with the worker's message and error type; the worker keeps serving", () =>
    withEmbedded(async (store) => {
      await assert.rejects(store.write([makeSpan({ traceId: 'ABC' })]), TypeError);
      await assert.rejects(store.write([makeSpan({ name: 'fn', attributes: [{ key: 'f', value: (() => 1) as never }] })]), /could not be cloned/);
      const span = makeSpan();
      await store.write([span]);
      assertSameSpans(await store.getTrace(span.traceId), [span]);
    }));

  it('errors, logs and a hanging call do not disturb other calls; a clean close is no failure', async () => {
    const logs: string[] = [];
    const onFailure = () => assert.fail('closing is not failing');
    const store = await WorkerStore.open({ module: TESTING_ENTRY, options: {}, log: (m) => logs.push(m), onFailure });
    try {
      await assert.rejects(store.getTrace('throw'), (e: Error) => e.constructor === Error && e.message === 'boom in the store' && /in the store worker/.test(e.stack ?? ''));
      await assert.rejects(store.getTrace('type'), TypeError);
      void store.getTrace('hang');
      assert.deepStrictEqual(await store.getTrace('log'), []);
      assert.deepStrictEqual(logs, ['hello from the worker']);
      assert.deepStrictEqual(await store.stats(), { spans: 0, bytesOnDisk: 0 });
    } finally {
      await store.close();
    }
  });
});

describe('WorkerStore: a dying worker', () => {
  for (const [how, expected] of [
    ['exit', /^Error: worker store: store worker exited \(code 3\)$/],
    ['uncaught', /^Error: worker store: store worker crashed: nobody catches this$/],
  ] as const) {
    it(`${how}: every pending and later call rejects, close() resolves`, async () => {
      const failures: string[] = [];
      const store = await WorkerStore.open({ module: TESTING_ENTRY, options: {}, maxInflightWrites: 1, onFailure: (r) => failures.push(r) });
      assert.equal(store.failure, undefined);
      const pending = [store.getTrace('hang'), store.write([makeSpan({ name: 'gate' })]), store.write([makeSpan()]), store.writeEncoded(encodeTraceRequestProto([makeSpan()]))];
      assert.equal(store.load().waitingWrites, 2);
      const dying = store.getTrace(how);
      for (const p of [dying, ...pending]) await assert.rejects(p, expected);
      await assert.rejects(store.getTrace('x'), expected);
      await assert.rejects(store.write([makeSpan()]), expected);
      await assert.rejects(store.writeEncoded(new Uint8Array(0)), expected);
      assert.deepStrictEqual(store.load(), { inflightWrites: 0, inflightBytes: 0, waitingWrites: 0 });
      assert.equal(failures.length, 1);
      assert.match(`Error: worker store: ${failures[0]}`, expected);
      assert.equal(store.failure, failures[0]);
      await store.close();
      await store.close();
      await assert.rejects(store.stats(), /closed/);
      assert.equal(failures.length, 1);
    });
  }

  it('open() rejects when the store cannot open, the module is missing or exports no openStore', async () => {
    const onFailure = () => assert.fail('a failed open is not a failure of an open store');
    await assert.rejects(WorkerStore.open({ module: TESTING_ENTRY, options: { fail: 'throw' }, onFailure }), /^Error: cannot open: simulated$/);
    await assert.rejects(WorkerStore.open({ module: TESTING_ENTRY, options: { fail: 'exit' }, onFailure }), /exited \(code 7\) while opening the store/);
    await assert.rejects(WorkerStore.open({ module: new URL('./no-such-entry.js', import.meta.url), options: {} }), /Cannot find module|ERR_MODULE_NOT_FOUND/);
    const dir = await mkdtemp(join(tmpdir(), 'ariadne-worker-entry-'));
    try {
      await writeFile(join(dir, 'entry.mjs'), 'export const nothing = 1;\n');
      await assert.rejects(WorkerStore.open({ module: join(dir, 'entry.mjs'), options: {} }), /does not export openStore/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await assert.rejects(WorkerStore.open({ module: 'relative/entry.js', options: {} }), TypeError);
  });
});

describe('WorkerStore: writes in flight', () => {
  it('waits beyond maxInflightWrites, first come first served', async () => {
    const store = await WorkerStore.open({ module: TESTING_ENTRY, options: {}, maxInflightWrites: 2 });
    try {
      const done: number[] = [];
      const writes = [0, 1, 2, 3, 4].map((i) => store.write([makeSpan({ name: i < 2 ? 'gate' : `w${i}` })]).then(() => done.push(i)));
      assert.deepStrictEqual(store.load(), { inflightWrites: 2, inflightBytes: 0, waitingWrites: 3 });
      await new Promise((r) => setTimeout(r, 50));
      assert.deepStrictEqual(done, []);
      assert.equal((await store.getTrace('release'))[0]!.name, '2');
      await Promise.all(writes);
      assert.deepStrictEqual(done.slice(0, 2).sort(), [0, 1]);
      assert.deepStrictEqual(done.slice(2), [2, 3, 4]);
      assert.equal((await store.stats()).spans, 5);
      assert.deepStrictEqual(store.load(), { inflightWrites: 0, inflightBytes: 0, waitingWrites: 0 });
    } finally {
      await store.close();
    }
  });

  it('bounds bytes in flight, but always lets one write through', async () => {
    const store = await WorkerStore.open({ module: TESTING_ENTRY, options: {}, maxInflightBytes: 200 });
    try {
      const gate = encodeTraceRequestProto([makeSpan({ name: 'gate' })]);
      assert.ok(gate.length > 100 && gate.length <= 200, `${gate.length}`);
      const first = store.writeEncoded(gate); // alone: admitted whatever its size
      const second = store.writeEncoded(gate); // would pass 200 bytes: waits
      assert.deepStrictEqual(store.load(), { inflightWrites: 1, inflightBytes: gate.length, waitingWrites: 1 });
      const big = encodeTraceRequestProto(makeTrace({ depth: 2, fanout: 3 }));
      const third = store.writeEncoded(big);
      await new Promise((r) => setTimeout(r, 20));
      await store.getTrace('release');
      await first;
      assert.equal(store.load().inflightWrites, 1); // the second, gated in turn
      await store.getTrace('release');
      assert.deepStrictEqual(await Promise.all([second, third]), [{ spans: 1 }, { spans: 13 }]);
      assert.equal((await store.stats()).spans, 15);
    } finally {
      await store.close();
    }
  });

  it('close() sends the writes still waiting, then closes; later calls reject', () =>
    withEmbedded(
      async (store, h) => {
        const traces = Array.from({ length: 20 }, () => makeTrace({ services: ['queued'], depth: 1, fanout: 2 }));
        const writes = traces.map((t, i) => (i % 2 ? store.write(t) : store.writeEncoded(encodeTraceRequestProto(t))));
        assert.ok(store.load().waitingWrites > 10);
        await store.close();
        await Promise.all(writes);
        await assert.rejects(store.getTrace(traces[0]![0]!.traceId), /^Error: worker store: closed$/);
        await assert.rejects(store.write(traces[0]!), /closed/);
        const reopened = await h.reopen!();
        for (const t of traces) assertSameSpans(await reopened.getTrace(t[0]!.traceId), t);
      },
      { maxInflightWrites: 1 },
    ));
});
