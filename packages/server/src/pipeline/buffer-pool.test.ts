import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from './buffer-pool.js';

test('take gives exact-length buffers over power-of-two classes, reused after give', () => {
  const pool = new BufferPool({ minBytes: 1024 });
  const a = pool.take(3000);
  assert.equal(a.length, 3000);
  assert.equal(a.buffer.byteLength, 4096);
  assert.equal(pool.take(10).buffer.byteLength, 1024, 'small requests get the smallest class');
  const backing = a.buffer;
  pool.give(a);
  assert.equal(pool.idleBytes, 4096);
  const b = pool.take(2049);
  assert.equal(b.buffer, backing, 'same class: the idle buffer comes back');
  assert.equal(b.length, 2049);
  assert.equal(pool.idleBytes, 0);
  const c = pool.take(4097);
  assert.notEqual(c.buffer, backing, 'another class: a new buffer');
  assert.equal(c.buffer.byteLength, 8192);
});

test('a second give, or a buffer the pool never lent, is ignored', () => {
  const pool = new BufferPool({ minBytes: 1024 });
  const a = pool.take(1000);
  pool.give(a);
  pool.give(a);
  assert.equal(pool.idleBytes, 1024, 'given back once');
  const b = pool.take(1000);
  const c = pool.take(1000);
  assert.notEqual(b.buffer, c.buffer, 'never lent twice');
  pool.give(Buffer.alloc(1024));
  pool.give(new Uint8Array(new SharedArrayBuffer(1024)));
  assert.equal(pool.idleBytes, 0);
});

test('over maxBytes is a plain allocation; idle bytes are capped', () => {
  const pool = new BufferPool({ minBytes: 1024, maxBytes: 8192, maxIdleBytes: 8192 });
  const big = pool.take(10_000);
  assert.equal(big.length, 10_000);
  pool.give(big);
  assert.equal(pool.idleBytes, 0, 'not pooled');
  const bufs = [pool.take(4096), pool.take(4096), pool.take(4096)];
  for (const b of bufs) pool.give(b);
  assert.equal(pool.idleBytes, 8192, 'the third went to the GC');
});
