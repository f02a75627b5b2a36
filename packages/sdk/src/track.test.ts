import { after, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';
import { context, trace, type Attributes } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, type TimedEvent } from '@opentelemetry/sdk-trace-base';
import { clockLeq, happenedBefore, parseClock, type ClockEntries } from './clock.js';
import { init } from './init.js';
import { extract, inject, withExtracted } from './propagation.js';
import { REDACTED, TRUNCATION_MARK } from './serialize.js';
import { track } from './track.js';

const exporter = new InMemorySpanExporter();
const sdk = init({ serviceName: 'track-unit', exporter, batch: false });
after(() => sdk.shutdown());
beforeEach(() => exporter.reset());

function inSpan<T>(name: string, fn: () => T): T {
  return sdk.tracer.startActiveSpan(name, (span) => {
    try {
      const r = fn();
      if (r instanceof Promise) return r.finally(() => span.end()) as T;
      span.end();
      return r;
    } catch (e) {
      span.end();
      throw e;
    }
  });
}
function events(prefix = 'ariadne.'): TimedEvent[] {
  return exporter
    .getFinishedSpans()
    .flatMap((s) => s.events)
    .filter((e) => e.name.startsWith(prefix))
    .sort((a, b) => a.time[0] - b.time[0] || a.time[1] - b.time[1]);
}
function clockOf(e: TimedEvent): ClockEntries {
  const c = parseClock(String(e.attributes?.['ariadne.clock']));
  assert.ok(c, 'ariadne.clock is valid JSON');
  return c;
}
function attrs(e: TimedEvent): Attributes {
  return e.attributes ?? {};
}
function span(name: string): ReadableSpan {
  const s = exporter.getFinishedSpans().find((x) => x.name === name);
  assert.ok(s, name);
  return s;
}

describe('state events', () => {
  test('write, read and state carry the convention’s attributes', () => {
    inSpan('work', () => {
      track.write('cart.total', 10, 15);
      track.read('cart.total', 15);
      track.state('stock', { old: 3, new: 2, access: 'atomic_rmw', location: 'shop.ts:42' });
    });
    const [w, r, s] = events();
    assert.equal(w.name, 'ariadne.state');
    assert.deepEqual(
      { ...attrs(w), 'ariadne.clock': undefined, 'thread.id': undefined },
      { 'ariadne.variable': 'cart.total', 'ariadne.access': 'write', 'ariadne.old_value': '10', 'ariadne.new_value': '15', 'ariadne.clock': undefined, 'thread.id': undefined },
    );
    assert.equal(attrs(r)['ariadne.access'], 'read');
    assert.equal(attrs(r)['ariadne.new_value'], '15');
    assert.equal(attrs(r)['ariadne.old_value'], undefined);
    assert.equal(attrs(s)['ariadne.access'], 'atomic_rmw');
    assert.equal(attrs(s)['ariadne.location'], 'shop.ts:42');
    for (const e of [w, r, s]) assert.match(String(attrs(e)['thread.id']), new RegExp(`^${threadId}:\\d+$`));
  });

  test('the clock ticks once per event, monotonically', () => {
    inSpan('work', () => {
      for (let i = 0; i < 10; i++) track.write('i', i, i + 1);
    });
    const clocks = events().map(clockOf);
    for (let i = 1; i < clocks.length; i++) assert.ok(happenedBefore(clocks[i - 1], clocks[i]));
    const own = clocks[0][clocks[0].length - 1][0];
    assert.deepEqual(
      clocks.map((c) => new Map(c).get(own)),
      clocks.map((_, i) => new Map(clocks[0]).get(own)! + i),
    );
  });

  test('event times follow program order within a task, even across spans with skewed clocks', () => {
    inSpan('outer', () => {
      track.lock('L').acquire();
      // A span whose clock runs early, as millisecond anchoring can make it (by up to 1 ms): its events get a time 5 ms ago.
      const skewed = sdk.tracer.startSpan('skewed');
      const addEvent = skewed.addEvent.bind(skewed);
      const early: [number, number] = [Math.floor((Date.now() - 5) / 1000), ((Date.now() - 5) % 1000) * 1_000_000];
      skewed.addEvent = (name: string, a?: Attributes) => addEvent(name, a, early);
      context.with(trace.setSpan(context.active(), skewed), () => track.write('guarded', 0, 1));
      skewed.end();
      track.lock('L').release();
    });
    const [acquire, write, release] = ['acquire', 'write', 'release'].map((what) =>
      events().find((e) => attrs(e)['ariadne.lock.op'] === what || attrs(e)['ariadne.access'] === what)!,
    );
    const ns = (e: TimedEvent) => BigInt(e.time[0]) * 1_000_000_000n + BigInt(e.time[1]);
    assert.ok(ns(acquire) < ns(write), 'write after acquire');
    assert.ok(ns(write) < ns(release), 'release after write');
  });

  test('values are JSON, redacted for sensitive variables, truncated when long', () => {
    inSpan('work', () => {
      track.write('user', null, { name: 'ann', password: 'pw', roles: ['a'] });
      track.write('apiToken', 'old-token', 'new-token');
      track.write('blob', '', 'z'.repeat(5000));
    });
    const [u, t, b] = events();
    assert.deepEqual(JSON.parse(String(attrs(u)['ariadne.new_value'])), { name: 'ann', password: REDACTED, roles: ['a'] });
    assert.equal(attrs(u)['ariadne.old_value'], 'null');
    assert.equal(attrs(t)['ariadne.old_value'], JSON.stringify(REDACTED));
    assert.equal(attrs(t)['ariadne.new_value'], JSON.stringify(REDACTED));
    assert.ok(String(attrs(b)['ariadne.new_value']).endsWith(TRUNCATION_MARK));
    assert.equal(attrs(b)['ariadne.new_value_truncated'], true);
  });

  test('with no recording span the event is dropped and counted', () => {
    const before = track.stats();
    track.write('orphan', 1, 2);
    assert.equal(track.stats().dropped, before.dropped + 1);
    assert.equal(events().length, 0);
  });

  test('location is captured when asked', () => {
    track.configure({ captureLocation: true });
    try {
      inSpan('work', () => {
        track.read('x', 1);
        track.lock('l').acquire();
      });
    } finally {
      track.configure({ captureLocation: false });
    }
    for (const e of events()) assert.match(String(attrs(e)['ariadne.location']), /track\.test\.[jt]s:\d+$/);
  });
});

