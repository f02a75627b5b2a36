import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyValue, Span, SpanEvent } from '@ariadne/model';
import { SpanKind, StatusCode, attributeText, findAttribute } from '@ariadne/model';
import { convertRacewayBatch, toTraceId } from './convert.js';

// The causal-analysis functions are not exported from @ariadne/model's index
// yet; load them from the model's build output.
interface CausalApi {
  extractCausalEvents(spans: Span[]): { kind: string; threadId: string; instance?: string; clock?: unknown; locks: { id: string }[] }[];
  detectRaces(events: unknown[]): {
    races: { variable: string; severity: string; accesses: { service: string; threadId: string; access: string; location: string | null; clock: unknown }[] }[];
  };
}
const causal = (await import(new URL('../../../../model/dist/causal/index.js', import.meta.url).href)) as CausalApi;

const attr = (attrs: readonly KeyValue[], key: string) => {
  const v = findAttribute(attrs, key);
  return v === undefined ? undefined : attributeText(v);
};
const evAttr = (e: SpanEvent, key: string) => attr(e.attributes, key);

type RacewayEvent = Record<string, unknown>;

/** A Raceway event the way the Python SDK builds it (datetime.isoformat(), instance and span ids). */
function pyEvent(n: number, kind: Record<string, unknown>, clock: [string, number][], extra: Record<string, unknown> = {}): RacewayEvent {
  return {
    id: `0000000${n}-aaaa-4bbb-8ccc-dddddddddddd`,
    trace_id: '332e9289-da37-4670-b75d-e38f517e8909',
    parent_id: n > 1 ? `0000000${n - 1}-aaaa-4bbb-8ccc-dddddddddddd` : null,
    timestamp: `2025-01-10T12:00:0${n}.123456+00:00`,
    kind,
    metadata: {
      thread_id: 'exec-7f3a',
      process_id: 4242,
      service_name: 'python-service',
      environment: 'development',
      tags: { sdk_language: 'python' },
      duration_ns: null,
      instance_id: 'host-a-4242',
      distributed_span_id: '9f86d081884c7d65',
      upstream_span_id: 'a1b2c3d4e5f60718',
      ...extra,
    },
    causality_vector: clock,
    lock_set: [],
  };
}

