/// <reference types="node" />
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { at, lockEv, mkSpans, spanIdOf, stateEv, traceIdOf, type FixtureSpan } from './fixtures.js';
import { decodeClockHeader, encodeClockHeader, incrementClock, mergeClocks, type ClockEntry, type VectorClock } from './clock.js';
import { extractCausalEvents, threadKeyOf, type CausalEvent } from './events.js';
import { buildCausalOrder } from './happens-before.js';
import { accessesByVariable, allRacingPairs, detectRaces, detectRacesBruteForce, isRace, type Race, type RaceReport } from './races.js';
import { simulateHistory, type SimulationOptions } from './simulate.js';

const races = (spans: FixtureSpan[]) => detectRaces(extractCausalEvents(mkSpans(spans)));
const brief = (r: RaceReport) =>
  r.races.map((x) => `${x.variable} ${x.severity} ${x.accesses[0].service}:${x.accesses[0].access} ${x.accesses[1].service}:${x.accesses[1].access}`);
const c = (...entries: [string, number][]): ClockEntry[] => entries;

/**
 * The gateway calls inventory-a and inventory-b at the same time; each reads
 * the stock and writes it back decremented: the classic lost update.
 */
function lostUpdate(withLock: boolean): FixtureSpan[] {
  const around = (t: number, th: string, clk: ClockEntry[], body: ReturnType<typeof stateEv>[], clkAfter: ClockEntry[]) =>
    withLock ? [lockEv(t - 0.5, th, clk, 'redis:stock-lock', 'acquire'), ...body, lockEv(t + 5, th, clkAfter, 'redis:stock-lock', 'release')] : body;
  return [
    { id: 'gw', service: 'gateway', instance: '1', start: 0, end: 20, events: [] },
    {
      id: 'a',
      parent: 'gw',
      service: 'inventory-a',
      instance: '1',
      start: 1,
      events: around(
        2,
        'main',
        c(['gateway#1', 1], ['inventory-a#1', 1]),
        [
          stateEv(2, 'main', c(['gateway#1', 1], ['inventory-a#1', 2]), 'stock', 'read', { old: '10', new: '10', location: 'inventory.py:40' }),
          stateEv(4, 'main', c(['gateway#1', 1], ['inventory-a#1', 3]), 'stock', 'write', { old: '10', new: '9', location: 'inventory.py:41' }),
        ],
        c(['gateway#1', 1], ['inventory-a#1', 4]),
      ),
    },
    {
      id: 'b',
      parent: 'gw',
      service: 'inventory-b',
      instance: '1',
      start: 1,
      events: around(
        3,
        'main',
        c(['gateway#1', 2], ['inventory-b#1', 1]),
        [
          stateEv(3, 'main', c(['gateway#1', 2], ['inventory-b#1', 2]), 'stock', 'read', { old: '10', new: '10', location: 'stock.go:88' }),
          stateEv(5, 'main', c(['gateway#1', 2], ['inventory-b#1', 3]), 'stock', 'write', { old: '10', new: '9', location: 'stock.go:90' }),
        ],
        c(['gateway#1', 2], ['inventory-b#1', 4]),
      ),
    },
  ];
}

