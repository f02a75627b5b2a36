/// <reference types="node" />
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import {
  base64UrlDecode,
  base64UrlEncode,
  clockFromJson,
  clockSum,
  clockValue,
  compareClocks,
  decodeClockHeader,
  encodeClockHeader,
  formatClock,
  incrementClock,
  mergeClocks,
  parseClock,
  utf8Decode,
  utf8Encode,
  type VectorClock,
} from './clock.js';
import { seededRandom } from './simulate.js';

describe('ariadne.clock JSON', () => {
  it('parses to canonical form: sorted, one entry per component, no zeros', () => {
    assert.deepEqual(parseClock('[["web#1", 3], ["api#2", 5], ["db#1", 0], ["web#1", 2]]'), [
      ['api#2', 5],
      ['web#1', 3],
    ]);
    assert.deepEqual(parseClock('[]'), []);
    assert.equal(formatClock([['api#2', 5], ['web#1', 3]]), '[["api#2",5],["web#1",3]]');
    assert.deepEqual(parseClock(formatClock([['a', 1]])), [['a', 1]]);
  });

  it('rejects malformed input without throwing', () => {
    const bad = [
      '',
      'nope',
      '{}',
      '[["a"]]',
      '[["a",1,2]]',
      '[[1,1]]',
      '[["",1]]',
      '[["a",-1]]',
      '[["a",1.5]]',
      '[["a","1"]]',
      '[["a",9007199254740993]]',
      JSON.stringify(Array.from({ length: 257 }, (_, i) => [`c${i}`, 1])),
      JSON.stringify([['x'.repeat(300), 1]]),
      '['.repeat(100000),
    ];
    for (const b of bad) assert.equal(parseClock(b), undefined, b.slice(0, 40));
    assert.equal(clockFromJson({ clock: [] }), undefined);
    assert.equal(parseClock(42 as unknown as string), undefined);
    assert.ok(parseClock(JSON.stringify(Array.from({ length: 256 }, (_, i) => [`c${i}`, 1]))));
  });

  it('compares, merges and increments', () => {
    const a: VectorClock = [['a', 1], ['b', 2]];
    const b: VectorClock = [['a', 2], ['b', 2]];
    const c: VectorClock = [['a', 1], ['c', 1]];
    assert.equal(compareClocks(a, b), 'before');
    assert.equal(compareClocks(b, a), 'after');
    assert.equal(compareClocks(a, a), 'equal');
    assert.equal(compareClocks(a, c), 'concurrent');
    assert.equal(compareClocks([], a), 'before');
    assert.equal(compareClocks([], []), 'equal');
    assert.deepEqual(mergeClocks(a, c), [['a', 1], ['b', 2], ['c', 1]]);
    assert.deepEqual(incrementClock(a, 'b'), [['a', 1], ['b', 3]]);
    assert.deepEqual(incrementClock(a, '0'), [['0', 1], ['a', 1], ['b', 2]]);
    assert.deepEqual(incrementClock(a, 'z', 2), [['a', 1], ['b', 2], ['z', 2]]);
    assert.equal(clockValue(a, 'b'), 2);
    assert.equal(clockValue(a, 'q'), 0);
    assert.equal(clockSum(a), 3);
  });

  it('compareClocks agrees with componentwise definitions on random clocks', () => {
    const rnd = seededRandom(7);
    const randomClock = (): VectorClock =>
      clockFromJson(Array.from({ length: Math.floor(rnd() * 4) }, () => [`c${Math.floor(rnd() * 4)}`, Math.floor(rnd() * 3)]))!;
    for (let k = 0; k < 2000; k++) {
      const x = randomClock();
      const y = randomClock();
      const comps = new Set([...x, ...y].map((e) => e[0]));
      const le = [...comps].every((c) => clockValue(x, c) <= clockValue(y, c));
      const ge = [...comps].every((c) => clockValue(x, c) >= clockValue(y, c));
      const expected = le && ge ? 'equal' : le ? 'before' : ge ? 'after' : 'concurrent';
      assert.equal(compareClocks(x, y), expected);
      const m = mergeClocks(x, y);
      for (const c of comps) assert.equal(clockValue(m, c), Math.max(clockValue(x, c), clockValue(y, c)));
    }
  });
});