describe('convertRacewayBatch: realistic payloads', () => {
  it('turns a Python SDK batch into one span in the causal convention', () => {
    const clock = (n: number): [string, number][] => [['typescript-service#host-b-77', 5], ['python-service#host-a-4242', n]];
    const { spans, errors } = convertRacewayBatch({
      events: [
        pyEvent(1, { HttpRequest: { method: 'POST', url: '/process?x=1', headers: {}, body: null } }, clock(1)),
        pyEvent(2, { StateChange: { variable: 'request_count', old_value: null, new_value: 1, location: 'server.py:41', access_type: 'Write' } }, clock(2)),
        pyEvent(3, { FunctionCall: { function_name: 'validate_payload', module: 'app', args: { payload: 'hi' }, file: 'server.py', line: 12 } }, clock(3), { duration_ns: 1_500_000 }),
        pyEvent(4, { AsyncSpawn: { task_id: 'http_request', spawned_by: 'make_downstream_call' } }, clock(4)),
        pyEvent(5, { AsyncAwait: { future_id: 'http_request', awaited_at: 'server.py:80' } }, clock(5)),
        pyEvent(6, { Error: { error_type: 'Timeout', message: 'downstream timed out', stack_trace: ['a.py:1', 'b.py:2'] } }, clock(6)),
      ],
    });
    assert.deepEqual(errors, []);
    assert.equal(spans.length, 1);
    const span = spans[0]!;
    assert.equal(span.traceId, '332e9289da374670b75de38f517e8909');
    assert.equal(span.spanId, '9f86d081884c7d65');
    assert.equal(span.parentSpanId, 'a1b2c3d4e5f60718');
    assert.equal(span.name, 'POST /process');
    assert.equal(span.kind, SpanKind.SERVER);
    assert.equal(span.service, 'python-service');
    assert.equal(span.startTimeUnixNano, 1736510401123456000n);
    assert.equal(span.endTimeUnixNano, 1736510406123456000n);
    assert.deepEqual(span.status, { code: StatusCode.ERROR, message: 'downstream timed out' });
    assert.equal(attr(span.attributes, 'thread.id'), 'exec-7f3a');
    assert.equal(attr(span.attributes, 'raceway.trace_id'), '332e9289-da37-4670-b75d-e38f517e8909');
    assert.equal(attr(span.attributes, 'http.request.method'), 'POST');
    assert.deepEqual(
      span.resource.attributes.map((a) => [a.key, attributeText(a.value)]),
      [
        ['service.name', 'python-service'],
        ['service.instance.id', 'host-a-4242'],
        ['process.pid', '4242'],
        ['deployment.environment.name', 'development'],
        ['telemetry.sdk.name', 'raceway'],
        ['telemetry.sdk.language', 'python'],
      ],
    );
    assert.deepEqual(
      span.events.map((e) => e.name),
      ['raceway.HttpRequest', 'ariadne.state', 'raceway.FunctionCall', 'ariadne.async', 'ariadne.async', 'exception'],
    );
    const st = span.events[1]!;
    assert.equal(evAttr(st, 'ariadne.variable'), 'request_count');
    assert.equal(evAttr(st, 'ariadne.access'), 'write');
    assert.equal(evAttr(st, 'ariadne.old_value'), 'null');
    assert.equal(evAttr(st, 'ariadne.new_value'), '1');
    assert.equal(evAttr(st, 'ariadne.location'), 'server.py:41');
    assert.equal(evAttr(st, 'ariadne.clock'), '[["python-service#host-a-4242",2],["typescript-service#host-b-77",5]]');
    assert.equal(evAttr(st, 'thread.id'), 'exec-7f3a');
    assert.equal(evAttr(st, 'raceway.kind'), 'StateChange');
    assert.equal(evAttr(st, 'raceway.event_id'), '00000002-aaaa-4bbb-8ccc-dddddddddddd');
    assert.equal(evAttr(st, 'raceway.parent_id'), '00000001-aaaa-4bbb-8ccc-dddddddddddd');
    const fn = span.events[2]!;
    assert.equal(evAttr(fn, 'raceway.function_name'), 'validate_payload');
    assert.equal(findAttribute(fn.attributes, 'raceway.line')?.intValue, '12');
    assert.equal(evAttr(fn, 'raceway.args'), '{"payload":"hi"}');
    assert.equal(findAttribute(fn.attributes, 'raceway.duration_ns')?.intValue, '1500000');
    assert.deepEqual([evAttr(span.events[3]!, 'ariadne.task.id'), evAttr(span.events[3]!, 'ariadne.async.op')], ['http_request', 'spawn']);
    assert.deepEqual([evAttr(span.events[4]!, 'ariadne.task.id'), evAttr(span.events[4]!, 'ariadne.location')], ['http_request', 'server.py:80']);
    assert.equal(evAttr(span.events[5]!, 'exception.stacktrace'), 'a.py:1\nb.py:2');

    const events = causal.extractCausalEvents(spans);
    assert.deepEqual(
      events.map((e) => [e.kind, e.threadId, e.instance]),
      [
        ['state', 'exec-7f3a', 'host-a-4242'],
        ['async', 'exec-7f3a', 'host-a-4242'],
        ['async', 'exec-7f3a', 'host-a-4242'],
      ],
    );
  });

  it('reads the TypeScript, Go and Rust shapes too', () => {
    const { spans, errors } = convertRacewayBatch({
      events: [
        {
          // TypeScript SDK (1.x): per-context component, no instance id, µs timestamps
          id: 'b1c0a4a8-9c57-4b37-9f5a-0b7c8e1a2d3f',
          trace_id: 'f0e1d2c3-b4a5-4968-8776-655443322110',
          parent_id: null,
          timestamp: '2025-10-27T04:28:42.836234Z',
          kind: { StateChange: { variable: 'accounts.alice.balance', old_value: 1000, new_value: 900, location: 'bank.ts:12', access_type: 'Write' } },
          metadata: { thread_id: 'node-123-a1b2c3d4', process_id: 123, service_name: 'bank-ts', environment: 'development', tags: { sdk_language: 'typescript', team: 'payments' }, duration_ns: null },
          causality_vector: [['b1c0a4a8-9c57-4b37-9f5a-0b7c8e1a2d3f', 1]],
          lock_set: [],
        },
        {
          // Go SDK: RFC3339Nano, RW lock, FunctionReturn
          id: 'c1',
          trace_id: 'f0e1d2c3-b4a5-4968-8776-655443322110',
          parent_id: null,
          timestamp: '2025-10-27T04:28:42.900000001Z',
          kind: { LockAcquire: { lock_id: 'accounts', lock_type: 'RWLock-Read', location: 'main.go:85' } },
          metadata: { thread_id: 'go-1', process_id: 77, service_name: 'bank-go', environment: 'production', tags: { sdk_language: 'go' }, duration_ns: null, instance_id: 'pod-go-1', distributed_span_id: 'ABCDEFABCDEF0123' },
          causality_vector: [['bank-go#pod-go-1', 1]],
          lock_set: [],
        },
        {
          id: 'c2',
          trace_id: 'f0e1d2c3-b4a5-4968-8776-655443322110',
          parent_id: 'c1',
          timestamp: '2025-10-27T04:28:42.900000002Z',
          kind: { FunctionReturn: { function_name: 'transfer', return_value: { ok: true }, file: 'main.go', line: 90 } },
          metadata: { thread_id: 'go-1', process_id: 77, service_name: 'bank-go', environment: 'production', tags: { sdk_language: 'go' }, duration_ns: null, instance_id: 'pod-go-1', distributed_span_id: 'ABCDEFABCDEF0123' },
          causality_vector: [{ component: 'bank-go#pod-go-1', value: 2 }],
          lock_set: ['accounts'],
        },
        {
          // Rust core types: fences, database, custom
          id: 'd1',
          trace_id: 'f0e1d2c3-b4a5-4968-8776-655443322110',
          parent_id: null,
          timestamp: '2025-10-27T04:28:43.000000000Z',
          kind: { MemoryFence: { ordering: 'SeqCst', location: 'lib.rs:10' } },
          metadata: { thread_id: 'tokio-runtime-worker', process_id: 9, service_name: 'ledger-rs', environment: 'dev', tags: {}, duration_ns: 120 },
          causality_vector: [],
          lock_set: [],
        },
        {
          id: 'd2',
          trace_id: 'f0e1d2c3-b4a5-4968-8776-655443322110',
          parent_id: 'd1',
          timestamp: '2025-10-27T04:28:43.000000500Z',
          kind: { DatabaseQuery: { query: 'UPDATE accounts SET balance = $1', database: 'ledger', duration_ms: 3 } },
          metadata: { thread_id: 'tokio-runtime-worker', process_id: 9, service_name: 'ledger-rs', environment: 'dev', tags: {}, duration_ns: null },
          causality_vector: [],
          lock_set: [],
        },
        {
          id: 'd3',
          trace_id: 'f0e1d2c3-b4a5-4968-8776-655443322110',
          parent_id: 'd2',
          timestamp: '2025-10-27T04:28:43.000001Z',
          kind: { Custom: { name: 'checkpoint', data: { step: 3 } } },
          metadata: { thread_id: 'tokio-runtime-worker', process_id: 9, service_name: 'ledger-rs', environment: 'dev', tags: {}, duration_ns: null },
          causality_vector: [],
          lock_set: [],
        },
      ],
    });
    assert.deepEqual(errors, []);
    assert.deepEqual(
      spans.map((sp) => [sp.service, sp.events.map((e) => e.name)]),
      [
        ['bank-ts', ['ariadne.state']],
        ['bank-go', ['ariadne.lock', 'raceway.FunctionReturn']],
        ['ledger-rs', ['raceway.MemoryFence', 'raceway.DatabaseQuery', 'raceway.Custom']],
      ],
    );
    const [ts, go, rs] = spans as [Span, Span, Span];
    assert.equal(ts.traceId, 'f0e1d2c3b4a549688776655443322110');
    assert.equal(ts.events[0]!.timeUnixNano, 1761539322836234000n);
    assert.equal(attr(ts.attributes, 'raceway.tag.team'), 'payments');
    assert.equal(attr(ts.resource.attributes, 'service.instance.id'), '123'); // no instance id: the pid
    assert.equal(go.spanId, 'abcdefabcdef0123');
    assert.equal(evAttr(go.events[0]!, 'ariadne.lock.type'), 'RWLock-Read');
    assert.equal(evAttr(go.events[1]!, 'ariadne.clock'), '[["bank-go#pod-go-1",2]]');
    assert.deepEqual(findAttribute(go.events[1]!.attributes, 'ariadne.locks_held'), { arrayValue: { values: [{ stringValue: 'accounts' }] } });
    assert.equal(rs.name, 'raceway tokio-runtime-worker');
    assert.equal(evAttr(rs.events[0]!, 'raceway.ordering'), 'SeqCst');
    assert.equal(evAttr(rs.events[0]!, 'ariadne.location'), undefined);
    assert.equal(evAttr(rs.events[2]!, 'raceway.data'), '{"step":3}');
    assert.equal(findAttribute(rs.events[0]!.attributes, 'ariadne.clock'), undefined);
    assert.equal(rs.startTimeUnixNano, 1761539323000000000n);
    const locks = causal.extractCausalEvents(spans).filter((e) => e.kind === 'lock');
    assert.equal(locks.length, 1);
  });

  it('reads the timestamp spellings SDKs produce', () => {
    const at = (timestamp: unknown) => {
      const e = pyEvent(1, { Custom: { name: 'x', data: {} } }, []);
      e['timestamp'] = timestamp;
      const r = convertRacewayBatch({ events: [e] });
      return r.errors.length ? r.errors[0]!.reason : r.spans[0]!.events[0]!.timeUnixNano;
    };
    assert.equal(at('2025-01-10T12:00:00.123456+00:00'), 1736510400123456000n);
    assert.equal(at('2025-01-10T14:00:00.123456+02:00'), 1736510400123456000n);
    assert.equal(at('2025-01-10T12:00:00.123456789Z'), 1736510400123456789n);
    assert.equal(at('2025-01-10T12:00:00Z'), 1736510400000000000n);
    assert.equal(at('2025-01-10T12:00:00.123456'), 1736510400123456000n); // naive: UTC
    assert.equal(at('2025-01-10 12:00:00.5'), 1736510400500000000n);
    assert.equal(at('2025-01-10t12:00:00z'), 1736510400000000000n);
    assert.equal(at(1736510400123), 1736510400123000000n); // unix ms
    assert.equal(at('1736510400123456789'), 1736510400123456789n); // unix ns as text
    assert.equal(at('10/01/2025'), 'timestamp "10/01/2025" is not RFC 3339');
  });

  it('shares one resource per service instance and splits contexts into spans', () => {
    const ev = (thread: string, n: number, span?: string): RacewayEvent => ({
      id: `e${thread}${n}`,
      trace_id: 't-1',
      parent_id: null,
      timestamp: `2025-01-01T00:00:00.00${n}Z`,
      kind: { StateChange: { variable: 'x', old_value: null, new_value: n, location: 'a.ts:1', access_type: 'Read' } },
      metadata: { thread_id: thread, process_id: 1, service_name: 'svc', environment: 'dev', tags: {}, duration_ns: null, instance_id: 'i1', ...(span ? { distributed_span_id: span } : {}) },
      causality_vector: [[`svc#i1/${thread}`, n]],
      lock_set: [],
    });
    const { spans } = convertRacewayBatch({ events: [ev('a', 1), ev('b', 2), ev('a', 3), ev('c', 4, '1111222233334444'), ev('d', 5, '1111222233334444')] });
    assert.equal(spans.length, 4);
    assert.equal(spans[0]!.resource, spans[1]!.resource);
    assert.equal(spans[0]!.events.length, 2);
    assert.equal(spans[0]!.traceId, toTraceId('t-1'));
    assert.match(spans[0]!.traceId, /^[0-9a-f]{32}$/);
    assert.match(spans[0]!.spanId, /^[0-9a-f]{16}$/);
    assert.notEqual(spans[0]!.spanId, spans[1]!.spanId);
    // Two threads in one distributed span: the second becomes its child.
    assert.equal(spans[2]!.spanId, '1111222233334444');
    assert.equal(spans[3]!.parentSpanId, '1111222233334444');
    // Deterministic.
    assert.deepEqual(convertRacewayBatch({ events: [ev('a', 1)] }).spans[0]!.spanId, spans[0]!.spanId);
  });
});

