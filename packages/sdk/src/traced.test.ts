import { after, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { AlwaysOffSampler, BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { init } from './init.js';
import { REDACTED, TRUNCATION_MARK } from './serialize.js';
import { traced } from './traced.js';

const exporter = new InMemorySpanExporter();
const sdk = init({ serviceName: 'traced-unit', exporter, batch: false });
after(() => sdk.shutdown());
beforeEach(() => exporter.reset());

function spans(): ReadableSpan[] {
  return exporter.getFinishedSpans();
}
function only(name: string): ReadableSpan {
  const found = spans().filter((s) => s.name === name);
  assert.equal(found.length, 1, `one span named ${name}, got ${spans().map((s) => s.name).join(', ')}`);
  return found[0];
}
function args(s: ReadableSpan): unknown {
  return JSON.parse(String(s.attributes['ariadne.args']));
}

describe('traced(fn)', () => {
  test('a span per call, named after the function, with code.function', () => {
    const add = traced(function add(a: number, b: number) {
      return a + b;
    });
    assert.equal(add(2, 3), 5);
    assert.equal(add(1, 1), 2);
    const s = spans();
    assert.equal(s.length, 2);
    assert.equal(s[0].name, 'add');
    assert.equal(s[0].attributes['code.function'], 'add');
    assert.equal(s[0].attributes['ariadne.args'], undefined, 'arguments are not captured by default');
    assert.equal(s[0].status.code, SpanStatusCode.UNSET);
    assert.equal(add.name, 'add');
    assert.equal(add.length, 2);
  });

  test('name and attributes options', () => {
    const f = traced(() => 1, { name: 'custom', attributes: { 'app.k': 'v' } });
    f();
    const s = only('custom');
    assert.equal(s.attributes['app.k'], 'v');
  });

  test('arguments and result as JSON', () => {
    const f = traced((order: { id: number; items: string[] }, qty: number) => ({ ok: true, total: qty * 2, id: order.id }), {
      name: 'place',
      captureArgs: true,
      captureResult: true,
    });
    f({ id: 7, items: ['a', 'b'] }, 3);
    const s = only('place');
    assert.deepEqual(args(s), [{ id: 7, items: ['a', 'b'] }, 3]);
    assert.deepEqual(JSON.parse(String(s.attributes['ariadne.result'])), { ok: true, total: 6, id: 7 });
  });

  test('sensitive parameters and nested keys are redacted, case-insensitively', () => {
    const login = traced(
      function login(user: string, password: string, opts: object) {
        return { user, session: 'abc', token: 'tok' };
      },
      { captureArgs: true, captureResult: true },
    );
    login('bob', 'hunter2', {
      headers: { Authorization: 'Bearer x', 'X-Api-Key': 'k', cookie: 'c=1', accept: 'json' },
      nested: { deeper: { API_KEY: 'k2', clientSecret: 's', PassWord: 'p', passwd: 'q', note: 'visible' } },
      author: 'Ann',
    });
    const s = only('login');
    assert.deepEqual(args(s), [
      'bob',
      REDACTED,
      {
        headers: { Authorization: REDACTED, 'X-Api-Key': REDACTED, cookie: REDACTED, accept: 'json' },
        nested: { deeper: { API_KEY: REDACTED, clientSecret: REDACTED, PassWord: REDACTED, passwd: REDACTED, note: 'visible' } },
        author: 'Ann',
      },
    ]);
    assert.deepEqual(JSON.parse(String(s.attributes['ariadne.result'])), { user: 'bob', session: REDACTED, token: REDACTED });
    const text = JSON.stringify(s.attributes);
    for (const secret of ['hunter2', 'Bearer x', 'tok"', 'k2', '"abc"']) assert.ok(!text.includes(secret), `${secret} leaked`);
  });

  test('argNames override parsing (for wrapped or minified functions)', () => {
    const f = traced((...xs: unknown[]) => xs.length, { name: 'rest', captureArgs: true, argNames: ['user', 'apiToken'] });
    f('u', 't');
    assert.deepEqual(args(only('rest')), ['u', REDACTED]);
  });

  test('large arguments and results are truncated and marked', () => {
    const big = 'x'.repeat(100_000);
    const many = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i]));
    const f = traced((s: string, o: object) => big, { name: 'big', captureArgs: true, captureResult: true, maxLength: 200 });
    const t0 = performance.now();
    f(big, many);
    assert.ok(performance.now() - t0 < 200, 'bounded work');
    const s = only('big');
    const a = String(s.attributes['ariadne.args']);
    const r = String(s.attributes['ariadne.result']);
    assert.ok(a.length <= 201 && a.endsWith(TRUNCATION_MARK), a.slice(-20));
    assert.ok(r.length <= 201 && r.endsWith(TRUNCATION_MARK));
    assert.equal(s.attributes['ariadne.args_truncated'], true);
    assert.equal(s.attributes['ariadne.result_truncated'], true);
  });

  test('odd values: cycles, BigInt, functions, Map, Set, Date, Error, buffers', () => {
    const cyclic: Record<string, unknown> = { name: 'c' };
    cyclic.self = cyclic;
    const f = traced((..._xs: unknown[]) => undefined, { name: 'odd', captureArgs: true, captureResult: true });
    f(cyclic, 10n, function cb() {}, new Map([['a', 1]]), new Set([1, 2]), new Date(0), new TypeError('bad'), Buffer.from('abc'), undefined, NaN);
    const s = only('odd');
    assert.deepEqual(args(s), [
      { name: 'c', self: '[Circular]' },
      '10',
      '[Function cb]',
      [['a', 1]],
      [1, 2],
      '1970-01-01T00:00:00.000Z',
      { name: 'TypeError', message: 'bad' },
      '[Buffer(3)]',
      null,
      null,
    ]);
    assert.equal(s.attributes['ariadne.result'], 'null');
  });

  test('`this` is passed through', () => {
    const obj = {
      factor: 3,
      times: traced(function times(this: { factor: number }, x: number) {
        return x * this.factor;
      }),
    };
    assert.equal(obj.times(2), 6);
  });

  test('a thrown error is recorded, sets ERROR and is re-thrown unchanged', () => {
    const err = new RangeError('out of range');
    const f = traced(function boom() {
      throw err;
    });
    assert.throws(() => f(), (e) => e === err);
    const s = only('boom');
    assert.equal(s.status.code, SpanStatusCode.ERROR);
    assert.equal(s.status.message, 'out of range');
    const ev = s.events.find((e) => e.name === 'exception');
    assert.equal(ev?.attributes?.['exception.type'], 'RangeError');
    assert.equal(ev?.attributes?.['exception.message'], 'out of range');
    assert.ok(String(ev?.attributes?.['exception.stacktrace']).includes('out of range'));
    assert.ok(s.endTime[0] > 0, 'span ended');
  });

  test('a thrown non-Error is recorded too', () => {
    const f = traced(function weird() {
      throw 'just a string';
    });
    assert.throws(() => f(), (e) => e === 'just a string');
    const s = only('weird');
    assert.equal(s.status.code, SpanStatusCode.ERROR);
    assert.equal(s.status.message, 'just a string');
    assert.ok(s.events.some((e) => e.name === 'exception'));
  });

  test('async: the span lasts until the promise settles', async () => {
    const f = traced(
      async function slow(ms: number) {
        await sleep(ms);
        return { waited: ms };
      },
      { captureResult: true },
    );
    const p = f(30);
    assert.equal(spans().length, 0, 'not ended before it settles');
    assert.deepEqual(await p, { waited: 30 });
    const s = only('slow');
    assert.deepEqual(JSON.parse(String(s.attributes['ariadne.result'])), { waited: 30 });
    const ms = (s.duration[0] * 1e9 + s.duration[1]) / 1e6;
    assert.ok(ms >= 25, `duration ${ms} ms`);
  });

  test('async: a rejection is recorded and re-thrown', async () => {
    const f = traced(async function fails() {
      await sleep(1);
      throw new Error('nope');
    });
    await assert.rejects(f(), /nope/);
    const s = only('fails');
    assert.equal(s.status.code, SpanStatusCode.ERROR);
    assert.ok(s.events.some((e) => e.name === 'exception' && e.attributes?.['exception.message'] === 'nope'));
  });

  test('the span is the active context inside the call, across await', async () => {
    const seen: Record<string, string | undefined> = {};
    const inner = traced(async function inner() {
      seen.innerBefore = trace.getActiveSpan()?.spanContext().spanId;
      await sleep(5);
      seen.innerAfter = trace.getActiveSpan()?.spanContext().spanId;
    });
    const outer = traced(async function outer() {
      seen.outerBefore = trace.getActiveSpan()?.spanContext().spanId;
      await sleep(5);
      await inner();
      await new Promise((r) => setImmediate(r));
      seen.outerAfter = trace.getActiveSpan()?.spanContext().spanId;
    });
    await outer();
    assert.equal(trace.getActiveSpan(), undefined, 'restored afterwards');
    const o = only('outer');
    const i = only('inner');
    assert.equal(seen.outerBefore, o.spanContext().spanId);
    assert.equal(seen.outerAfter, o.spanContext().spanId);
    assert.equal(seen.innerBefore, i.spanContext().spanId);
    assert.equal(seen.innerAfter, i.spanContext().spanId);
    assert.equal(i.parentSpanContext?.spanId, o.spanContext().spanId);
    assert.equal(i.spanContext().traceId, o.spanContext().traceId);
  });

  test('concurrent calls keep their own context', async () => {
    const child = traced(async function child(tag: string) {
      await sleep(Math.random() * 10);
      return tag;
    });
    const parent = traced(async function parent(tag: string) {
      await sleep(Math.random() * 10);
      return child(tag);
    });
    await Promise.all(['a', 'b', 'c', 'd'].map((t) => parent(t)));
    const parents = spans().filter((s) => s.name === 'parent');
    const children = spans().filter((s) => s.name === 'child');
    assert.equal(parents.length, 4);
    assert.equal(children.length, 4);
    for (const c of children) {
      const p = parents.find((x) => x.spanContext().spanId === c.parentSpanContext?.spanId);
      assert.ok(p, 'each child has its own parent');
      assert.equal(p.spanContext().traceId, c.spanContext().traceId);
    }
    assert.equal(new Set(parents.map((p) => p.spanContext().traceId)).size, 4, 'four separate traces');
  });

  test('nothing is serialized when the span is not sampled', () => {
    const provider = new BasicTracerProvider({ sampler: new AlwaysOffSampler(), spanProcessors: [new SimpleSpanProcessor(exporter)] });
    let touched = 0;
    const arg = {
      get expensive() {
        touched++;
        return 1;
      },
    };
    const f = traced((_x: unknown) => 1, { captureArgs: true, captureResult: true, tracer: provider.getTracer('off') });
    assert.equal(f(arg), 1);
    assert.equal(touched, 0);
    assert.equal(spans().length, 0);
  });
});

