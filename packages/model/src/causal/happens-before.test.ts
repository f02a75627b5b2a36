/// <reference types="node" />
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkSpans, stateEv } from './fixtures.js';
import { extractCausalEvents, spanTopology } from './events.js';
import { buildCausalOrder } from './happens-before.js';
import { simulateHistory } from './simulate.js';

describe('happens-before', () => {
  it('follows vector clocks across services, and program order inside a thread', () => {
    const events = extractCausalEvents(
      mkSpans([
        {
          id: 'a',
          service: 'a',
          instance: '1',
          start: 0,
          events: [stateEv(1, 't', [['a#1', 1]], 'x', 'write'), stateEv(2, 't', [['a#1', 2]], 'x', 'write')],
        },
        { id: 'b', service: 'b', instance: '1', start: 0, events: [stateEv(3, 't', [['a#1', 1], ['b#1', 1]], 'x', 'read')] },
        { id: 'c', service: 'c', instance: '1', start: 0, events: [stateEv(0.5, 't', [['c#1', 1]], 'x', 'read')] },
      ]),
    );
    const o = buildCausalOrder(events);
    assert.equal(o.relation(0, 1), 'before'); // same thread
    assert.equal(o.relation(0, 2), 'before'); // a#1:1 ≤ b's clock
    assert.equal(o.relation(1, 2), 'concurrent'); // a#1:2 is not in b's clock
    assert.equal(o.relation(3, 0), 'concurrent');
    assert.equal(o.relation(2, 0), 'after');
    assert.equal(o.relation(2, 2), 'same');
    // Processing order is a linear extension.
    for (let i = 0; i < events.length; i++) for (let j = 0; j < events.length; j++) if (o.happensBefore(i, j)) assert.ok(o.rank[i]! < o.rank[j]!);
  });

  it('treats equal clocks on different threads as concurrent, on one thread as ordered', () => {
    const events = extractCausalEvents(
      mkSpans([
        { id: 'a', service: 'py', instance: '1', start: 0, events: [stateEv(1, 'ctx-1', [['py#1', 2]], 'x', 'write')] },
        { id: 'b', service: 'py', instance: '1', start: 0, events: [stateEv(1, 'ctx-2', [['py#1', 2]], 'x', 'write'), stateEv(2, 'ctx-2', [['py#1', 2]], 'x', 'write')] },
      ]),
    );
    const o = buildCausalOrder(events);
    assert.equal(o.relation(0, 1), 'concurrent');
    assert.equal(o.relation(1, 2), 'before');
  });

  it('places an event without a clock at the logical time of its thread', () => {
    const events = extractCausalEvents(
      mkSpans([
        {
          id: 'a',
          service: 'a',
          start: 0,
          events: [stateEv(1, 't', undefined, 'x', 'write'), stateEv(2, 't', [['a#1', 1]], 'x', 'write'), stateEv(3, 't', undefined, 'x', 'write')],
        },
        { id: 'b', service: 'b', start: 0, events: [stateEv(4, 'u', [['a#1', 1], ['b#1', 1]], 'x', 'read')] },
      ]),
    );
    const o = buildCausalOrder(events);
    assert.deepEqual(o.effectiveClock(0), [['a#1', 1]]);
    assert.deepEqual(o.effectiveClock(2), [['a#1', 1]]);
    assert.equal(o.relation(0, 3), 'before');
    assert.equal(o.relation(2, 3), 'before'); // assumed: not later than the last clocked event
  });

  it('without clocks, orders by span parentage: a parent before the children it forks', () => {
    // root (thread main) writes x, then forks two children on worker threads;
    // it writes x again after they started.
    const spans = mkSpans([
      { id: 'root', service: 'svc', start: 0, end: 100, events: [stateEv(1, 'main', undefined, 'x', 'write'), stateEv(50, 'main', undefined, 'x', 'write')] },
      { id: 'mid', parent: 'root', service: 'svc', start: 10, end: 90, events: [] }, // no events of its own
      { id: 'c1', parent: 'mid', service: 'svc', start: 20, events: [stateEv(30, 'w1', undefined, 'x', 'write')] },
      { id: 'c2', parent: 'mid', service: 'svc', start: 20, events: [stateEv(31, 'w2', undefined, 'x', 'read')] },
    ]);
    const events = extractCausalEvents(spans);
    const o = buildCausalOrder(events, { topology: spanTopology(spans) });
    const idx = (time: number) => events.findIndex((e) => e.timeUnixNano === spans[0]!.startTimeUnixNano + BigInt(time * 1e6));
    assert.equal(o.relation(idx(1), idx(30)), 'before'); // through the event-less span 'mid'
    assert.equal(o.relation(idx(1), idx(31)), 'before');
    assert.equal(o.relation(idx(30), idx(31)), 'concurrent'); // siblings
    assert.equal(o.relation(idx(50), idx(30)), 'concurrent'); // the parent after the fork
    // Without the topology the chain through 'mid' is unknown.
    const bare = buildCausalOrder(events);
    assert.equal(bare.relation(idx(1), idx(30)), 'concurrent');
  });

  it('survives a parent cycle and parents that never existed', () => {
    const spans = mkSpans([
      { id: 'x', parent: 'y', service: 's', start: 0, events: [stateEv(1, 't1', undefined, 'v', 'write')] },
      { id: 'y', parent: 'x', service: 's', start: 0, events: [stateEv(2, 't2', undefined, 'v', 'write')] },
      { id: 'z', parent: 'nobody', service: 's', start: 0, events: [stateEv(3, 't3', undefined, 'v', 'write')] },
    ]);
    const events = extractCausalEvents(spans);
    const o = buildCausalOrder(events, { topology: spanTopology(spans) });
    assert.equal(o.order.length, 3);
  });

  it('equals the true happens-before of simulated histories (clocks per thread)', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const sim = simulateHistory({ seed, steps: 250, processes: 1 + (seed % 4), threadsPerProcess: 1 + (seed % 3), traces: 1 + (seed % 3), truth: true });
      const o = buildCausalOrder(sim.events);
      const n = sim.events.length;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (o.happensBefore(i, j) !== sim.happensBefore!(i, j)) assert.fail(`seed ${seed}: events ${i}, ${j}: got ${o.happensBefore(i, j)}`);
        }
        if (i > 0) assert.ok(!o.happensBefore(o.order[i]!, o.order[i - 1]!));
      }
    }
  });

  it('equals the truth for request contexts too', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const sim = simulateHistory({ seed, steps: 300, processes: 3, threadsPerProcess: 2, contextEvents: 8, pMessage: 0.3, traces: 4, truth: true });
      const o = buildCausalOrder(sim.events);
      const n = sim.events.length;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) assert.equal(o.happensBefore(i, j), sim.happensBefore!(i, j), `seed ${seed} ${i} ${j}`);
    }
  });

  it('is a strict partial order with a linear extension, clocks or not', () => {
    for (let seed = 1; seed <= 25; seed++) {
      const { events } = simulateHistory({ seed, steps: 120, processes: 3, threadsPerProcess: 2, clockless: 0.5, sharedComponents: seed % 2 === 0, traces: 2 });
      const o = buildCausalOrder(events);
      const n = events.length;
      const hb = (i: number, j: number) => o.happensBefore(i, j);
      for (let i = 0; i < n; i++) {
        assert.ok(!hb(i, i));
        for (let j = 0; j < n; j++) {
          if (!hb(i, j)) continue;
          assert.ok(!hb(j, i), `antisymmetric ${i} ${j}`);
          assert.ok(o.rank[i]! < o.rank[j]!, `linear extension ${i} ${j}`);
          for (let k = 0; k < n; k++) if (hb(j, k)) assert.ok(hb(i, k), `transitive ${i} ${j} ${k}`);
        }
      }
    }
  });
});