describe('convertRacewayBatch: bad input', () => {
  const good = (n: number): RacewayEvent => pyEvent(n, { StateChange: { variable: 'v', old_value: 1, new_value: 2, location: 'x.py:1', access_type: 'Read' } }, [['p#1', n]]);
  const with_ = (patch: (e: RacewayEvent) => void): RacewayEvent => {
    const e = JSON.parse(JSON.stringify(good(1))) as RacewayEvent;
    patch(e);
    return e;
  };

  it('reports bad events by index and reason, and converts the good ones', () => {
    const events: unknown[] = [
      good(1),
      'nope',
      with_((e) => delete e['trace_id']),
      with_((e) => (e['kind'] = { Teleport: {} })),
      with_((e) => (e['kind'] = { StateChange: { variable: 'v', access_type: 'Read' }, Custom: { name: 'x' } })),
      with_((e) => (e['kind'] = { StateChange: { variable: 'v', access_type: 'Poke' } })),
      with_((e) => (e['kind'] = { StateChange: { access_type: 'Read' } })),
      with_((e) => (e['timestamp'] = 'yesterday')),
      with_((e) => (e['causality_vector'] = [['p#1', -3]])),
      with_((e) => (e['causality_vector'] = 'p#1=3')),
      with_((e) => delete e['metadata']),
      with_((e) => ((e['metadata'] as Record<string, unknown>)['service_name'] = '')),
      with_((e) => ((e['metadata'] as Record<string, unknown>)['thread_id'] = { id: 1 })),
      with_((e) => (e['kind'] = { LockAcquire: { lock_type: 'Mutex' } })),
      with_((e) => (e['kind'] = { AsyncAwait: { awaited_at: 'x' } })),
      with_((e) => (e['lock_set'] = [1, 2])),
      good(2),
    ];
    const { spans, errors } = convertRacewayBatch({ events });
    assert.deepEqual(errors, [
      { index: 1, reason: 'event must be an object' },
      { index: 2, reason: 'event.trace_id is missing' },
      { index: 3, reason: 'unknown kind "Teleport"' },
      { index: 4, reason: 'kind must have exactly one variant, has 2' },
      { index: 5, reason: 'kind.StateChange.access_type "Poke" is not Read, Write, AtomicRead, AtomicWrite or AtomicRMW' },
      { index: 6, reason: 'kind.StateChange.variable is missing' },
      { index: 7, reason: 'timestamp "yesterday" is not RFC 3339' },
      { index: 8, reason: 'causality_vector[0] counter must be a non-negative integer' },
      { index: 9, reason: 'causality_vector must be an array' },
      { index: 10, reason: 'metadata is missing' },
      { index: 11, reason: 'metadata.service_name is empty' },
      { index: 12, reason: 'metadata.thread_id must be a string' },
      { index: 13, reason: 'kind.LockAcquire.lock_id is missing' },
      { index: 14, reason: 'kind.AsyncAwait needs a future_id' },
      { index: 15, reason: 'lock_set must be an array of strings' },
    ]);
    assert.equal(spans.length, 1);
    assert.equal(spans[0]!.events.length, 2);
  });

  it('rejects unusable batches as a whole', () => {
    for (const body of [null, [], 'x', { events: 5 }, {}]) {
      const r = convertRacewayBatch(body);
      assert.deepEqual(r.spans, []);
      assert.equal(r.errors.length, 1);
      assert.equal(r.errors[0]!.index, -1);
    }
    assert.deepEqual(convertRacewayBatch({ events: [] }), { spans: [], errors: [] });
  });

  it('never throws on junk', () => {
    const junk = [0, -1, true, null, '', 'x', [], {}, { a: 1 }, [[1]], 1e308, { StateChange: 1 }];
    let seed = 1;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let k = 0; k < 2000; k++) {
      const e = JSON.parse(JSON.stringify(good(1))) as Record<string, unknown>;
      const meta = e['metadata'] as Record<string, unknown>;
      const target = rnd() < 0.5 ? e : meta;
      const keys = Object.keys(target);
      target[keys[Math.floor(rnd() * keys.length)]!] = junk[Math.floor(rnd() * junk.length)];
      const r = convertRacewayBatch({ events: [e] });
      assert.equal(r.spans.length + r.errors.length, 1);
    }
  });
});