describe('lock events', () => {
  test('acquire and release', () => {
    inSpan('work', () => {
      const l = track.lock('account:1', 'rwlock');
      l.acquire();
      track.write('balance', 1, 2);
      l.release();
    });
    const [a, , r] = events();
    assert.equal(a.name, 'ariadne.lock');
    assert.equal(attrs(a)['ariadne.lock.id'], 'account:1');
    assert.equal(attrs(a)['ariadne.lock.op'], 'acquire');
    assert.equal(attrs(a)['ariadne.lock.type'], 'rwlock');
    assert.equal(attrs(r)['ariadne.lock.op'], 'release');
    assert.ok(happenedBefore(clockOf(a), clockOf(r)));
  });

  test('withLock excludes other holders in this process and records both ends', async () => {
    let inside = 0;
    let maxInside = 0;
    const section = async (): Promise<void> => {
      inside++;
      maxInside = Math.max(maxInside, inside);
      await sleep(5);
      inside--;
    };
    await inSpan('work', () => Promise.all([1, 2, 3].map(() => track.withLock('L', section))));
    assert.equal(maxInside, 1);
    const ops = events().map((e) => attrs(e)['ariadne.lock.op']);
    assert.deepEqual(ops, ['acquire', 'release', 'acquire', 'release', 'acquire', 'release']);
  });

  test('withLock returns the value, releases on error', async () => {
    await inSpan('work', async () => {
      assert.equal(await track.withLock('M', () => 42), 42);
      await assert.rejects(
        track.withLock('M', async () => {
          throw new Error('inside');
        }),
        /inside/,
      );
      assert.equal(await track.withLock('M', () => 'again'), 'again', 'not left locked');
    });
    assert.equal(events().filter((e) => attrs(e)['ariadne.lock.op'] === 'release').length, 3);
  });

  test('exclusive: false only records', async () => {
    let inside = 0;
    let maxInside = 0;
    const section = async (): Promise<void> => {
      inside++;
      maxInside = Math.max(maxInside, inside);
      await sleep(5);
      inside--;
    };
    await inSpan('work', () => Promise.all([1, 2].map(() => track.withLock('R', section, { exclusive: false, type: 'redis' }))));
    assert.equal(maxInside, 2);
    assert.ok(events().every((e) => attrs(e)['ariadne.lock.type'] === 'redis'));
  });
});

