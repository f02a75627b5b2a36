import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { DuckDBInstance } from '@duckdb/node-api';
import type { KeyValue, Span } from '@ariadne/model';
import { storeConformance } from '../conformance.js';
import type { StoreHarness } from '../conformance.js';
import type { TraceStore } from '../types.js';
import { assertSameSpans, attrs, makeRichSpan, makeSpan, makeTrace, randomTraceId } from '../../testing/fixtures.js';
import { EmbeddedStore } from './store.js';
import type { EmbeddedStoreOptions } from './store.js';

function harness(options: Omit<EmbeddedStoreOptions, 'dir'> = {}): () => Promise<StoreHarness> {
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ariadne-embedded-'));
    const openStore = () => EmbeddedStore.open({ dir, threads: 2, ...options });
    let current: TraceStore = await openStore();
    return {
      get store() {
        return current;
      },
      async reopen() {
        await current.close();
        current = await openStore();
        return current;
      },
      async cleanup() {
        await current.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  };
}

storeConformance('embedded', harness());
// The CSV loader, with flushes racing the test's own writes and reads.
storeConformance('embedded (CSV loader, tiny head)', harness({ loader: 'csv', flushSpans: 7, flushIntervalMs: 5 }));

describe('EmbeddedStore', () => {
  it('refuses a batch holding an invalid span, and keeps none of it', async () => {
    const h = await harness()();
    try {
      const good = makeSpan({ service: 'valid' });
      const bad: Span[] = [
        makeSpan({ traceId: 'ABC' }),
        makeSpan({ spanId: '0000000000000000' }),
        makeSpan({ parentSpanId: 'xyz' }),
        makeSpan({ flags: -1 }),
        makeSpan({ droppedAttributesCount: 2 ** 32 }),
        makeSpan({ startTimeUnixNano: -1n }),
      ];
      for (const b of bad) await assert.rejects(h.store.write([good, b]), TypeError);
      assert.deepStrictEqual(await h.store.getTrace(good.traceId), []);
      assert.deepStrictEqual(await h.store.services(), []);
    } finally {
      await h.cleanup();
    }
  });

  it('round-trips arbitrary text through the CSV bulk load', async () => {
    const h = await harness({ loader: 'csv' })();
    try {
      const text = fc.string({ unit: fc.oneof(fc.constantFrom('"', ',', '\n', '\r', '\\', '\x00', '\x1c', '\x1d', '\x1e', '\x1f', '\x1b', '=', '\ud800', '😀'), fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))), maxLength: 40 });
      const spans = fc.sample(
        fc.record({ name: text, service: text, key: text, value: text, state: text, message: text }).map(({ name, service, key, value, state, message }) =>
          makeSpan({ name, service, traceState: state, status: { code: 2, message }, attributes: [{ key, value: { stringValue: value } }] as KeyValue[] }),
        ),
        { numRuns: 300, seed: 42 },
      );
      await h.store.write(spans);
      await h.store.flush();
      for (const s of spans) assertSameSpans(await h.store.getTrace(s.traceId), [s]);
      for (const s of spans.slice(0, 30)) {
        const found = await h.store.search({ service: s.service, operation: s.name, attributes: [{ key: s.attributes[0]!.key, value: s.attributes[0]!.value.stringValue! }] });
        assert.ok(found.some((t) => t.traceId === s.traceId), `search finds span named ${JSON.stringify(s.name)}`);
      }
    } finally {
      await h.cleanup();
    }
  });

  for (const loader of ['appender', 'csv'] as const) {
    it(`stores a span with a 3 MB attribute and a 1,000-event span (${loader})`, async () => {
      const h = await harness({ loader })();
      try {
        const big = makeSpan({ attributes: attrs({ 'db.statement': 'x'.repeat(3 << 20) }) });
        const many = makeRichSpan({ events: Array.from({ length: 1000 }, (_, i) => ({ timeUnixNano: BigInt(i), name: `e${i}`, attributes: attrs({ i }), droppedAttributesCount: 0 })) });
        await h.store.write([big, many]);
        await h.store.flush();
        assertSameSpans(await h.store.getTrace(big.traceId), [big]);
        assertSameSpans(await h.store.getTrace(many.traceId), [many]);
      } finally {
        await h.cleanup();
      }
    });
  }

  it('stores each distinct resource once, across reopening too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ariadne-embedded-'));
    try {
      let store = await EmbeddedStore.open({ dir });
      await store.write(Array.from({ length: 5 }, () => makeTrace({ services: ['one', 'two'] })).flat());
      await store.close();
      store = await EmbeddedStore.open({ dir });
      // equal resources, but new objects: found by content
      await store.write(makeTrace({ services: ['one', 'two', 'three'] }).map((s) => ({ ...s, resource: structuredClone(s.resource) })));
      await store.close();
      const db = await DuckDBInstance.create(join(dir, 'ariadne.duckdb'));
      const c = await db.connect();
      const n = (await c.runAndReadAll('SELECT count(*) FROM resources')).getRows()[0]![0];
      c.closeSync();
      db.closeSync();
      assert.equal(n, 3n);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps the spans of a failed flush in memory and stores them on the next one', async () => {
    const h = await harness({ log: () => {} })();
    try {
      const store = h.store as EmbeddedStore;
      const trace = makeTrace({ services: ['retry'] }).map((s) => ({ ...s, attributes: attrs({ 'first.try': 'failed' }) }));
      await store.write(trace);
      // Make DuckDB refuse the next transaction.
      const writer = (store as unknown as { writer: { run: (sql: string) => Promise<unknown> } }).writer;
      const run = writer.run.bind(writer);
      writer.run = async (sql: string) => {
        if (sql.startsWith('BEGIN')) throw new Error('disk full (simulated)');
        return run(sql);
      };
      await assert.rejects(store.flush(), /disk full/);
      const more = makeTrace({ services: ['retry'] });
      await store.write(more);
      assertSameSpans(await store.getTrace(trace[0]!.traceId), trace);
      writer.run = run;
      await store.flush();
      const reopened = await h.reopen!();
      assertSameSpans(await reopened.getTrace(trace[0]!.traceId), trace);
      assertSameSpans(await reopened.getTrace(more[0]!.traceId), more);
      assert.deepStrictEqual(await reopened.services(), ['retry']);
      const found = await reopened.search({ attributes: [{ key: 'first.try', value: 'failed' }] });
      assert.deepStrictEqual(found.map((t) => t.traceId), [trace[0]!.traceId]);
    } finally {
      await h.cleanup();
    }
  });

  it('still finds attributes in a database written before the attribute key registry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ariadne-embedded-'));
    try {
      const span = makeSpan({ attributes: attrs({ legacy: 'yes' }) });
      let store = await EmbeddedStore.open({ dir });
      await store.write([span]);
      await store.close();
      const db = await DuckDBInstance.create(join(dir, 'ariadne.duckdb'));
      const c = await db.connect();
      await c.run('DROP TABLE attr_keys');
      c.closeSync();
      db.closeSync();
      store = await EmbeddedStore.open({ dir });
      assert.deepStrictEqual((await store.search({ attributes: [{ key: 'legacy', value: 'yes' }] })).map((t) => t.traceId), [span.traceId]);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('after a retention delete, forgets services that are gone and keeps resources in use', async () => {
    const h = await harness()();
    try {
      const store = h.store;
      const now = BigInt(Date.now()) * 1_000_000n;
      const old = makeTrace({ services: ['gone', 'kept'], start: now - 10n * 86_400_000_000_000n });
      const fresh = makeTrace({ services: ['kept'] });
      await store.write([...old, ...fresh]);
      await store.flush();
      assert.equal(await store.deleteBefore(now - 86_400_000_000_000n), old.length);
      assert.deepStrictEqual(await store.services(), ['kept']);
      // the same resource objects again: one whose row was collected, one still in use
      const again = makeTrace({ services: ['gone', 'kept'] });
      await store.write(again);
      await store.flush();
      const reopened = await h.reopen!();
      assertSameSpans(await reopened.getTrace(again[0]!.traceId), again);
      assertSameSpans(await reopened.getTrace(fresh[0]!.traceId), fresh);
      assert.deepStrictEqual(await reopened.services(), ['gone', 'kept']);
    } finally {
      await h.cleanup();
    }
  });

  it('refuses to open data of a newer format', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ariadne-embedded-'));
    try {
      await (await EmbeddedStore.open({ dir })).close();
      const db = await DuckDBInstance.create(join(dir, 'ariadne.duckdb'));
      const c = await db.connect();
      await c.run(`UPDATE meta SET value = '99' WHERE key = 'format'`);
      c.closeSync();
      db.closeSync();
      await assert.rejects(EmbeddedStore.open({ dir }), /format 99, written by a newer Ariadne/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects calls after close, and close twice is fine', async () => {
    const h = await harness()();
    const store = h.store;
    await store.write(makeTrace());
    await store.close();
    await store.close();
    await assert.rejects(store.write(makeTrace()), /closed/);
    await assert.rejects(store.getTrace(randomTraceId()), /closed/);
    await h.cleanup().catch(() => {});
  });
});