describe('Raceway events and OTLP spans find the same races', () => {
  it('a lost update between two services, sent through Raceway', () => {
    // inventory-a and inventory-b, both called by the gateway (clock gateway#1:1 and :2).
    const ev = (service: string, gw: number, n: number, access: 'Read' | 'Write', location: string, ms: number): RacewayEvent => ({
      id: `${service}-${n}`,
      trace_id: '6f1c2d7e-0000-4000-8000-00000000abcd',
      parent_id: null,
      timestamp: `2025-01-10T12:00:00.${String(ms).padStart(3, '0')}Z`,
      kind: { StateChange: { variable: 'stock', old_value: 10, new_value: access === 'Read' ? 10 : 9, location, access_type: access } },
      metadata: { thread_id: 'main', process_id: 1, service_name: service, environment: 'dev', tags: {}, duration_ns: null, instance_id: '1' },
      causality_vector: [['gateway#1', gw], [`${service}#1`, n]],
      lock_set: [],
    });
    const { spans, errors } = convertRacewayBatch({
      events: [
        ev('inventory-a', 1, 2, 'Read', 'inventory.py:40', 2),
        ev('inventory-a', 1, 3, 'Write', 'inventory.py:41', 4),
        ev('inventory-b', 2, 2, 'Read', 'stock.go:88', 3),
        ev('inventory-b', 2, 3, 'Write', 'stock.go:90', 5),
      ],
    });
    assert.deepEqual(errors, []);
    const report = causal.detectRaces(causal.extractCausalEvents(spans));
    assert.deepEqual(
      report.races.map((r) => [r.severity, ...r.accesses.map((a) => `${a.service}:${a.access}@${a.location}`)]),
      [
        ['warning', 'inventory-b:read@stock.go:88', 'inventory-a:write@inventory.py:41'],
        ['warning', 'inventory-a:read@inventory.py:40', 'inventory-b:write@stock.go:90'],
        ['critical', 'inventory-a:write@inventory.py:41', 'inventory-b:write@stock.go:90'],
      ],
    );
    // With the lock in lock_set (Raceway's own field) there is none.
    const locked = convertRacewayBatch({
      events: [
        ev('inventory-a', 1, 2, 'Read', 'inventory.py:40', 2),
        ev('inventory-a', 1, 3, 'Write', 'inventory.py:41', 4),
        ev('inventory-b', 2, 2, 'Read', 'stock.go:88', 3),
        ev('inventory-b', 2, 3, 'Write', 'stock.go:90', 5),
      ].map((e) => ({ ...e, lock_set: ['redis:stock'] })),
    });
    assert.deepEqual(causal.detectRaces(causal.extractCausalEvents(locked.spans)).races, []);
  });
});
