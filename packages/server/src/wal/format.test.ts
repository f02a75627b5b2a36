import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import {
  SEGMENT_HEADER_BYTES,
  decodeSegmentHeader,
  encodeSegmentHeader,
  parseSegmentFileName,
  recordCrc,
  recordCrcFrom,
  segmentFileName,
} from './format.js';

describe('WAL format', () => {
  it('names segments by their first LSN, zero-padded so names sort like LSNs', () => {
    assert.equal(segmentFileName(1n), '00000000000000000001.wal');
    assert.equal(parseSegmentFileName(segmentFileName(18446744073709551615n)), 18446744073709551615n);
    assert.equal(parseSegmentFileName('99999999999999999999.wal'), undefined); // above u64
    for (const bad of ['1.wal', '00000000000000000001.wal.tmp', 'x00000000000000000001.wal', '0000000000000000000a.wal']) {
      assert.equal(parseSegmentFileName(bad), undefined, bad);
    }
    const names = [10n, 9n, 100n].map(segmentFileName).sort();
    assert.deepEqual(names.map(parseSegmentFileName), [9n, 10n, 100n]);
  });

  it('round-trips the segment header and checks it against the file name', () => {
    const h = encodeSegmentHeader(42n);
    assert.equal(h.length, SEGMENT_HEADER_BYTES);
    assert.deepEqual(decodeSegmentHeader(h, 42n), { ok: true, version: 1, firstLsn: 42n });
    assert.deepEqual(decodeSegmentHeader(h, 43n), { ok: false, reason: 'lsn', version: 1 });
    assert.deepEqual(decodeSegmentHeader(h.subarray(0, 15), 42n), { ok: false, reason: 'short' });
    assert.deepEqual(decodeSegmentHeader(Buffer.alloc(16), 0n), { ok: false, reason: 'magic' });
  });

  it('record CRC covers the length, so zero bytes never pass as an empty record', () => {
    assert.notEqual(recordCrc(new Uint8Array(0)), 0);
    const p = randomBytes(100);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(100);
    assert.equal(recordCrc(p), crc32(Buffer.concat([len, p])));
    assert.equal(recordCrcFrom(len, p), recordCrc(p));
  });

  it('gives every kind of empty payload the same CRC', () => {
    // randomBytes(0) has no backing store; Node's crc32 would return 0 for it.
    const want = crc32(Buffer.alloc(4));
    for (const e of [randomBytes(0), Buffer.alloc(0), new Uint8Array(0), Buffer.from('abc').subarray(3)]) {
      assert.equal(recordCrc(e), want);
    }
  });
});