describe('@traced decorator (TC39)', () => {
  class Inventory {
    constructor(private stock: number) {}

    @traced
    available(): number {
      return this.stock;
    }

    @traced({ captureArgs: true, captureResult: true })
    reserve(sku: string, qty: number): { sku: string; left: number } {
      if (qty > this.stock) throw new Error(`only ${this.stock} left`);
      this.stock -= qty;
      return { sku, left: this.stock };
    }

    @traced({ name: 'inventory.restock', captureArgs: true })
    async restock(qty: number, apiToken: string): Promise<number> {
      await sleep(5);
      this.stock += qty;
      return this.stock;
    }

    @traced()
    static create(): Inventory {
      return new Inventory(10);
    }
  }
  class ColdStore extends Inventory {}

  test('method spans are named Class.method, with code.function', () => {
    const inv = Inventory.create();
    assert.equal(inv.available(), 10);
    const s = only('Inventory.available');
    assert.equal(s.attributes['code.function'], 'available');
    assert.ok(only('Inventory.create'));
  });

  test('a subclass instance shows its own class', () => {
    new ColdStore(1).available();
    assert.ok(only('ColdStore.available'));
  });

  test('arguments, result and exceptions', () => {
    const inv = new Inventory(5);
    assert.deepEqual(inv.reserve('sku-1', 2), { sku: 'sku-1', left: 3 });
    assert.throws(() => inv.reserve('sku-1', 99), /only 3 left/);
    const [ok, failed] = spans().filter((s) => s.name === 'Inventory.reserve');
    assert.deepEqual(args(ok), ['sku-1', 2]);
    assert.deepEqual(JSON.parse(String(ok.attributes['ariadne.result'])), { sku: 'sku-1', left: 3 });
    assert.equal(ok.status.code, SpanStatusCode.UNSET);
    assert.equal(failed.status.code, SpanStatusCode.ERROR);
    assert.equal(failed.status.message, 'only 3 left');
    assert.equal(failed.attributes['ariadne.result'], undefined);
  });

  test('async method with a custom name and a redacted parameter', async () => {
    const inv = new Inventory(1);
    assert.equal(await inv.restock(4, 'secret-token'), 5);
    const s = only('inventory.restock');
    assert.deepEqual(args(s), [4, REDACTED]);
  });

  test('nested decorated calls form a tree across await', async () => {
    class Shop {
      inv = new Inventory(3);
      @traced
      async checkout(): Promise<number> {
        await sleep(2);
        this.inv.reserve('a', 1);
        return this.inv.restock(1, 't');
      }
    }
    await new Shop().checkout();
    const root = only('Shop.checkout');
    for (const name of ['Inventory.reserve', 'inventory.restock']) {
      assert.equal(only(name).parentSpanContext?.spanId, root.spanContext().spanId, name);
    }
  });
});