describe('async events and tasks', () => {
  test('spawn and await events', () => {
    inSpan('work', () => {
      track.spawn('job-1');
      track.await('job-1');
    });
    const [s, a] = events();
    assert.equal(s.name, 'ariadne.async');
    assert.deepEqual([attrs(s)['ariadne.task.id'], attrs(s)['ariadne.async.op']], ['job-1', 'spawn']);
    assert.deepEqual([attrs(a)['ariadne.task.id'], attrs(a)['ariadne.async.op']], ['job-1', 'await']);
  });

  test('spawn(id, fn) runs a child task; await(id, p) joins its clock', async () => {
    await inSpan('work', async () => {
      track.write('before', 0, 1);
      const p = track.spawn('child', async () => {
        await sleep(2);
        track.write('in-child', 0, 1);
        return 7;
      });
      track.write('parent-meanwhile', 0, 1);
      assert.equal(await track.await('child', p), 7);
      track.write('after', 0, 1);
    });
    const byVar = new Map(events().filter((e) => e.name === 'ariadne.state').map((e) => [String(attrs(e)['ariadne.variable']), e]));
    const spawnEv = events().find((e) => attrs(e)['ariadne.async.op'] === 'spawn')!;
    const awaitEv = events().find((e) => attrs(e)['ariadne.async.op'] === 'await')!;
    const child = byVar.get('in-child')!;
    const meanwhile = byVar.get('parent-meanwhile')!;
    assert.notEqual(attrs(child)['thread.id'], attrs(meanwhile)['thread.id'], 'the child is a task of its own');
    assert.ok(happenedBefore(clockOf(byVar.get('before')!), clockOf(child)));
    assert.ok(happenedBefore(clockOf(spawnEv), clockOf(child)), 'spawn happens before the child');
    assert.ok(!happenedBefore(clockOf(meanwhile), clockOf(child)) && !happenedBefore(clockOf(child), clockOf(meanwhile)), 'parent and child run concurrently');
    assert.ok(happenedBefore(clockOf(child), clockOf(awaitEv)), 'await joins the child');
    assert.ok(happenedBefore(clockOf(child), clockOf(byVar.get('after')!)));
  });

  test('the read-await-write race between two requests is visible: different threads, concurrent clocks', async () => {
    let balance = 100;
    const handle = (incoming: Record<string, string>) =>
      context.with(extract(incoming), () =>
        inSpan('handle', async () => {
          const seen = balance;
          track.read('balance', seen);
          await sleep(5);
          balance = seen - 10;
          track.write('balance', seen, balance);
        }),
      );
    const headers = inSpan('client', () => inject({}));
    await Promise.all([handle({ ...headers }), handle({ ...headers })]);
    const writes = events().filter((e) => attrs(e)['ariadne.access'] === 'write');
    assert.equal(writes.length, 2);
    const [w1, w2] = writes;
    assert.notEqual(attrs(w1)['thread.id'], attrs(w2)['thread.id']);
    assert.ok(!clockLeq(clockOf(w1), clockOf(w2)) && !clockLeq(clockOf(w2), clockOf(w1)), 'neither write happens before the other');
  });

  test('inject/extract carry trace and clock through a job payload', async () => {
    const job = inSpan('produce', () => {
      track.write('queue.length', 0, 1);
      return { id: 'j1', trace: inject() };
    });
    const sent = clockOf(events()[0]);
    exporter.reset();
    await context.with(extract(job.trace), () =>
      inSpan('consume', async () => {
        track.read('queue.length', 1);
      }),
    );
    assert.ok(typeof job.trace.traceparent === 'string' && typeof job.trace['ariadne-clock'] === 'string');
    const consume = span('consume');
    assert.equal(consume.spanContext().traceId, job.trace.traceparent.split('-')[1]);
    assert.equal(consume.parentSpanContext?.spanId, job.trace.traceparent.split('-')[2]);
    assert.ok(happenedBefore(sent, clockOf(events()[0])), 'the consumer’s event happens after the producer’s');
  });

  test('withExtracted: a consumer that awaits each job orders its jobs; extract() alone does not', async () => {
    const jobs = [1, 2].map((n) => inSpan(`produce-${n}`, () => ({ n, trace: inject() })));
    exporter.reset();
    const handle = (job: { n: number }) => inSpan(`consume-${job.n}`, async () => track.write('processed', job.n - 1, job.n));
    await inSpan('worker-loop', async () => {
      for (const job of jobs) await withExtracted(job.trace, () => handle(job));
    });
    // (Found by value: event times in different spans can be out of order by up to a millisecond.)
    const processed = (n: number) => events().find((e) => attrs(e)['ariadne.variable'] === 'processed' && attrs(e)['ariadne.new_value'] === String(n))!;
    const [a, b] = [processed(1), processed(2)];
    assert.ok(happenedBefore(clockOf(a), clockOf(b)), 'sequential jobs are ordered');
    exporter.reset();
    await inSpan('worker-loop', async () => {
      for (const job of jobs) await context.with(extract(job.trace), () => handle(job));
    });
    const [c, d] = [processed(1), processed(2)];
    assert.ok(!happenedBefore(clockOf(c), clockOf(d)), 'without the join they look concurrent');
  });

  test('track.clock() and track.threadId() describe the current task', () => {
    const before = track.clock();
    inSpan('w', () => track.write('x', 0, 1));
    assert.ok(happenedBefore(before, track.clock()));
    assert.match(track.threadId(), /^\d+:\d+$/);
    const active = trace.getActiveSpan();
    assert.equal(active, undefined);
  });
});
