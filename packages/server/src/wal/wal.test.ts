import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, readFile, readdir, rmdir, stat, truncate, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Wal } from './index.js';
import {
  MAX_PAYLOAD_BYTES,
  RECORD_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
  encodeSegmentHeader,
  parseSegmentFileName,
  segmentFileName,
} from './format.js';
import { checkedPayload, readCheckedPayload, replayAll, tempDir } from './fixtures.js';

const MiB = 1024 * 1024;

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => parseSegmentFileName(n) !== undefined).sort();
}

/** Appends payloads one group at a time (awaiting each), returning their LSNs. */
async function appendAll(wal: Wal, payloads: Uint8Array[]): Promise<bigint[]> {
  const lsns: bigint[] = [];
  for (const p of payloads) lsns.push(await wal.append(p));
  return lsns;
}

describe('Wal round trip', () => {
  it('replays exactly what was appended, in LSN order, after reopen', async (t) => {
    const dir = await tempDir(t);
    const sizes = [0, 1, MiB, 7, 0];
    for (let i = 0; i < 115; i++) {
      const r = Math.random();
      sizes.push(Math.floor(r < 0.7 ? Math.random() * 16 * 1024 : r < 0.95 ? Math.random() * 256 * 1024 : Math.random() * MiB));
    }
    const payloads = sizes.map((n) => randomBytes(n));

    const wal = await Wal.open({ dir, segmentBytes: 4 * MiB });
    // Concurrent batches: LSNs follow call order even when calls share a group.
    const lsns: bigint[] = [];
    for (let i = 0; i < payloads.length; i += 10) {
      lsns.push(...(await Promise.all(payloads.slice(i, i + 10).map((p) => wal.append(p)))));
    }
    for (let i = 1; i < lsns.length; i++) assert.equal(lsns[i], lsns[i - 1]! + 1n);
    assert.equal(lsns[0], 1n);
    assert.equal(wal.stats().appends, payloads.length);
    assert.equal(wal.stats().lastLsn, lsns.at(-1));
    await wal.close();

    const again = await Wal.open({ dir, segmentBytes: 4 * MiB });
    t.after(() => again.close());
    assert.equal(again.stats().lastLsn, lsns.at(-1));
    const { records, stats } = await replayAll(again);
    assert.equal(records.length, payloads.length);
    records.forEach((r, i) => {
      assert.equal(r.lsn, lsns[i]);
      assert.ok(Buffer.from(r.payload).equals(payloads[i]!), `payload ${i} (${payloads[i]!.length} B) differs`);
    });
    assert.deepEqual(stats, {
      records: payloads.length,
      bytes: sizes.reduce((a, b) => a + b, 0),
      corruptRecords: 0,
      skippedBytes: 0,
      segments: (await segmentFiles(dir)).length,
    });
    assert.ok(stats.segments > 1, 'the data spans several segments');
    assert.equal(await again.append(Buffer.from('next')), lsns.at(-1)! + 1n);
  });

  it('writes a payload given in parts as one record: replayed joined, CRC-checked as one', async (t) => {
    const dir = await tempDir(t);
    const wal = await Wal.open({ dir, segmentBytes: 4 * MiB });
    const parts = [[Uint8Array.of(1), randomBytes(5000)], [new Uint8Array(0), randomBytes(3), new Uint8Array(0)], [randomBytes(7)], []];
    for (const p of parts) await wal.append(p);
    await wal.close();
    const again = await Wal.open({ dir, segmentBytes: 4 * MiB });
    t.after(() => again.close());
    const { records, stats } = await replayAll(again);
    assert.equal(stats.corruptRecords, 0);
    assert.deepEqual(
      records.map((r) => Buffer.from(r.payload).toString('hex')),
      parts.map((p) => Buffer.concat(p).toString('hex')),
    );
    await assert.rejects(again.append([Uint8Array.of(1), 'x' as never]), /payload must be a Uint8Array or an array of them/);
  });

  it('replays from a given LSN', async (t) => {
    const dir = await tempDir(t);
    const wal = await Wal.open({ dir, segmentBytes: 1024 });
    t.after(() => wal.close());
    const lsns = await appendAll(wal, Array.from({ length: 40 }, (_, i) => checkedPayload(0, i, 100)));
    const { records, stats } = await replayAll(wal, lsns[25]);
    assert.deepEqual(
      records.map((r) => r.lsn),
      lsns.slice(25),
    );
    assert.ok(stats.segments < (await segmentFiles(dir)).length, 'segments wholly below fromLsn are not read');
  });
});

