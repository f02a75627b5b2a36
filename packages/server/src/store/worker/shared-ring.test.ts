import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SharedRing } from './shared-ring.js';

describe('SharedRing', () => {
  it('never hands out space a live region holds, keeps every live region intact, and refuses only when no gap fits', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.record({ put: fc.integer({ min: 0, max: 300 }) }), fc.record({ release: fc.nat() })), { maxLength: 200 }),
        (ops) => {
          const size = 1000;
          const ring = new SharedRing(size);
          const view = new Uint8Array(ring.buffer);
          const live: { at: number; data: Uint8Array }[] = [];
          let tag = 0;
          for (const op of ops) {
            if ('put' in op) {
              const data = new Uint8Array(op.put).fill(++tag & 255);
              const at = ring.put(data);
              if (at < 0) {
                // refused: empty input, or no room right now
                assert.ok(op.put === 0 || live.length > 0 || op.put > size);
                continue;
              }
              for (const l of live) assert.ok(at + op.put <= l.at || l.at + l.data.length <= at, 'overlaps a live region');
              assert.ok(at + op.put <= size);
              live.push({ at, data });
            } else if (live.length) {
              const [l] = live.splice(op.release % live.length, 1);
              ring.release(l!.at);
            }
            for (const l of live) assert.deepEqual(view.subarray(l.at, l.at + l.data.length), l.data);
            assert.equal(ring.regions >= live.length, true);
          }
          for (const l of live.splice(0)) ring.release(l.at);
          assert.equal(ring.regions, 0);
          assert.equal(ring.put(new Uint8Array(size)), 0, 'empty again: the whole ring fits');
        },
      ),
      { numRuns: 300 },
    );
  });
});
