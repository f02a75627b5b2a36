import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultTextMapGetter, defaultTextMapSetter, propagation, ROOT_CONTEXT, trace, TraceFlags, type Context } from '@opentelemetry/api';
import { CompositePropagator, suppressTracing, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { ARIADNE_CLOCK_HEADER, AriadneClockPropagator, decodeClockHeader, encodeClockHeader, mergeClock, RACEWAY_CLOCK_HEADER } from './clock-propagator.js';
import { CLOCK_KEY, clockLeq, happenedBefore, MAX_CLOCK_COMPONENTS, parseClock, Task, taskOf, type ClockEntries } from './clock.js';

const clockProp = new AriadneClockPropagator();
const TID = '0af7651916cd43dd8448eb211c80319c';
const SID = 'b7ad6b7169203331';

function injected(ctx: Context, p = clockProp): Record<string, string> {
  const carrier: Record<string, string> = {};
  p.inject(ctx, carrier, defaultTextMapSetter);
  return carrier;
}

function asMap(e: ClockEntries): Map<string, number> {
  return new Map(e);
}

/** Deterministic PRNG (mulberry32) for the randomized merge checks. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('header encoding', () => {
  test('round trip', () => {
    const payload = { trace_id: TID, span_id: SID, service: 'a', instance: 'i1', clock: [['a#i1/0:1', 3], ['b#i2/0:4', 7]] as ClockEntries };
    const header = encodeClockHeader(payload);
    assert.match(header, /^v1;[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeClockHeader(header), payload);
  });

  test('the layout is v1; + base64url(JSON)', () => {
    const header = encodeClockHeader({ service: 's', instance: 'i', clock: [['s#i', 1]] });
    const json = JSON.parse(Buffer.from(header.slice(3), 'base64url').toString('utf8'));
    assert.deepEqual(json, { service: 's', instance: 'i', clock: [['s#i', 1]] });
  });

  const malformed: Array<[string, string]> = [
    ['wrong version', 'v2;' + Buffer.from('{"clock":[["a",1]]}').toString('base64url')],
    ['no prefix', Buffer.from('{"clock":[["a",1]]}').toString('base64url')],
    ['not base64url', 'v1;!!!not-base64!!!'],
    ['not JSON', 'v1;' + Buffer.from('clock=1').toString('base64url')],
    ['JSON but not an object', 'v1;' + Buffer.from('[1,2]').toString('base64url')],
    ['clock missing', 'v1;' + Buffer.from('{"service":"a"}').toString('base64url')],
    ['clock not an array', 'v1;' + Buffer.from('{"clock":{"a":1}}').toString('base64url')],
    ['far too long', 'v1;' + 'A'.repeat(20_000)],
    ['empty', ''],
  ];
  for (const [what, value] of malformed) {
    test(`malformed header is ignored: ${what}`, () => {
      assert.equal(decodeClockHeader(value), undefined);
      const ctx = clockProp.extract(ROOT_CONTEXT, { [ARIADNE_CLOCK_HEADER]: value }, defaultTextMapGetter);
      const task = ctx.getValue(CLOCK_KEY) as Task;
      assert.ok(task instanceof Task, 'extract still starts a new task');
      assert.ok(task.entries().every(([c]) => !c.startsWith('a')), 'nothing merged from the bad header');
    });
  }

  test('bad entries are skipped, good ones kept', () => {
    const clock = [['ok', 2], ['neg', -1], ['float', 1.5], [3, 4], ['str', '5'], ['three', 1, 2], 'x', ['big', 2 ** 60]];
    const p = decodeClockHeader('v1;' + Buffer.from(JSON.stringify({ clock })).toString('base64url'));
    assert.deepEqual(p?.clock, [['ok', 2]]);
  });
});

describe('AriadneClockPropagator', () => {
  test('inject ticks the sender and writes its clock', () => {
    const ctx = ROOT_CONTEXT.setValue(CLOCK_KEY, new Task({ service: 'front', instance: 'f1' }));
    const task = taskOf(ctx);
    const first = decodeClockHeader(injected(ctx)[ARIADNE_CLOCK_HEADER])!;
    const second = decodeClockHeader(injected(ctx)[ARIADNE_CLOCK_HEADER])!;
    assert.equal(first.service, 'front');
    assert.equal(first.instance, 'f1');
    assert.equal(asMap(first.clock).get(task.component), 1);
    assert.equal(asMap(second.clock).get(task.component), 2);
    assert.ok(happenedBefore(first.clock, second.clock));
  });

  test('inject carries trace and span id when there is a span', () => {
    const sc = { traceId: TID, spanId: SID, traceFlags: TraceFlags.SAMPLED };
    const ctx = trace.setSpanContext(ROOT_CONTEXT.setValue(CLOCK_KEY, new Task({ service: 's', instance: 'i' })), sc);
    const p = decodeClockHeader(injected(ctx)[ARIADNE_CLOCK_HEADER])!;
    assert.equal(p.trace_id, TID);
    assert.equal(p.span_id, SID);
  });

  test('extract merges the incoming clock into a new task (round trip)', () => {
    const sender = ROOT_CONTEXT.setValue(CLOCK_KEY, new Task({ service: 'front', instance: 'f1' }));
    taskOf(sender).tick();
    taskOf(sender).tick();
    const carrier = injected(sender);
    const sent = decodeClockHeader(carrier[ARIADNE_CLOCK_HEADER])!.clock;
    const received = clockProp.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
    const task = taskOf(received);
    assert.notEqual(task.component, taskOf(sender).component, 'the receiver is a task of its own');
    assert.ok(clockLeq(sent, task.entries()), 'receiver clock ≥ sender clock');
    task.tick();
    assert.ok(happenedBefore(sent, task.entries()), 'the receiver’s next event happens after the send');
  });

  test('a chain of hops keeps every earlier component', () => {
    let ctx: Context = ROOT_CONTEXT.setValue(CLOCK_KEY, new Task({ service: 'a', instance: '1' }));
    const seen: ClockEntries[] = [];
    for (let hop = 0; hop < 5; hop++) {
      taskOf(ctx).tick();
      const carrier = injected(ctx);
      seen.push(decodeClockHeader(carrier[ARIADNE_CLOCK_HEADER])!.clock);
      ctx = clockProp.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
    }
    const last = taskOf(ctx).entries();
    for (const c of seen) assert.ok(clockLeq(c, last));
    for (let i = 1; i < seen.length; i++) assert.ok(happenedBefore(seen[i - 1], seen[i]));
  });

  test('reads raceway-clock, and merges it with ariadne-clock', () => {
    const raceway = encodeClockHeader({ trace_id: '0af76519-16cd-43dd-8448-eb211c80319c', span_id: SID, service: 'py', instance: 'p1', clock: [['py#p1', 9]] });
    const ours = encodeClockHeader({ service: 'ts', instance: 't1', clock: [['ts#t1', 4], ['py#p1', 2]] });
    const onlyRaceway = taskOf(clockProp.extract(ROOT_CONTEXT, { [RACEWAY_CLOCK_HEADER]: raceway }, defaultTextMapGetter));
    assert.equal(onlyRaceway.get('py#p1'), 9);
    const both = taskOf(clockProp.extract(ROOT_CONTEXT, { [RACEWAY_CLOCK_HEADER]: raceway, [ARIADNE_CLOCK_HEADER]: ours }, defaultTextMapGetter));
    assert.equal(both.get('py#p1'), 9);
    assert.equal(both.get('ts#t1'), 4);
  });

  test('writes raceway-clock too when asked', () => {
    const p = new AriadneClockPropagator({ raceway: true });
    const carrier = injected(ROOT_CONTEXT.setValue(CLOCK_KEY, new Task({ service: 's', instance: 'i' })), p);
    assert.ok(carrier[RACEWAY_CLOCK_HEADER]);
    assert.deepEqual(p.fields(), [ARIADNE_CLOCK_HEADER, RACEWAY_CLOCK_HEADER]);
    assert.deepEqual(clockProp.fields(), [ARIADNE_CLOCK_HEADER]);
  });

  test('nothing is injected when tracing is suppressed (exporter requests)', () => {
    const ctx = suppressTracing(ROOT_CONTEXT.setValue(CLOCK_KEY, new Task({ service: 's', instance: 'i' })));
    assert.deepEqual(injected(ctx), {});
  });

  test('a new task starts after the task it was extracted in', () => {
    const worker = ROOT_CONTEXT.setValue(CLOCK_KEY, new Task({ service: 'w', instance: '1' }));
    taskOf(worker).tick();
    const before = taskOf(worker).entries();
    const job = clockProp.extract(worker, {}, defaultTextMapGetter);
    assert.ok(clockLeq(before, taskOf(job).entries()));
    assert.notEqual(taskOf(job), taskOf(worker));
  });

  test('mergeClock folds a reply’s clock into the current task', () => {
    const ctx = ROOT_CONTEXT.setValue(CLOCK_KEY, new Task({ service: 's', instance: 'i' }));
    assert.equal(mergeClock(encodeClockHeader({ clock: [['remote#1/0:1', 5]] }), ctx), true);
    assert.equal(taskOf(ctx).get('remote#1/0:1'), 5);
    assert.equal(mergeClock('garbage', ctx), false);
    assert.equal(mergeClock(undefined, ctx), false);
  });

  test('composes with W3C trace context and baggage', () => {
    const composite = new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator(), clockProp] });
    let ctx: Context = trace.setSpanContext(ROOT_CONTEXT, { traceId: TID, spanId: SID, traceFlags: TraceFlags.SAMPLED });
    ctx = propagation.setBaggage(ctx, propagation.createBaggage({ tenant: { value: 'acme' } }));
    ctx = ctx.setValue(CLOCK_KEY, new Task({ service: 's', instance: 'i' }));
    const carrier: Record<string, string> = {};
    composite.inject(ctx, carrier, defaultTextMapSetter);
    assert.deepEqual(Object.keys(carrier).sort(), ['ariadne-clock', 'baggage', 'traceparent']);
    const out = composite.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
    assert.equal(trace.getSpanContext(out)?.traceId, TID);
    assert.equal(propagation.getBaggage(out)?.getEntry('tenant')?.value, 'acme');
    assert.ok(clockLeq(decodeClockHeader(carrier['ariadne-clock'])!.clock, taskOf(out).entries()));
  });
});

describe('Task clocks', () => {
  test('json() is the JSON of entries(), through merges and ticks', () => {
    const t = new Task({ service: 'svc "quoted"', instance: 'i' });
    assert.equal(t.json(), JSON.stringify(t.entries()));
    t.tick();
    t.merge([['x', 3], ['y', 1]]);
    assert.equal(t.json(), JSON.stringify(t.entries()));
    t.merge([['x', 2], ['y', 5]]);
    t.tick();
    assert.equal(t.json(), JSON.stringify(t.entries()));
    assert.deepEqual(parseClock(t.json()), t.entries());
    assert.equal(t.get('x'), 3);
    assert.equal(t.get('y'), 5);
  });

  test('merge is a component-wise max: monotone, idempotent, order-free (randomized)', () => {
    const next = rng(42);
    const components = ['a', 'b', 'c', 'd', 'e', 'f'];
    const randomClock = (): ClockEntries => components.filter(() => next() < 0.6).map((c) => [c, Math.floor(next() * 20)]);
    for (let i = 0; i < 500; i++) {
      const x = randomClock();
      const y = randomClock();
      const t1 = new Task({ service: 's', instance: String(i) });
      t1.merge(x);
      const before = t1.entries();
      t1.merge(y);
      const after = t1.entries();
      assert.ok(clockLeq(before, after), 'never decreases');
      assert.ok(clockLeq(x, after) && clockLeq(y, after), 'dominates both inputs');
      const t2 = new Task({ service: 's', instance: String(i) });
      t2.merge(y);
      t2.merge(x);
      const strip = (e: ClockEntries) => e.filter(([c]) => components.includes(c)).sort();
      assert.deepEqual(strip(after), strip(t2.entries()), 'commutative');
      t1.merge(y);
      assert.deepEqual(t1.entries(), after, 'idempotent');
      for (const [c, v] of after) {
        if (!components.includes(c)) continue;
        assert.equal(v, Math.max(asMap(x).get(c) ?? 0, asMap(y).get(c) ?? 0), 'exactly the max');
      }
    }
  });

  test('fork: the child starts after the parent, its own component apart', () => {
    const parent = new Task({ service: 's', instance: 'i' });
    parent.tick();
    const child = parent.fork();
    assert.notEqual(child.component, parent.component);
    assert.notEqual(child.thread, parent.thread);
    assert.ok(clockLeq(parent.entries(), child.entries()));
    parent.tick();
    child.tick();
    assert.ok(!happenedBefore(parent.entries(), child.entries()) && !happenedBefore(child.entries(), parent.entries()), 'concurrent after the fork');
  });

  test('components are bounded', () => {
    const t = new Task({ service: 's', instance: 'i' });
    t.merge(Array.from({ length: MAX_CLOCK_COMPONENTS + 50 }, (_, i) => [`c${i}`, 1] as [string, number]));
    assert.equal(t.entries().length, MAX_CLOCK_COMPONENTS + 1);
  });

  test('component and thread.id layout', () => {
    const t = new Task({ service: 'checkout', instance: 'abc' });
    assert.match(t.thread, /^\d+:\d+$/);
    assert.equal(t.component, `checkout#abc/${t.thread}`);
  });
});