describe('ariadne-clock / raceway-clock header', () => {
  it('round-trips, with unicode', () => {
    const h = { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), service: 'checkout-✓', instance: 'pod-1', clock: [['checkout-✓#pod-1', 4]] as VectorClock };
    const v = encodeClockHeader(h);
    assert.match(v, /^v1;[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeClockHeader(v), h);
  });

  it("reads what Raceway's SDKs send (Buffer base64url of their JSON)", () => {
    const payload = {
      trace_id: '332e9289-da37-4670-b75d-e38f517e8909',
      span_id: '9f86d081884c7d65',
      parent_span_id: '1a2b3c4d5e6f7081',
      service: 'python-service',
      instance: 'host-1234',
      clock: [['typescript-service#host-99', 7], ['python-service#host-1234', 1]],
    };
    const value = 'v1;' + Buffer.from(JSON.stringify(payload)).toString('base64url');
    assert.deepEqual(decodeClockHeader(value), {
      traceId: payload.trace_id,
      spanId: payload.span_id,
      parentSpanId: payload.parent_span_id,
      service: 'python-service',
      instance: 'host-1234',
      clock: [['python-service#host-1234', 1], ['typescript-service#host-99', 7]],
    });
    // Padded standard base64 is accepted too.
    assert.ok(decodeClockHeader('v1;' + Buffer.from(JSON.stringify(payload)).toString('base64')));
    // Only a clock: the rest defaults to ''.
    assert.deepEqual(decodeClockHeader('v1;' + Buffer.from('{"clock":[["a#1",1]]}').toString('base64url')), {
      traceId: '',
      spanId: '',
      service: '',
      instance: '',
      clock: [['a#1', 1]],
    });
  });

  it('rejects malformed values without throwing', () => {
    const enc = (s: string) => 'v1;' + Buffer.from(s).toString('base64url');
    const bad = [
      '',
      'v1;',
      'v2;' + enc('{}').slice(3),
      'v1;!!!!',
      'v1;a',
      enc('not json'),
      enc('[]'),
      enc('{"trace_id":"x"}'),
      enc('{"clock":[["a",-1]]}'),
      enc('{"clock":[],"service":5}'),
      'v1;' + Buffer.from([0xc0, 0x80]).toString('base64url'), // overlong UTF-8
      'v1;' + 'A'.repeat(70000),
    ];
    for (const b of bad) assert.equal(decodeClockHeader(b), undefined, b.slice(0, 30));
    const rnd = seededRandom(3);
    for (let k = 0; k < 3000; k++) {
      const len = Math.floor(rnd() * 60);
      let s = 'v1;';
      for (let i = 0; i < len; i++) s += String.fromCharCode(Math.floor(rnd() * 128));
      decodeClockHeader(s); // must not throw
      const bytes = Uint8Array.from({ length: len }, () => Math.floor(rnd() * 256));
      decodeClockHeader('v1;' + base64UrlEncode(bytes));
    }
  });

  it('base64url and UTF-8 agree with Node on random input', () => {
    const rnd = seededRandom(11);
    for (let k = 0; k < 500; k++) {
      const bytes = Uint8Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256));
      assert.equal(base64UrlEncode(bytes), Buffer.from(bytes).toString('base64url'));
      assert.deepEqual(base64UrlDecode(base64UrlEncode(bytes)), bytes);
      let s = '';
      for (let i = 0; i < 10; i++) s += String.fromCodePoint(Math.floor(rnd() * 0x10ffff) & ~0x800 /* no surrogates */);
      assert.deepEqual(Buffer.from(utf8Encode(s)), Buffer.from(s, 'utf8'));
      assert.equal(utf8Decode(utf8Encode(s)), s);
    }
  });
});
