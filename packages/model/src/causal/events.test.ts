/// <reference types="node" />
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { at, lockEv, asyncEv, mkSpans, spanIdOf, stateEv, traceIdOf } from './fixtures.js';
import { assignLockSets, extractCausalEvents, parseAccessKind, spanTopology, type RawCausalEvent } from './events.js';
import { historyToSpans, simulateHistory } from './simulate.js';

describe('extractCausalEvents', () => {
  it('reads the convention: state, lock and async events with clock and thread', () => {
    const [span] = mkSpans([
      {
        id: 's1',
        parent: 'p',
        service: 'cart',
        instance: 'pod-1',
        start: 0,
        events: [
          stateEv(1, 'worker-1', [['cart#pod-1', 1]], 'cart.total', 'read', { old: '10', new: '10', location: 'cart.ts:12' }),
          lockEv(2, 'worker-1', [['cart#pod-1', 2]], 'cart-lock', 'acquire'),
          asyncEv(3, 'worker-1', [['cart#pod-1', 3]], 'task-9', 'spawn'),
          { name: 'log', time: 4, attrs: [] },
        ],
      },
    ]);
    const evs = extractCausalEvents([span!]);
    assert.equal(evs.length, 3);
    const [s, l, a] = evs;
    assert.equal(s!.kind, 'state');
    assert.equal(s!.traceId, traceIdOf('a1'));
    assert.equal(s!.spanId, spanIdOf('s1'));
    assert.equal(s!.parentSpanId, spanIdOf('p'));
    assert.equal(s!.spanStartUnixNano, at(0));
    assert.equal(s!.service, 'cart');
    assert.equal(s!.instance, 'pod-1');
    assert.equal(s!.threadId, 'worker-1');
    assert.equal(s!.timeUnixNano, at(1));
    assert.deepEqual(s!.clock, [['cart#pod-1', 1]]);
    assert.equal(s!.variable, 'cart.total');
    assert.equal(s!.access, 'read');
    assert.equal(s!.oldValue, '10');
    assert.equal(s!.location, 'cart.ts:12');
    assert.deepEqual(s!.locks, []);
    assert.equal(l!.kind, 'lock');
    assert.equal(l!.lockId, 'cart-lock');
    assert.equal(l!.lockOp, 'acquire');
    assert.equal(l!.lockType, 'Mutex');
    assert.equal(a!.kind, 'async');
    assert.equal(a!.taskId, 'task-9');
    assert.equal(a!.asyncOp, 'spawn');
  });

  it('falls back to the span thread, then to the span itself; skips broken events', () => {
    const spans = mkSpans([
      { id: 'a', service: 's', start: 0, thread: 'main', events: [stateEv(1, undefined, undefined, 'x', 'write')] },
      {
        id: 'b',
        service: 's',
        start: 0,
        events: [
          stateEv(1, undefined, undefined, 'x', 'write'),
          { name: 'ariadne.state', time: 2, attrs: [{ key: 'ariadne.access', value: { stringValue: 'write' } }] },
          { name: 'ariadne.state', time: 2, attrs: [{ key: 'ariadne.variable', value: { stringValue: 'x' } }, { key: 'ariadne.access', value: { stringValue: 'poke' } }] },
          { name: 'ariadne.lock', time: 3, attrs: [{ key: 'ariadne.lock.id', value: { stringValue: 'm' } }, { key: 'ariadne.lock.op', value: { stringValue: 'grab' } }] },
          stateEv(4, 'w', [['bad', -1]] as never, 'x', 'read'),
        ],
      },
    ]);
    const evs = extractCausalEvents(spans);
    assert.deepEqual(
      evs.map((e) => [e.threadId, e.clock]),
      [
        ['main', undefined],
        [`span:${spanIdOf('b')}`, undefined],
        ['w', undefined], // a malformed clock counts as absent
      ],
    );
  });

  it('reads access kinds in both spellings', () => {
    assert.equal(parseAccessKind('AtomicRMW'), 'atomic_rmw');
    assert.equal(parseAccessKind('atomic_read'), 'atomic_read');
    assert.equal(parseAccessKind('Write'), 'write');
    assert.equal(parseAccessKind('rmw'), undefined);
  });

  it('round-trips simulated histories through spans', () => {
    const { events } = simulateHistory({ seed: 5, steps: 300, traces: 3 });
    const back = extractCausalEvents(historyToSpans(events));
    const key = (e: (typeof events)[number]) => `${e.timeUnixNano}|${e.service}|${e.threadId}|${JSON.stringify(e.clock)}`;
    assert.deepEqual(back.map(key).sort(), events.map(key).sort());
    const byKey = new Map(events.map((e) => [key(e), e]));
    for (const e of back) assert.deepEqual(e, byKey.get(key(e)));
  });
});

describe('lock sets', () => {
  const base = (time: number, thread: string, extra: Partial<RawCausalEvent>): RawCausalEvent => ({
    kind: 'state',
    traceId: 't',
    spanId: 's',
    parentSpanId: '',
    spanStartUnixNano: 0n,
    service: 'svc',
    threadId: thread,
    timeUnixNano: BigInt(time),
    ...extra,
  });
  const acq = (t: number, th: string, id: string, type = 'Mutex') => base(t, th, { kind: 'lock', lockId: id, lockOp: 'acquire', lockType: type });
  const rel = (t: number, th: string, id: string) => base(t, th, { kind: 'lock', lockId: id, lockOp: 'release' });
  const acc = (t: number, th: string, extra: Partial<RawCausalEvent> = {}) => base(t, th, { variable: 'x', access: 'write', ...extra });

  it('are the locks acquired and not yet released by the same thread', () => {
    const evs = assignLockSets([
      acq(1, 'A', 'm'),
      acq(2, 'A', 'n', 'RwLock::Read'),
      acc(3, 'A'),
      acc(3, 'B'), // other thread: holds nothing
      acq(4, 'A', 'm'), // re-entrant
      rel(5, 'A', 'm'),
      acc(6, 'A'),
      rel(7, 'A', 'm'),
      rel(8, 'A', 'n'),
      acc(9, 'A', { declaredLocks: ['z'] }),
      rel(10, 'B', 'q'), // release of a lock never acquired: ignored
      acc(11, 'B'),
    ]);
    const locks = evs.map((e) => e.locks.map((l) => (l.shared ? `${l.id}(r)` : l.id)).join(','));
    assert.deepEqual(locks, ['', 'm', 'm,n(r)', '', 'm,n(r)', 'm,n(r)', 'm,n(r)', 'm,n(r)', 'n(r)', 'z', '', '']);
  });

  it('follow thread order by time, not input order', () => {
    const evs = assignLockSets([acc(5, 'A'), acq(1, 'A', 'm'), rel(9, 'A', 'm')]);
    assert.deepEqual(evs[0]!.locks, [{ id: 'm', shared: false }]);
  });
});

describe('spanTopology', () => {
  it('keys spans by trace and span id', () => {
    const spans = mkSpans([{ id: 'c', parent: 'p', service: 's', start: 5, events: [] }]);
    assert.deepEqual([...spanTopology(spans)], [[`${traceIdOf('a1')}/${spanIdOf('c')}`, { parentSpanId: spanIdOf('p'), startTimeUnixNano: at(5) }]]);
  });
});