describe('Wal group commit', () => {
  it('coalesces 1,000 concurrent appends into a few syncs', async (t) => {
    const dir = await tempDir(t);
    const wal = await Wal.open({ dir });
    t.after(() => wal.close());
    const before = wal.stats().syncs;
    const lsns = await Promise.all(Array.from({ length: 1000 }, (_, i) => wal.append(checkedPayload(1, i, 1024))));
    assert.equal(new Set(lsns).size, 1000);
    const s = wal.stats();
    assert.equal(s.appends, 1000);
    assert.ok(s.syncs - before <= 10, `expected a handful of syncs, got ${s.syncs - before}`);
    assert.equal(s.pendingAppends, 0);
    assert.equal(s.pendingBytes, 0);
  });

  it('batches appends that arrive while a sync is in flight', async (t) => {
    const dir = await tempDir(t);
    const wal = await Wal.open({ dir });
    t.after(() => wal.close());
    const before = wal.stats().syncs;
    // Each append on its own macrotask, as from separate HTTP requests.
    const done: Promise<bigint>[] = [];
    for (let i = 0; i < 500; i++) {
      await new Promise((r) => setImmediate(r));
      done.push(wal.append(checkedPayload(2, i, 4096)));
    }
    const lsns = await Promise.all(done);
    assert.deepEqual(lsns, [...lsns].sort((a, b) => (a < b ? -1 : 1)));
    const syncs = wal.stats().syncs - before;
    assert.ok(syncs < 500 / 2, `expected coalescing, got ${syncs} syncs for 500 appends`);
  });

  it('maxGroupDelayMs makes a group wait for companions', async (t) => {
    const dir = await tempDir(t);
    const wal = await Wal.open({ dir, maxGroupDelayMs: 300 });
    t.after(() => wal.close());
    const before = wal.stats().syncs;
    const started = performance.now();
    const done: Promise<bigint>[] = [];
    // Separate macrotasks: without the delay the first would be synced alone.
    for (let i = 0; i < 5; i++) {
      done.push(wal.append(checkedPayload(3, i, 100)));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(done);
    assert.equal(wal.stats().syncs - before, 1, 'all five appends share one group');
    assert.ok(performance.now() - started >= 250, 'the group waited');
  });

  it('close() waits for appends in flight', async (t) => {
    const dir = await tempDir(t);
    const wal = await Wal.open({ dir });
    let settled = 0;
    const all = Array.from({ length: 200 }, (_, i) => wal.append(checkedPayload(4, i, 2048)).then(() => settled++));
    await wal.close();
    assert.equal(settled, 200);
    await Promise.all(all);
    await assert.rejects(wal.append(Buffer.alloc(1)), /after close/);
    const again = await Wal.open({ dir });
    t.after(() => again.close());
    assert.equal((await replayAll(again)).records.length, 200);
  });

  it("sync 'none' acknowledges without fdatasync; a clean close still syncs", async (t) => {
    const dir = await tempDir(t);
    const wal = await Wal.open({ dir, sync: 'none' });
    await Promise.all(Array.from({ length: 100 }, (_, i) => wal.append(checkedPayload(5, i, 500))));
    assert.equal(wal.stats().syncs, 0);
    await wal.close();
    assert.equal(wal.stats().syncs, 1);
    const again = await Wal.open({ dir, sync: 'none' });
    t.after(() => again.close());
    const { records } = await replayAll(again);
    assert.deepEqual(
      records.map((r) => readCheckedPayload(r.payload)?.seq),
      Array.from({ length: 100 }, (_, i) => i),
    );
  });

  it('replay running beside appends sees only whole, acknowledged records', async (t) => {
    const dir = await tempDir(t);
    const wal = await Wal.open({ dir, segmentBytes: 64 * 1024 });
    t.after(() => wal.close());
    const writing = Promise.all(Array.from({ length: 400 }, (_, i) => wal.append(checkedPayload(6, i, 3000))));
    for (let i = 0; i < 5; i++) {
      const { stats, records } = await replayAll(wal);
      assert.equal(stats.corruptRecords, 0);
      for (const r of records) assert.ok(readCheckedPayload(r.payload));
    }
    await writing;
  });
});

describe('Wal rotation and truncateBefore', () => {
  // 16-byte header + 8 records of 8 + 500 bytes = 4080 <= 4096: 8 records per segment.
  const segmentBytes = 4096;
  const perSegment = 8;

  it('rotates at segmentBytes, names segments by first LSN, drops only covered segments', async (t) => {
    const dir = await tempDir(t);
    const wal = await Wal.open({ dir, segmentBytes });
    const lsns = await appendAll(wal, Array.from({ length: 100 }, (_, i) => checkedPayload(7, i, 500)));
    const files = await segmentFiles(dir);
    assert.equal(files.length, Math.ceil(100 / perSegment));
    for (const [i, f] of files.entries()) {
      assert.equal(f, segmentFileName(lsns[i * perSegment]!));
      const { size } = await stat(join(dir, f));
      assert.ok(size <= segmentBytes, `${f} is ${size} bytes`);
    }
    assert.equal(wal.stats().segments, files.length);

    // A record larger than a segment gets a segment of its own.
    const big = await wal.append(checkedPayload(7, 100, 3 * segmentBytes));
    const after = await wal.append(checkedPayload(7, 101, 10));
    assert.equal((await segmentFiles(dir)).length, files.length + 2);
    assert.ok((await segmentFiles(dir)).includes(segmentFileName(big)));
    assert.ok((await segmentFiles(dir)).includes(segmentFileName(after)));

    // LSN 30 lives in the 4th segment (LSNs 25..32): segments 1..3 go.
    const cut = lsns[29]!;
    await wal.truncateBefore(cut);
    const left = await segmentFiles(dir);
    assert.equal(left[0], segmentFileName(lsns[3 * perSegment]!));
    assert.equal(left.length, files.length + 2 - 3);
    assert.equal(wal.stats().segments, left.length);
    const { records } = await replayAll(wal);
    assert.equal(records[0]!.lsn, lsns[3 * perSegment]);
    assert.equal(records.at(-1)!.lsn, after);
    assert.deepEqual((await replayAll(wal, cut)).records[0]!.lsn, cut);

    // Everything covered: all segments go but the active one.
    await wal.truncateBefore(after + 1000n);
    assert.deepEqual(await segmentFiles(dir), [segmentFileName(after)]);
    await wal.close();

    // LSNs keep increasing across a reopen, and replay starts where the log now starts.
    const again = await Wal.open({ dir, segmentBytes });
    t.after(() => again.close());
    const next = await again.append(checkedPayload(7, 102, 10));
    assert.equal(next, after + 1n);
    const rest = await replayAll(again);
    assert.deepEqual(
      rest.records.map((r) => r.lsn),
      [after, next],
    );
  });

  it('truncateBefore with nothing covered is a no-op', async (t) => {
    const dir = await tempDir(t);
    const wal = await Wal.open({ dir, segmentBytes });
    t.after(() => wal.close());
    const lsns = await appendAll(wal, Array.from({ length: 20 }, (_, i) => checkedPayload(8, i, 500)));
    const before = await segmentFiles(dir);
    await wal.truncateBefore(lsns[perSegment - 1]!); // the first segment's last record is not below this
    assert.deepEqual(await segmentFiles(dir), before);
    await wal.truncateBefore(lsns[perSegment]!);
    assert.deepEqual(await segmentFiles(dir), before.slice(1));
  });
});

describe('Wal trimmed segments', () => {
  const segmentBytes = 4096; // 8 records of 500 bytes each

  async function until(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!(await check())) {
      assert.ok(Date.now() < deadline, what);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('leave the log at once and are deleted in the background; a reopen deletes what is left and never reads it', async (t) => {
    const dir = await tempDir(t);
    const wal = await Wal.open({ dir, segmentBytes });
    const lsns = await appendAll(wal, Array.from({ length: 40 }, (_, i) => checkedPayload(9, i, 500)));
    const files = await segmentFiles(dir);
    await wal.truncateBefore(lsns[3 * 8]!);
    assert.deepEqual(await segmentFiles(dir), files.slice(3), 'out of the log when truncateBefore resolves');
    await until('trashed segments deleted', async () => (await readdir(dir)).length === files.length - 3 && wal.trashedSegments === 0);
    assert.deepEqual((await replayAll(wal)).records[0]!.lsn, lsns[3 * 8]);
    await wal.close();

    // A process that stopped before deleting them: a trashed segment (even
    // one holding valid records) is not replayed, and the next open deletes it.
    const kept = files[3]!;
    await copyFile(join(dir, kept), join(dir, `${files[0]!}.trash`));
    const again = await Wal.open({ dir, segmentBytes });
    t.after(() => again.close());
    const replayed = (await replayAll(again)).records.map((r) => r.lsn);
    assert.equal(replayed[0], lsns[3 * 8]);
    assert.equal(new Set(replayed).size, replayed.length, 'no record twice');
    await until('leftover trash deleted', async () => !(await readdir(dir)).some((n) => n.endsWith('.trash')));
  });
});

describe('Wal recovery', () => {
  /** A closed log of `count` records of `size` bytes plus a last record of `lastSize`; returns the file and offsets. */
  async function prepared(t: Parameters<typeof tempDir>[0], lastSize: number, count = 5, size = 100) {
    const dir = await tempDir(t, 'wal-src');
    const wal = await Wal.open({ dir });
    const payloads = Array.from({ length: count }, (_, i) => checkedPayload(9, i, size));
    payloads.push(checkedPayload(9, count, lastSize));
    const lsns = await appendAll(wal, payloads);
    await wal.close();
    const [file] = await segmentFiles(dir);
    const path = join(dir, file!);
    const end = (await stat(path)).size;
    return { dir, file: file!, path, lsns, payloads, lastStart: end - RECORD_HEADER_BYTES - lastSize, end };
  }

  /** Opens a damaged copy, checks what survives, appends, reopens, checks again. */
  async function checkRecovery(
    t: Parameters<typeof tempDir>[0],
    src: Awaited<ReturnType<typeof prepared>>,
    damage: (path: string) => Promise<void>,
    expect: { survivors: number; corrupt: boolean },
  ) {
    const dir = await tempDir(t, 'wal-torn');
    await copyFile(src.path, join(dir, src.file));
    await damage(join(dir, src.file));
    const wal = await Wal.open({ dir });
    assert.equal(wal.stats().corruptRecords, expect.corrupt ? 1 : 0);
    const first = await replayAll(wal);
    assert.equal(first.stats.corruptRecords, 0, 'open() already cut the bad tail');
    assert.deepEqual(
      first.records.map((r) => r.lsn),
      src.lsns.slice(0, expect.survivors),
    );
    first.records.forEach((r, i) => assert.ok(Buffer.from(r.payload).equals(src.payloads[i]!)));
    // The damaged segment now ends at its last good record.
    const validEnd = SEGMENT_HEADER_BYTES + src.payloads.slice(0, expect.survivors).reduce((a, p) => a + 8 + p.length, 0);
    assert.equal((await stat(join(dir, src.file))).size, validEnd);

    const a = await wal.append(checkedPayload(10, 0, 33));
    const b = await wal.append(checkedPayload(10, 1, 0));
    assert.ok(a > src.lsns[expect.survivors - 1]!, 'new LSNs are above every recovered one');
    if (expect.corrupt) assert.ok(a > src.lsns.at(-1)!, 'and above any the cut bytes could have held');
    assert.equal(b, a + 1n);
    await wal.close();

    const again = await Wal.open({ dir });
    const second = await replayAll(again);
    await again.close();
    assert.equal(second.stats.corruptRecords, 0);
    assert.deepEqual(
      second.records.map((r) => r.lsn),
      [...src.lsns.slice(0, expect.survivors), a, b],
    );
    assert.deepEqual(readCheckedPayload(second.records.at(-2)!.payload), { run: 10, seq: 0 });
  }

  it('cuts a torn tail at every byte offset inside the last record', async (t) => {
    const src = await prepared(t, 40);
    for (let cut = src.lastStart + 1; cut < src.end; cut++) {
      await checkRecovery(t, src, (p) => truncate(p, cut), { survivors: 5, corrupt: true });
    }
    // Cut exactly at a record boundary: nothing torn, nothing counted.
    await checkRecovery(t, src, (p) => truncate(p, src.lastStart), { survivors: 5, corrupt: false });
  });

  it('cuts a torn tail of a large record at sampled offsets', async (t) => {
    const src = await prepared(t, 256 * 1024);
    const cuts = new Set<number>();
    for (let i = 1; i <= 12; i++) cuts.add(src.lastStart + i);
    for (let i = 0; i < 12; i++) cuts.add(src.lastStart + 1 + Math.floor(Math.random() * (src.end - src.lastStart - 1)));
    cuts.add(src.end - 1);
    for (const cut of cuts) await checkRecovery(t, src, (p) => truncate(p, cut), { survivors: 5, corrupt: true });
  });

  it('cuts a zero-filled or garbage tail', async (t) => {
    const src = await prepared(t, 40);
    await checkRecovery(t, src, (p) => appendFile(p, Buffer.alloc(4096)), { survivors: 6, corrupt: true });
    await checkRecovery(t, src, (p) => appendFile(p, randomBytes(1000)), { survivors: 6, corrupt: true });
    // A bit flip in the last record's payload: a bad CRC, not a short read.
    await checkRecovery(
      t,
      src,
      async (p) => {
        const fh = await open(p, 'r+');
        await fh.write(Buffer.from([0xff]), 0, 1, src.lastStart + 8 + 3);
        await fh.close();
      },
      { survivors: 5, corrupt: true },
    );
  });

  it('skips the rest of a segment with a corrupt record in the middle and goes on', async (t) => {
    const dir = await tempDir(t);
    const segmentBytes = 4096;
    const wal = await Wal.open({ dir, segmentBytes });
    const lsns = await appendAll(wal, Array.from({ length: 40 }, (_, i) => checkedPayload(11, i, 500)));
    await wal.close();
    const files = await segmentFiles(dir);
    assert.equal(files.length, 5);
    const frame = RECORD_HEADER_BYTES + 500;

    // Segment 2 (LSNs 9..16): flip a payload byte of its 3rd record (LSN 11).
    const seg2 = join(dir, files[1]!);
    const fh = await open(seg2, 'r+');
    const at = SEGMENT_HEADER_BYTES + 2 * frame + RECORD_HEADER_BYTES + 100;
    const byte = Buffer.alloc(1);
    await fh.read(byte, 0, 1, at);
    byte[0] = byte[0]! ^ 0x40;
    await fh.write(byte, 0, 1, at);
    await fh.close();
    // Segment 3 (LSNs 17..24): a length field claiming 3 GB at its 6th record (LSN 22).
    const seg3 = join(dir, files[2]!);
    const fh3 = await open(seg3, 'r+');
    const big = Buffer.alloc(4);
    big.writeUInt32LE(3_000_000_000, 0);
    await fh3.write(big, 0, 4, SEGMENT_HEADER_BYTES + 5 * frame);
    await fh3.close();
    // Segment 4 (LSNs 25..32): a broken header: the whole segment is unreadable.
    const seg4 = join(dir, files[3]!);
    const fh4 = await open(seg4, 'r+');
    await fh4.write(Buffer.from('XXXX'), 0, 4, 0);
    await fh4.close();

    const again = await Wal.open({ dir, segmentBytes });
    t.after(() => again.close());
    assert.equal(again.stats().corruptRecords, 0, 'open() only checks the last segment');
    const { records, stats } = await replayAll(again);
    const expected = [...lsns.slice(0, 10), ...lsns.slice(16, 21), ...lsns.slice(32)];
    assert.deepEqual(
      records.map((r) => r.lsn),
      expected,
    );
    for (const r of records) assert.equal(readCheckedPayload(r.payload)?.seq, Number(r.lsn - 1n));
    assert.equal(stats.corruptRecords, 3);
    const size = (await stat(seg2)).size;
    assert.equal(
      stats.skippedBytes,
      size - (SEGMENT_HEADER_BYTES + 2 * frame) + (size - (SEGMENT_HEADER_BYTES + 5 * frame)) + size,
    );
    assert.equal(again.stats().corruptRecords, 3);
    await replayAll(again);
    assert.equal(again.stats().corruptRecords, 3, 'a region found twice counts once');
    // New appends continue after the last segment as usual.
    assert.equal(await again.append(Buffer.from('x')), lsns.at(-1)! + 1n);
  });

  it('opens an empty dir, a missing dir, and ignores files that are not segments', async (t) => {
    const base = await tempDir(t);
    const dir = join(base, 'a', 'b');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'README.txt'), 'not a segment');
    await writeFile(join(dir, '123.wal'), 'short name');
    await writeFile(join(dir, `${segmentFileName(5n)}.tmp`), 'suffix');
    await mkdir(join(dir, segmentFileName(99n))); // a directory with a segment's name
    const wal = await Wal.open({ dir });
    assert.equal(wal.stats().lastLsn, 0n);
    assert.equal(await wal.append(Buffer.from('first')), 1n);
    await wal.close();
    const again = await Wal.open({ dir });
    t.after(() => again.close());
    assert.deepEqual(
      (await replayAll(again)).records.map((r) => r.lsn),
      [1n],
    );

    const fresh = await Wal.open({ dir: join(base, 'never', 'made') });
    assert.equal(await fresh.append(new Uint8Array(0)), 1n);
    await fresh.close();
  });

  it('rewrites a last segment that is empty or holds only part of a header', async (t) => {
    for (const kind of ['empty', 'partial header'] as const) {
      const dir = await tempDir(t);
      // A complete earlier segment, then the crash-during-rotation leftover.
      const first = await Wal.open({ dir, segmentBytes: 1024 });
      const lsns = await appendAll(
        first,
        Array.from({ length: 3 }, (_, i) => checkedPayload(12, i, 300)),
      );
      await first.close();
      const leftover = segmentFileName(lsns.at(-1)! + 1n);
      const content = kind === 'empty' ? Buffer.alloc(0) : encodeSegmentHeader(lsns.at(-1)! + 1n).subarray(0, 7);
      await writeFile(join(dir, leftover), content);

      const wal = await Wal.open({ dir, segmentBytes: 1024 });
      assert.equal(wal.stats().corruptRecords, content.length > 0 ? 1 : 0);
      const next = await wal.append(Buffer.from('after'));
      assert.equal(next, lsns.at(-1)! + 1n);
      await wal.close();
      assert.equal((await readFile(join(dir, leftover))).length, SEGMENT_HEADER_BYTES + 8 + 5);
      const again = await Wal.open({ dir });
      const { records, stats } = await replayAll(again);
      await again.close();
      assert.equal(stats.corruptRecords, 0);
      assert.deepEqual(
        records.map((r) => r.lsn),
        [...lsns, next],
      );
    }
  });

  it('treats an empty segment in the middle as empty', async (t) => {
    const dir = await tempDir(t);
    await writeFile(join(dir, segmentFileName(1n)), Buffer.alloc(0));
    await writeFile(join(dir, segmentFileName(1n)), encodeSegmentHeader(1n));
    await writeFile(join(dir, segmentFileName(3n)), Buffer.alloc(0));
    await writeFile(join(dir, segmentFileName(7n)), encodeSegmentHeader(7n));
    const wal = await Wal.open({ dir });
    t.after(() => wal.close());
    assert.equal(await wal.append(Buffer.from('x')), 7n);
    const { records, stats } = await replayAll(wal);
    assert.equal(stats.corruptRecords, 0);
    assert.deepEqual(
      records.map((r) => r.lsn),
      [7n],
    );
  });

  it('refuses to open a log with a segment from a newer format version', async (t) => {
    const dir = await tempDir(t);
    const header = encodeSegmentHeader(1n);
    header.writeUInt8(2, 4);
    await writeFile(join(dir, segmentFileName(1n)), header);
    await assert.rejects(Wal.open({ dir }), /format version 2/);
    // And the failed open does not hold the directory.
    await writeFile(join(dir, segmentFileName(1n)), encodeSegmentHeader(1n));
    const wal = await Wal.open({ dir });
    await wal.close();
  });
});

