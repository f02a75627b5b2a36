/// <reference types="node" />
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Span } from '../span.js';
import { evaluateTraceQL } from './evaluate.js';
import { parseTraceQL } from './parser.js';
import { bool, dbl, int, MS, span, str, T0 } from './fixtures.js';

// A checkout trace:
//
//   root  frontend  GET /checkout  server    0–100 ms
//   ├─ auth   auth      verify     client    5–15 ms   status ok
//   ├─ cart   cart      get_cart   server   20–60 ms
//   │  └─ db  postgres  SELECT     client   30–55 ms   status error "connection timeout"
//   └─ pay    payment   charge     internal 70–95 ms
const trace: Span[] = [
  span({ id: 'root', service: 'frontend', name: 'GET /checkout', kind: 2, start: 0, duration: 100, attrs: { 'http.method': str('GET'), 'http.status_code': int(200), k: str('span-k') } }),
  span({ id: 'auth', parent: 'root', service: 'auth', name: 'verify', kind: 3, start: 5, duration: 10, status: 1 }),
  span({
    id: 'cart',
    parent: 'root',
    service: 'cart',
    name: 'get_cart',
    kind: 2,
    start: 20,
    duration: 40,
    attrs: { 'http.status_code': int(500), retry: dbl(1.5), big: int(2n ** 63n - 1n), flag: bool(true), tags: { arrayValue: { values: [str('a')] } } },
    resourceAttrs: { env: str('prod'), k: str('resource-k') },
  }),
  span({ id: 'db', parent: 'cart', service: 'postgres', name: 'SELECT', kind: 3, start: 30, duration: 25, status: 2, message: 'connection timeout', attrs: { 'db.statement': str('SELECT * FROM cart') } }),
  span({ id: 'pay', parent: 'root', service: 'payment', name: 'charge', kind: 1, start: 70, duration: 25, attrs: { amount: dbl(12.5), 'http.status_code': str('500') }, resourceAttrs: { k: str('resource-k') } }),
];

const select = (q: string, spans = trace, window = {}) => evaluateTraceQL(parseTraceQL(q), spans, window).map((s) => s.name);
const NAMES = trace.map((s) => s.name);

