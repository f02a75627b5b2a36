/// <reference types="node" />
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { asyncEv, lockEv, mkSpans, stateEv, type FixtureSpan } from './fixtures.js';
import { extractCausalEvents } from './events.js';
import { buildCausalOrder } from './happens-before.js';
import { accessesByVariable, isRace } from './races.js';
import { asyncPairs, buildAuditTrails, buildCausalReport, causalReportToJson, lockContention, markRacyAccesses, serviceBreakdown } from './report.js';
import { simulateHistory } from './simulate.js';

const spans: FixtureSpan[] = [
  {
    id: 'a',
    service: 'orders',
    instance: '1',
    start: 0,
    events: [
      stateEv(1, 'm', [['orders#1', 1]], 'balance', 'read'),
      stateEv(2, 'm', [['orders#1', 2]], 'balance', 'write', { old: '100', new: '90' }),
      asyncEv(3, 'm', [['orders#1', 3]], 'http_request', 'spawn'),
      asyncEv(48, 'm', [['orders#1', 4]], 'http_request', 'await'),
      asyncEv(49, 'm', [['orders#1', 5]], 'http_request', 'spawn'),
      lockEv(50, 'm', [['orders#1', 6]], 'db', 'acquire'),
      lockEv(60, 'm', [['orders#1', 7]], 'db', 'release'),
    ],
  },
  {
    id: 'b',
    service: 'payments',
    instance: '1',
    start: 0,
    events: [
      stateEv(5, 'w', [['orders#1', 2], ['payments#1', 1]], 'balance', 'write', { old: '90', new: '80' }), // saw orders' write
      stateEv(6, 'w', [['orders#1', 2], ['payments#1', 2]], 'balance', 'read'),
      asyncEv(7, 'w', [['orders#1', 2], ['payments#1', 3]], 'job-1', 'await'),
      lockEv(55, 'w', [['orders#1', 2], ['payments#1', 4]], 'db', 'acquire'), // while orders holds it
      lockEv(58, 'w', [['orders#1', 2], ['payments#1', 5]], 'db', 'release'),
    ],
  },
  {
    id: 'c',
    service: 'audit',
    instance: '1',
    start: 0,
    events: [stateEv(4, 'z', [['audit#1', 1]], 'balance', 'read')], // knows nothing: concurrent with both writes
  },
];

describe('audit trail', () => {
  it('lists every access in happens-before order, marking racy ones and causal links', () => {
    const events = extractCausalEvents(mkSpans(spans));
    const [trail] = buildAuditTrails(events);
    assert.equal(trail!.variable, 'balance');
    assert.deepEqual(
      trail!.accesses.map((a) => [a.service, a.access, a.racy, a.link]),
      [
        ['orders', 'read', false, 'first'],
        ['audit', 'read', true, 'concurrent'],
        ['orders', 'write', true, 'concurrent'],
        ['payments', 'write', true, 'happens-before'],
        ['payments', 'read', false, 'happens-before'],
      ],
    );
    assert.equal(trail!.racyCount, 3);
    assert.equal(trail!.accessCount, 5);
    assert.deepEqual(buildAuditTrails(events, { variables: ['nope'] }), []);
    const short = buildAuditTrails(events, { maxAccessesPerVariable: 2 })[0]!;
    assert.equal(short.accesses.length, 2);
    assert.equal(short.truncated, true);
    assert.equal(short.racyCount, 3);
  });

  it('racy marks equal "races with some access" on simulated histories', () => {
    for (let seed = 1; seed <= 80; seed++) {
      const { events } = simulateHistory({ seed, steps: 200, processes: 3, threadsPerProcess: 2, variables: 3, clockless: seed % 3 === 0 ? 0.4 : 0, sharedComponents: seed % 4 === 0, pMessage: 0.3 });
      const order = buildCausalOrder(events);
      for (const acc of accessesByVariable(order).values()) {
        const racy = markRacyAccesses(order, acc);
        for (let p = 0; p < acc.length; p++) {
          const expected = acc.some((other) => other !== acc[p] && isRace(order, acc[p]!, other));
          assert.equal(racy[p] === 1, expected, `seed ${seed} access ${acc[p]}`);
        }
      }
    }
  });
});

describe('breakdown, async pairs, locks', () => {
  const events = extractCausalEvents(mkSpans(spans));

  it('counts event types per service', () => {
    const b = serviceBreakdown(events);
    assert.deepEqual(
      b.map((s) => [s.service, s.total, s.state.read, s.state.write, s.lock.acquire, s.async.spawn, s.async.await, s.variables, s.threads]),
      [
        ['audit', 1, 1, 0, 0, 0, 0, 1, 1],
        ['orders', 7, 1, 1, 1, 2, 1, 1, 1],
        ['payments', 5, 1, 1, 1, 0, 1, 1, 1],
      ],
    );
  });

  it('pairs spawns with awaits per task id, first come first served', () => {
    const pairs = asyncPairs(events);
    assert.deepEqual(
      pairs.map((p) => [p.service, p.taskId, p.outcome, p.durationNanos]),
      [
        ['orders', 'http_request', 'completed', 45_000_000],
        ['payments', 'job-1', 'await_without_spawn', null],
        ['orders', 'http_request', 'pending', null],
      ],
    );
  });

  it('measures lock holds and waiters', () => {
    const [db] = lockContention(events);
    assert.deepEqual(db, {
      lockId: 'db',
      lockTypes: ['Mutex'],
      services: ['orders', 'payments'],
      acquisitions: 2,
      holds: 2,
      threads: 2,
      totalHoldNanos: 13_000_000,
      maxHoldNanos: 10_000_000,
      meanHoldNanos: 6_500_000,
      waiters: 1,
      maxWaitNanos: 5_000_000,
      unreleased: 0,
    });
  });

  it('does not count a release that happens before the acquire as contention', () => {
    const ordered = extractCausalEvents(
      mkSpans([
        { id: 'a', service: 'a', instance: '1', start: 0, events: [lockEv(10, 'm', [['a#1', 1]], 'L', 'acquire'), lockEv(20, 'm', [['a#1', 2]], 'L', 'release')] },
        // its host clock is 15ms behind, but its clock shows it saw a's release
        { id: 'b', service: 'b', instance: '1', start: 0, events: [lockEv(12, 'm', [['a#1', 2], ['b#1', 1]], 'L', 'acquire')] },
      ]),
    );
    const [l] = lockContention(ordered);
    assert.equal(l!.waiters, 0);
    assert.equal(l!.unreleased, 1);
  });

  it('assembles the whole report, JSON-ready', () => {
    const r = buildCausalReport(events);
    assert.deepEqual(r.summary, { events: 13, services: 3, threads: 3, variables: 1, racyVariables: 1 });
    const json = causalReportToJson(r) as { auditTrails: { accesses: { timeUnixNano: unknown }[] }[] };
    assert.equal(typeof json.auditTrails[0]!.accesses[0]!.timeUnixNano, 'string');
  });
});