describe('race fixtures', () => {
  it('a lost update between two services is a critical race', () => {
    const r = races(lostUpdate(false));
    assert.deepEqual(brief(r), [
      'stock warning inventory-b:read inventory-a:write',
      'stock warning inventory-a:read inventory-b:write',
      'stock critical inventory-a:write inventory-b:write',
    ]);
    const critical = r.races.find((x) => x.severity === 'critical')!;
    assert.deepEqual(critical.accesses[0], {
      service: 'inventory-a',
      instance: '1',
      threadId: 'main',
      access: 'write',
      location: 'inventory.py:41',
      oldValue: '10',
      newValue: '9',
      clock: [['gateway#1', 1], ['inventory-a#1', 3]],
      traceId: traceIdOf('a1'),
      spanId: spanIdOf('a'),
      timeUnixNano: at(4),
      locks: [],
    });
    assert.equal(critical.accesses[1].location, 'stock.go:90');
    assert.equal(r.truncated, false);
    assert.deepEqual(r, detectRacesBruteForce(extractCausalEvents(mkSpans(lostUpdate(false)))));
  });

  it('the same with a lock held in common is no race', () => {
    const events = extractCausalEvents(mkSpans(lostUpdate(true)));
    assert.deepEqual(
      events.filter((e) => e.kind === 'state').map((e) => e.locks),
      [[{ id: 'redis:stock-lock', shared: false }], [{ id: 'redis:stock-lock', shared: false }], [{ id: 'redis:stock-lock', shared: false }], [{ id: 'redis:stock-lock', shared: false }]],
    );
    assert.deepEqual(detectRaces(events).races, []);
  });

  it('two read locks of a read/write lock do not protect a write', () => {
    const spans = lostUpdate(true);
    for (const s of spans) for (const e of s.events) for (const a of e.attrs) if (a.key === 'ariadne.lock.type') a.value = { stringValue: 'RwLock::Read' };
    assert.equal(races(spans).races.length, 3);
  });

  it('read/read is no race', () => {
    assert.deepEqual(
      races([
        { id: 'a', service: 'a', instance: '1', start: 0, events: [stateEv(1, 'm', c(['a#1', 1]), 'config', 'read'), stateEv(2, 'm', c(['a#1', 2]), 'config', 'read')] },
        { id: 'b', service: 'b', instance: '1', start: 0, events: [stateEv(1, 'm', c(['b#1', 1]), 'config', 'read')] },
      ]).races,
      [],
    );
  });

  it('a causal chain through HTTP (clock carried in the ariadne-clock header) is no race', () => {
    // frontend writes the session, then calls the API with the header; the
    // API reads and writes it, then calls billing, which writes it too.
    let fe: VectorClock = [];
    const feEvents = [];
    fe = incrementClock(fe, 'frontend#1');
    feEvents.push(stateEv(1, 'main', [...fe], 'session', 'write'));
    fe = incrementClock(fe, 'frontend#1');
    const header1 = encodeClockHeader({ traceId: traceIdOf('a1'), spanId: spanIdOf('fe'), service: 'frontend', instance: '1', clock: fe });

    let api = mergeClocks([], decodeClockHeader(header1)!.clock);
    const apiEvents = [];
    api = incrementClock(api, 'api#1');
    apiEvents.push(stateEv(3, 'req-7', [...api], 'session', 'read'));
    api = incrementClock(api, 'api#1');
    apiEvents.push(stateEv(4, 'req-7', [...api], 'session', 'write'));
    api = incrementClock(api, 'api#1');
    const header2 = encodeClockHeader({ traceId: traceIdOf('a1'), spanId: spanIdOf('api'), service: 'api', instance: '1', clock: api });

    let billing = mergeClocks([], decodeClockHeader(header2)!.clock);
    billing = incrementClock(billing, 'billing#1');
    const bEvent = stateEv(2, 'worker', [...billing], 'session', 'write'); // its host clock runs 4ms behind: timestamps don't matter

    const r = races([
      { id: 'fe', service: 'frontend', instance: '1', start: 0, events: feEvents },
      { id: 'api', parent: 'fe', service: 'api', instance: '1', start: 2, events: apiEvents },
      { id: 'billing', parent: 'api', service: 'billing', instance: '1', start: 1, events: [bEvent] },
    ]);
    assert.deepEqual(r.races, []);
  });

  it('atomic operations do not race with each other, but do with plain accesses', () => {
    const mk = (aAccess: 'atomic_rmw' | 'atomic_write', bAccess: 'atomic_rmw' | 'atomic_read' | 'read' | 'write') =>
      races([
        { id: 'a', service: 'a', instance: '1', start: 0, events: [stateEv(1, 'm', c(['a#1', 1]), 'hits', aAccess)] },
        { id: 'b', service: 'b', instance: '1', start: 0, events: [stateEv(2, 'm', c(['b#1', 1]), 'hits', bAccess)] },
      ]);
    assert.deepEqual(mk('atomic_rmw', 'atomic_rmw').races, []);
    assert.deepEqual(mk('atomic_write', 'atomic_read').races, []);
    assert.deepEqual(brief(mk('atomic_write', 'read')), ['hits warning a:atomic_write b:read']);
    assert.deepEqual(brief(mk('atomic_rmw', 'write')), ['hits critical a:atomic_rmw b:write']);
  });

  it('finds a race across two traces', () => {
    const spans: FixtureSpan[] = [
      { trace: 't1', id: 'r1', service: 'api', instance: 'pod-1', start: 0, events: [stateEv(1, 'req-1', c(['api#pod-1', 1]), 'feature-flags', 'write')] },
      { trace: 't2', id: 'r2', service: 'api', instance: 'pod-2', start: 0, events: [stateEv(1.5, 'req-2', c(['api#pod-2', 1]), 'feature-flags', 'write')] },
      // a third request that saw pod-1's write (its clock says so) before writing
      { trace: 't3', id: 'r3', service: 'api', instance: 'pod-1', start: 0, events: [stateEv(2, 'req-3', c(['api#pod-1', 2]), 'feature-flags', 'write')] },
    ];
    const r = races(spans);
    assert.deepEqual(
      r.races.map((x) => [x.severity, x.accesses[0].traceId, x.accesses[1].traceId]),
      [
        ['critical', traceIdOf('t1'), traceIdOf('t2')],
        ['critical', traceIdOf('t2'), traceIdOf('t3')],
      ],
    );
  });

  it('the same thread never races with itself', () => {
    assert.deepEqual(
      races([{ id: 'a', service: 'a', start: 0, events: [stateEv(1, 'm', undefined, 'x', 'write'), stateEv(2, 'm', undefined, 'x', 'write')] }]).races,
      [],
    );
  });

  it('without clocks, span parentage decides', () => {
    const r = races([
      { id: 'root', service: 'svc', start: 0, end: 100, events: [stateEv(1, 'main', undefined, 'cache', 'write')] },
      { id: 'c1', parent: 'root', service: 'svc', start: 10, events: [stateEv(20, 'w1', undefined, 'cache', 'write')] },
      { id: 'c2', parent: 'root', service: 'svc', start: 10, events: [stateEv(21, 'w2', undefined, 'cache', 'read')] },
    ]);
    assert.deepEqual(brief(r), ['cache warning svc:write svc:read']);
  });

  it('caps races per variable and in all', () => {
    // 30 request threads each write the counter once, all concurrent: 435 racing pairs.
    const spans: FixtureSpan[] = Array.from({ length: 30 }, (_, k) => ({
      id: `s${k}`,
      service: 'api',
      instance: '1',
      start: 0,
      events: [stateEv(1 + k, `req-${k}`, c([`api#1/req-${k}`, 1]), 'request_count', 'write'), stateEv(1 + k, `req-${k}`, c([`api#1/req-${k}`, 2]), 'other', 'write')],
    }));
    const events = extractCausalEvents(mkSpans(spans));
    const all = detectRaces(events, { maxRacesPerVariable: Infinity });
    assert.equal(all.races.filter((r) => r.variable === 'request_count').length, 435);
    const capped = detectRaces(events, { maxRacesPerVariable: 10 });
    assert.equal(capped.races.length, 20);
    assert.deepEqual(capped.truncatedVariables, ['other', 'request_count']);
    assert.deepEqual(capped, detectRacesBruteForce(events, { maxRacesPerVariable: 10 }));
    const total = detectRaces(events, { maxRacesPerVariable: 10, maxRaces: 15 });
    assert.equal(total.races.length, 15);
    assert.deepEqual(total, detectRacesBruteForce(events, { maxRacesPerVariable: 10, maxRaces: 15 }));
  });

  it('reports a hammering thread once against a one-off access', () => {
    // T writes once; U writes 50 times, all concurrent with T: one report.
    const spans: FixtureSpan[] = [
      { id: 't', service: 'a', instance: '1', start: 0, events: [stateEv(1, 'T', c(['a#1/T', 1]), 'x', 'write')] },
      { id: 'u', service: 'a', instance: '1', start: 0, events: Array.from({ length: 50 }, (_, k) => stateEv(2 + k, 'U', c(['a#1/U', k + 1]), 'x', 'write')) },
    ];
    assert.equal(races(spans).races.length, 1);
  });
});