describe('evaluateTraceQL', () => {
  const table: [string, string[]][] = [
    ['{ }', NAMES],
    ['{ false }', []],
    // intrinsics
    ['{ name = "SELECT" }', ['SELECT']],
    ['{ name != "SELECT" }', ['GET /checkout', 'verify', 'get_cart', 'charge']],
    ['{ name =~ "get_.*|ch.*" }', ['get_cart', 'charge']],
    ['{ name !~ "(?i)get.*" }', ['verify', 'SELECT', 'charge']],
    ['{ name > "charge" }', ['verify', 'get_cart']],
    ['{ status = error }', ['SELECT']],
    ['{ status = ok }', ['verify']],
    ['{ status = unset }', ['GET /checkout', 'get_cart', 'charge']],
    ['{ status != unset }', ['verify', 'SELECT']],
    ['{ statusMessage =~ ".*timeout" }', ['SELECT']],
    ['{ kind = server }', ['GET /checkout', 'get_cart']],
    ['{ kind = client && status = error }', ['SELECT']],
    ['{ kind = internal }', ['charge']],
    ['{ duration > 25ms }', ['GET /checkout', 'get_cart']],
    ['{ duration >= 25ms }', ['GET /checkout', 'get_cart', 'SELECT', 'charge']],
    ['{ duration = 25000000 }', ['SELECT', 'charge']],
    ['{ duration < 0.01s }', []],
    ['{ duration <= 10ms }', ['verify']],
    ['{ duration > 24999999.5 }', ['GET /checkout', 'get_cart', 'SELECT', 'charge']],
    ['{ resource.service.name = "cart" }', ['get_cart']],
    ['{ resource.service.name =~ "p.*" }', ['SELECT', 'charge']],
    // attribute types: a number matches int and double attributes, a string only strings
    ['{ span.http.status_code = 500 }', ['get_cart']],
    ['{ span.http.status_code = 500.0 }', ['get_cart']],
    ['{ span.http.status_code = "500" }', ['charge']],
    ['{ span.http.status_code >= 200 }', ['GET /checkout', 'get_cart']],
    ['{ span.http.status_code != 500 }', ['GET /checkout']],
    ['{ .retry = 1.5 }', ['get_cart']],
    ['{ .retry > 1 && .retry < 2 }', ['get_cart']],
    ['{ .amount >= 12.5 }', ['charge']],
    ['{ .amount = 12 }', []],
    ['{ .big = 9223372036854775807 }', ['get_cart']],
    ['{ .big = 9223372036854775806 }', []], // both round to the same double; int64 stays exact
    ['{ .big = 9223372036854775807.0 }', []], // that double is 2^63, above every int64
    ['{ .big < 9223372036854775807.0 }', ['get_cart']],
    ['{ .big >= 9.2e18 }', ['get_cart']],
    ['{ .flag = true }', ['get_cart']],
    ['{ .flag }', ['get_cart']],
    ['{ .flag != false }', ['get_cart']],
    ['{ !.flag }', ['GET /checkout', 'verify', 'SELECT', 'charge']],
    ['{ .flag = "true" }', []],
    ['{ .http.method =~ "G.*" }', ['GET /checkout']],
    ['{ .http.status_code =~ "5.*" }', ['charge']], // a regex only reads strings
    // missing attributes: every comparison is false, != included, except nil checks
    ['{ .nope != "x" }', []],
    ['{ .nope != 1 }', []],
    ['{ !(.nope = "x") }', NAMES],
    ['{ .nope = nil }', NAMES],
    ['{ .http.method != nil }', ['GET /checkout']],
    ['{ .tags = "a" }', []], // arrays answer only nil checks
    ['{ .tags != nil }', ['get_cart']],
    // scopes: .x reads the span's attribute, else the resource's
    ['{ .env = "prod" }', ['get_cart']],
    ['{ span.env = "prod" }', []],
    ['{ resource.env = "prod" }', ['get_cart']],
    ['{ .k = "resource-k" }', ['get_cart', 'charge']],
    ['{ .k = "span-k" }', ['GET /checkout']],
    ['{ resource.k = "resource-k" }', ['get_cart', 'charge']],
    ['{ span.db.statement =~ "SELECT .* FROM cart" }', ['SELECT']],
    // trace-level intrinsics hold on every span
    ['{ rootName = "GET /checkout" && kind = client }', ['verify', 'SELECT']],
    ['{ rootServiceName = "frontend" && status = error }', ['SELECT']],
    ['{ rootServiceName = "cart" }', []],
    ['{ traceDuration = 100ms && name = "charge" }', ['charge']],
    ['{ traceDuration > 100ms }', []],
    // spanset operators
    ['{ name = "verify" } && { status = error }', ['verify', 'SELECT']],
    ['{ name = "verify" } && { name = "nope" }', []],
    ['{ name = "nope" } || { status = error }', ['SELECT']],
    ['{ name = "GET /checkout" } > { }', ['verify', 'get_cart', 'charge']],
    ['{ name = "GET /checkout" } >> { }', ['verify', 'get_cart', 'SELECT', 'charge']],
    ['{ name = "GET /checkout" } >> { kind = client }', ['verify', 'SELECT']],
    ['{ name = "get_cart" } > { status = error }', ['SELECT']],
    ['{ name = "auth" } > { }', []],
    ['{ status = error } < { }', ['get_cart']],
    ['{ status = error } << { }', ['GET /checkout', 'get_cart']],
    ['{ status = error } << { kind = server && name != "get_cart" }', ['GET /checkout']],
    ['{ name = "verify" } ~ { }', ['get_cart', 'charge']],
    ['{ kind = server } ~ { kind = server }', []],
    ['{ } ~ { name = "SELECT" }', []], // an only child
    ['({ name = "GET /checkout" } > { kind = server }) > { }', ['SELECT']],
    // pipelines
    ['{ } | count() = 5', NAMES],
    ['{ kind = client } | count() > 2', []],
    ['{ kind = client } | count() = 2', ['verify', 'SELECT']],
    ['{ } | avg(duration) = 40ms', NAMES],
    ['{ } | avg(duration) > 40ms', []],
    ['{ } | min(duration) = 10ms', NAMES],
    ['{ } | max(span.http.status_code) = 500', NAMES], // the string "500" is not a number and is skipped
    ['{ } | sum(.retry) = 1.5', NAMES],
    ['{ } | sum(.nope) > 0', []],
    ['{ } | { status = error }', ['SELECT']],
    ['{ kind = client } | { status = error } | count() = 1', ['SELECT']],
    ['{ } | select(name, span.http.method)', NAMES],
    ['({ kind = client } | count() = 2) && { name = "charge" }', ['verify', 'SELECT', 'charge']],
  ];
  for (const [q, want] of table) it(q, () => assert.deepEqual(select(q), want));

  it('selects only spans starting in the window; structure and trace intrinsics still see the whole trace', () => {
    const window = { startUnixNano: T0 + 20n * MS, endUnixNano: T0 + 69n * MS };
    assert.deepEqual(select('{ }', trace, window), ['get_cart', 'SELECT']);
    assert.deepEqual(select('{ name = "GET /checkout" }', trace, window), []);
    assert.deepEqual(select('{ name = "GET /checkout" } > { }', trace, window), []);
    assert.deepEqual(select('{ name = "get_cart" } > { }', trace, window), ['SELECT']);
    assert.deepEqual(select('{ kind = client } << { }', trace, window), ['get_cart']);
    assert.deepEqual(select('{ rootName = "GET /checkout" && traceDuration = 100ms }', trace, window), ['get_cart', 'SELECT']);
    assert.deepEqual(select('{ }', trace, { startUnixNano: T0 + 30n * MS, endUnixNano: T0 + 30n * MS }), ['SELECT'], 'bounds are inclusive');
  });

  it('the root is the earliest span without a parent id, else the earliest span', () => {
    const orphans = [span({ id: 'o2', parent: 'gone', service: 'b', start: 5 }), span({ id: 'o1', parent: 'gone', service: 'a', start: 1 })];
    assert.deepEqual(select('{ rootServiceName = "a" }', orphans), ['o2', 'o1']);
    assert.deepEqual(select('{ rootName = "late-root" }', [...orphans, span({ id: 'late-root', start: 9 })]), ['o2', 'o1', 'late-root']);
    assert.deepEqual(select('{ }', []), []);
  });

  it('ends on parent cycles in malformed traces', () => {
    const cyclic = [span({ id: 'x', parent: 'y' }), span({ id: 'y', parent: 'x' }), span({ id: 'z', parent: 'z' })];
    // in a cycle every member is an ancestor of every member
    assert.deepEqual(select('{ name = "x" } >> { }', cyclic), ['x', 'y']);
    assert.deepEqual(select('{ name = "x" } << { }', cyclic), ['x', 'y']);
    assert.deepEqual(select('{ name = "q" } >> { }', cyclic), []);
    assert.deepEqual(select('{ } >> { name = "z" }', cyclic), [], 'a span is not its own parent');
  });
});