describe('Wal errors', () => {
  it('rejects bad input and bad options without throwing', async (t) => {
    const dir = await tempDir(t);
    const wal = await Wal.open({ dir });
    t.after(() => wal.close());
    let p: Promise<bigint> | undefined;
    assert.doesNotThrow(() => {
      p = wal.append('text' as unknown as Uint8Array);
    });
    await assert.rejects(p!, /Uint8Array/);
    await assert.rejects(wal.append(Buffer.alloc(MAX_PAYLOAD_BYTES + 1)), /exceeds the limit/);
    await assert.rejects(wal.truncateBefore(5 as unknown as bigint), /bigint/);
    await assert.rejects(Wal.open({ dir }), /already open/);
    await assert.rejects(Wal.open({ dir: dir + '-x', segmentBytes: 10 }), /segmentBytes/);
    // The log still works.
    assert.equal(await wal.append(Buffer.from('ok')), 1n);
  });

  it('rejects appends with a clear error after an I/O failure, and recovers on reopen', async (t) => {
    const dir = await tempDir(t);
    const wal = await Wal.open({ dir, segmentBytes: 1024 });
    const lsns = await appendAll(
      wal,
      Array.from({ length: 3 }, (_, i) => checkedPayload(13, i, 300)),
    );
    // The next rotation must create this file; a directory in the way makes it fail.
    const blocker = join(dir, segmentFileName(lsns.at(-1)! + 1n));
    await mkdir(blocker);
    const failed = wal.append(checkedPayload(13, 3, 300));
    const queued = wal.append(checkedPayload(13, 4, 300));
    await assert.rejects(failed, (e: Error) => e.message.includes(blocker) && /unusable until reopened/.test(e.message));
    await assert.rejects(queued, /unusable/);
    await assert.rejects(wal.append(Buffer.from('later')), /unusable/);
    await wal.close();

    await rmdir(blocker);
    const again = await Wal.open({ dir, segmentBytes: 1024 });
    t.after(() => again.close());
    assert.deepEqual(
      (await replayAll(again)).records.map((r) => r.lsn),
      lsns,
    );
    assert.equal(await again.append(Buffer.from('after')), lsns.at(-1)! + 1n);
  });
});