// ---- property tests: detector == brute force on simulated histories ----

const raceKey = (r: Race) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

describe('detector vs brute-force reference', () => {
  const modes: [string, Omit<SimulationOptions, 'seed'>][] = [
    ['threads with own clocks', { steps: 220, processes: 3, threadsPerProcess: 2, variables: 3, locks: 2 }],
    ['chatty threads (mostly ordered)', { steps: 220, processes: 2, threadsPerProcess: 2, variables: 3, pMessage: 0.5 }],
    ['request contexts', { steps: 260, processes: 3, threadsPerProcess: 3, variables: 4, contextEvents: 10, traces: 5, pMessage: 0.25 }],
    ['shared per-instance components (equal clocks)', { steps: 220, processes: 2, threadsPerProcess: 3, variables: 3, sharedComponents: true }],
    ['some threads without clocks', { steps: 220, processes: 3, threadsPerProcess: 2, variables: 3, clockless: 0.5, traces: 3 }],
    ['lock-heavy, atomics', { steps: 220, processes: 2, threadsPerProcess: 3, variables: 2, pLock: 0.4, pAtomic: 0.4 }],
  ];
  it('long histories on two hot variables: same races, 40 seeds', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const { events } = simulateHistory({ seed, steps: 900, processes: 3, threadsPerProcess: 3, variables: 2, pMessage: 0.2 + (seed % 3) * 0.15, contextEvents: seed % 2 ? 30 : undefined, traces: 3 });
      const order = buildCausalOrder(events);
      const unlimited = { order, maxRacesPerVariable: Infinity, maxRaces: Infinity };
      assert.deepEqual(detectRaces(events, unlimited).races.map(raceKey), detectRacesBruteForce(events, unlimited).races.map(raceKey), `seed ${seed}`);
    }
  });
  for (const [name, opts] of modes) {
    it(`${name}: same races, 150 seeds, with and without caps`, () => {
      for (let seed = 1; seed <= 150; seed++) {
        const { events } = simulateHistory({ seed, ...opts });
        const order = buildCausalOrder(events);
        const unlimited = { order, maxRacesPerVariable: Infinity, maxRaces: Infinity };
        const fast = detectRaces(events, unlimited);
        const slow = detectRacesBruteForce(events, unlimited);
        assert.deepEqual(fast.races.map(raceKey), slow.races.map(raceKey), `seed ${seed}`);
        const capped = { order, maxRacesPerVariable: 1 + (seed % 5), maxRaces: 3 + (seed % 11) };
        assert.deepEqual(detectRaces(events, capped), detectRacesBruteForce(events, capped), `seed ${seed} capped`);
      }
    });
  }

  it('reports only real races, and every racing pair is represented by a reported pair of the same two streams', () => {
    let racing = 0;
    for (let seed = 1; seed <= 120; seed++) {
      const sim = simulateHistory({ seed, steps: 200, processes: 2 + (seed % 3), threadsPerProcess: 2, variables: 3, truth: true, contextEvents: seed % 2 ? 12 : undefined });
      const { events } = sim;
      const order = buildCausalOrder(events);
      const report = detectRaces(events, { order, maxRacesPerVariable: Infinity, maxRaces: Infinity });
      const stream = (i: number) => {
        const e = events[i]!;
        return `${threadKeyOf(e)}|${e.access}|${e.locks.map((l) => l.id + (l.shared ? 'r' : '')).join(',')}`;
      };
      const find = (variable: string, a: Race['accesses'][0]) =>
        events.findIndex(
          (e) =>
            e.kind === 'state' &&
            e.variable === variable &&
            e.timeUnixNano === a.timeUnixNano &&
            e.threadId === a.threadId &&
            e.service === a.service &&
            e.access === a.access &&
            JSON.stringify(e.clock) === JSON.stringify(a.clock),
        );
      const reportedStreams = new Set<string>();
      for (const r of report.races) {
        const i = find(r.variable, r.accesses[0]);
        const j = find(r.variable, r.accesses[1]);
        assert.ok(i >= 0 && j >= 0);
        // Truth: conflicting, different threads, no common lock, concurrent by the simulated message graph.
        assert.ok(isRace(order, i, j));
        assert.ok(!sim.happensBefore!(i, j) && !sim.happensBefore!(j, i));
        reportedStreams.add(`${r.variable}|${stream(i)}|${stream(j)}`);
      }
      for (const [variable, acc] of accessesByVariable(order)) {
        for (const [i, j] of allRacingPairs(order, acc)) {
          racing++;
          assert.ok(reportedStreams.has(`${variable}|${stream(i)}|${stream(j)}`), `seed ${seed}: ${i}, ${j} not represented`);
        }
      }
    }
    assert.ok(racing > 100, `the histories should race (${racing})`);
  });
});

describe('events as given', () => {
  it('works on hand-built events without spans', () => {
    const ev = (t: number, thread: string, access: 'read' | 'write'): CausalEvent => ({
      kind: 'state',
      traceId: 't',
      spanId: 's',
      parentSpanId: '',
      spanStartUnixNano: 0n,
      service: 'svc',
      threadId: thread,
      timeUnixNano: BigInt(t),
      clock: [[`svc#${thread}`, t]],
      variable: 'v',
      access,
      locks: [],
    });
    assert.equal(detectRaces([ev(1, 'a', 'write'), ev(2, 'b', 'read')]).races.length, 1);
  });
});
