// The write-ahead log in front of the store: ordered, group-committed appends
// of opaque payloads ("acknowledged means on disk"), replay after a restart,
// and dropping of segments the store has flushed. Design: docs/design/wal.md.

import { mkdir, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import {
  FORMAT_VERSION,
  MAX_PAYLOAD_BYTES,
  READABLE_VERSIONS,
  RECORD_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
  encodeSegmentHeader,
  parseSegmentFileName,
  recordCrc,
  recordCrcOfParts,
  segmentFileName,
  writeRecordHeader,
} from './format.js';
import { readSegmentHeader, scanSegment, syncDir, writeFully, type RecordFn } from './segment.js';

export interface WalOptions {
  dir: string;
  /** Rotate to a new segment file past this size; default 64 MiB. */
  segmentBytes?: number;
  /**
   * 'always' (default): append resolves only after fdatasync of its group.
   * 'none': append resolves after write() only. UNSAFE: survives a process
   * crash, not a power loss or kernel crash.
   */
  sync?: 'always' | 'none';
  /**
   * A group waits at most this long (counted from its oldest append) for
   * companions before it is written; default 0: written as soon as the
   * previous group's sync finishes (natural batching).
   */
  maxGroupDelayMs?: number;
}

export interface ReplayStats {
  /** Records passed to the callback. */
  records: number;
  /** Payload bytes passed to the callback. */
  bytes: number;
  /** Segments in which replay stopped early on bad data (at most one per segment). */
  corruptRecords: number;
  /** Bytes past the last good record of those segments. */
  skippedBytes: number;
  /** Segment files read. */
  segments: number;
}

export interface WalStats {
  segments: number;
  /** Bytes in segment files, headers included. */
  bytes: number;
  /** Appends acknowledged since open. */
  appends: number;
  /** fsync/fdatasync calls since open (groups, segment creation, directory). */
  syncs: number;
  /** Corrupt or torn regions found since open, by recovery and by replay, each counted once. */
  corruptRecords: number;
  /**
   * LSN of the last acknowledged record. Right after open: the LSN just
   * below the one the next append gets (0n for a fresh log).
   */
  lastLsn: bigint;
  /** Appends accepted but not yet settled, and their payload bytes: the backlog to shed load on. */
  pendingAppends: number;
  pendingBytes: number;
}

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
/**
 * A trimmed segment is renamed to this suffix and deleted later, one file at
 * a time. Freeing 64 MiB took ~30 ms on a disk mounted with `discard` (the
 * kernel trims the blocks), 0.4 s for a trim after a minute of load: renaming
 * costs a directory entry. RocksDB's DeleteScheduler does the same.
 */
const TRASH_SUFFIX = '.trash';
const FIRST_LSN = 1n;

interface Segment {
  firstLsn: bigint;
  path: string;
  /** Durable length: what replay may read. */
  bytes: number;
}

interface WalInit {
  dir: string;
  segmentBytes: number;
  sync: boolean;
  groupDelayMs: number;
  segments: Segment[];
  /** Open on the last segment, positioned at its `bytes`. */
  fh: FileHandle;
  nextLsn: bigint;
  lastLsn: bigint;
  syncs: number;
  corrupt: Set<string>;
  /** trimmed segments not yet deleted (left by an earlier process) */
  trash: string[];
}

interface Pending {
  /** the payload's parts, written one after the other */
  parts: readonly Uint8Array[];
  length: number;
  crc: number;
  lsn: bigint;
  /** performance.now() at append; only read when maxGroupDelayMs > 0. */
  at: number;
  resolve: (lsn: bigint) => void;
  reject: (err: Error) => void;
}

/** Directories open in this process: a second writer would interleave records. */
const openDirs = new Set<string>();

export class Wal {
  readonly #dir: string;
  readonly #segmentBytes: number;
  readonly #sync: boolean;
  readonly #groupDelayMs: number;
  /** Sorted by firstLsn; the last one is the active segment. */
  readonly #segments: Segment[];
  #fh: FileHandle;
  #writePos: number;
  #nextLsn: bigint;
  #lastLsn: bigint;

  #queue: Pending[] = [];
  #pendingAppends = 0;
  #pendingBytes = 0;
  #pumpRun: Promise<void> | null = null;
  #failure: Error | null = null;
  #closing: Promise<void> | null = null;
  readonly #maintenance = new Set<Promise<unknown>>();
  /** paths of trimmed segments waiting to be deleted, oldest first */
  readonly #trash: string[];
  #trashRun: Promise<void> | null = null;

  #appends = 0;
  #syncs = 0;
  readonly #corrupt: Set<string>;

  private constructor(init: WalInit) {
    this.#dir = init.dir;
    this.#segmentBytes = init.segmentBytes;
    this.#sync = init.sync;
    this.#groupDelayMs = init.groupDelayMs;
    this.#segments = init.segments;
    this.#fh = init.fh;
    this.#writePos = init.segments.at(-1)!.bytes;
    this.#nextLsn = init.nextLsn;
    this.#lastLsn = init.lastLsn;
    this.#syncs = init.syncs;
    this.#corrupt = init.corrupt;
    this.#trash = init.trash;
    this.#emptyTrash();
  }

  /**
   * Opens (creating if needed) the log in `opts.dir`. The last segment is
   * verified record by record; a torn or corrupt tail is cut off and writing
   * continues in a fresh segment whose first LSN is above any LSN the lost
   * bytes could have held, so no LSN is ever handed out twice.
   */
  static async open(opts: WalOptions): Promise<Wal> {
    const segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    const syncMode = opts.sync ?? 'always';
    const groupDelayMs = opts.maxGroupDelayMs ?? 0;
    if (!Number.isSafeInteger(segmentBytes) || segmentBytes <= SEGMENT_HEADER_BYTES) {
      throw new RangeError(`wal: segmentBytes must be an integer > ${SEGMENT_HEADER_BYTES}, got ${segmentBytes}`);
    }
    if (syncMode !== 'always' && syncMode !== 'none') {
      throw new RangeError(`wal: sync must be 'always' or 'none', got ${String(syncMode)}`);
    }
    if (!(Number.isFinite(groupDelayMs) && groupDelayMs >= 0)) {
      throw new RangeError(`wal: maxGroupDelayMs must be a finite number >= 0, got ${groupDelayMs}`);
    }
    const dir = resolvePath(opts.dir);
    if (openDirs.has(dir)) throw new Error(`wal: ${dir} is already open in this process`);
    openDirs.add(dir);
    try {
      return await recover(dir, segmentBytes, syncMode === 'always', groupDelayMs, (init) => new Wal(init));
    } catch (e) {
      openDirs.delete(dir);
      throw e;
    }
  }

  /**
   * Appends one record and resolves with its LSN once it is durable (per
   * `sync`). Never throws: bad input, a closed log and I/O errors reject. The
   * payload is written without copying, so it must not change until the
   * promise settles. After an I/O error every later append rejects too
   * (the state of the file is unknown); close and reopen to recover. The
   * payload may come in parts (a format byte and a body, say): the record
   * holds them one after the other, and nothing is copied to join them.
   */
  append(payload: Uint8Array | readonly Uint8Array[]): Promise<bigint> {
    try {
      if (this.#closing) return Promise.reject(new Error(`wal: append after close (${this.#dir})`));
      if (this.#failure) return Promise.reject(this.#failure);
      const parts = payload instanceof Uint8Array ? [payload] : payload;
      if (!Array.isArray(parts) || !parts.every((p) => p instanceof Uint8Array)) {
        return Promise.reject(new TypeError('wal: payload must be a Uint8Array or an array of them'));
      }
      let length = 0;
      for (const p of parts) length += p.length;
      if (length > MAX_PAYLOAD_BYTES) {
        return Promise.reject(
          new RangeError(`wal: payload of ${length} bytes exceeds the limit of ${MAX_PAYLOAD_BYTES}`),
        );
      }
      const crc = recordCrcOfParts(length, parts);
      const lsn = this.#nextLsn++;
      const at = this.#groupDelayMs > 0 ? performance.now() : 0;
      return new Promise<bigint>((resolve, reject) => {
        this.#queue.push({ parts, length, crc, lsn, at, resolve, reject });
        this.#pendingAppends++;
        this.#pendingBytes += length;
        this.#kick();
      });
    } catch (e) {
      return Promise.reject(asError(e));
    }
  }

  /**
   * Calls fn for every readable record with LSN >= fromLsn, in LSN order,
   * awaiting it before the next. Bad data ends that segment's replay (counted
   * in the result) and replay goes on with the next segment. Rejects only on
   * an I/O error or when fn throws. Payloads are fresh views, safe to keep.
   */
  async replay(fn: RecordFn, fromLsn: bigint = 0n): Promise<ReplayStats> {
    if (this.#closing) throw new Error(`wal: replay after close (${this.#dir})`);
    const stats: ReplayStats = { records: 0, bytes: 0, corruptRecords: 0, skippedBytes: 0, segments: 0 };
    const segments = this.#segments.slice();
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!;
      const next = segments[i + 1];
      if (next && next.firstLsn <= fromLsn) continue;
      // seg.bytes is read now, not at the start: for the active segment it is
      // the durable length, so replay never sees a half-written group.
      const r = await scanSegment(seg.path, seg.firstLsn, { limit: seg.bytes, fromLsn, onRecord: fn });
      if (r.missing) continue; // dropped by a concurrent truncateBefore
      stats.segments++;
      stats.records += r.delivered;
      stats.bytes += r.deliveredBytes;
      if (r.corrupt) {
        stats.corruptRecords++;
        stats.skippedBytes += r.skippedBytes;
        this.#corrupt.add(seg.path);
      }
    }
    return stats;
  }

  /**
   * Drops whole segments all of whose records have LSN < lsn: renamed out of
   * the log at once, their files deleted in the background (TRASH_SUFFIX).
   * The active segment is never dropped. Call it with the first LSN the
   * store has not yet made durable.
   */
  truncateBefore(lsn: bigint): Promise<void> {
    try {
      if (this.#closing) return Promise.reject(new Error(`wal: truncateBefore after close (${this.#dir})`));
      if (typeof lsn !== 'bigint') return Promise.reject(new TypeError('wal: truncateBefore takes a bigint LSN'));
      const doomed: Segment[] = [];
      while (this.#segments.length > 1 && this.#segments[1]!.firstLsn <= lsn) doomed.push(this.#segments.shift()!);
      if (doomed.length === 0) return Promise.resolve();
      const work = (async () => {
        const trashed: string[] = [];
        try {
          for (const seg of doomed) {
            try {
              await rename(seg.path, seg.path + TRASH_SUFFIX);
              trashed.push(seg.path + TRASH_SUFFIX);
            } catch (e) {
              if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
                throw new Error(`wal: dropping ${seg.path} failed: ${asError(e).message}`, { cause: e });
              }
            }
          }
          if (this.#sync) {
            await syncDir(this.#dir);
            this.#syncs++;
          }
        } finally {
          this.#trash.push(...trashed);
          this.#emptyTrash();
        }
      })();
      this.#maintenance.add(work);
      const done = () => this.#maintenance.delete(work);
      work.then(done, done);
      return work;
    } catch (e) {
      return Promise.reject(asError(e));
    }
  }

  /** The LSN the next append() will get (append assigns it synchronously, in call order). */
  get nextLsn(): bigint {
    return this.#nextLsn;
  }

  stats(): WalStats {
    let bytes = 0;
    for (const s of this.#segments) bytes += s.bytes;
    return {
      segments: this.#segments.length,
      bytes,
      appends: this.#appends,
      syncs: this.#syncs,
      corruptRecords: this.#corrupt.size,
      lastLsn: this.#lastLsn,
      pendingAppends: this.#pendingAppends,
      pendingBytes: this.#pendingBytes,
    };
  }

  /** Trimmed segments not yet deleted from disk (they are never read again). */
  get trashedSegments(): number {
    return this.#trash.length;
  }

  /**
   * Stops accepting appends, waits for those already accepted (and for
   * running truncations) to settle, and closes the active segment. With
   * sync 'none' a clean close still syncs once, so only crashes lose data.
   * Trimmed segments not yet deleted are left for the next open to delete.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        while (this.#pumpRun) await this.#pumpRun;
        await Promise.allSettled([...this.#maintenance]);
        await this.#trashRun;
        if (!this.#sync && !this.#failure) {
          await this.#fh.datasync();
          this.#syncs++;
        }
      } finally {
        openDirs.delete(this.#dir);
        await this.#fh.close();
      }
    })();
    return this.#closing;
  }

  /** Deletes trashed segments one at a time, in the background, until closing. */
  #emptyTrash(): void {
    if (this.#trashRun || this.#trash.length === 0) return;
    this.#trashRun = (async () => {
      while (this.#trash.length > 0 && !this.#closing) {
        // a failure leaves the file for the next open to try again
        await unlink(this.#trash[0]!).catch(() => {});
        this.#trash.shift();
      }
    })().finally(() => {
      this.#trashRun = null;
      if (!this.#closing) this.#emptyTrash();
    });
  }

  #kick(): void {
    if (this.#pumpRun) return;
    this.#pumpRun = this.#pump();
  }

  /** The single writer: takes everything queued as one group, writes it with one writev, syncs once. */
  async #pump(): Promise<void> {
    // Let appends made in the same tick as the first one join its group.
    await undefined;
    try {
      while (this.#queue.length > 0) {
        if (this.#groupDelayMs > 0) {
          const wait = this.#queue[0]!.at + this.#groupDelayMs - performance.now();
          if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
        }
        await this.#writeGroup();
      }
    } finally {
      this.#pumpRun = null;
    }
  }

  async #writeGroup(): Promise<void> {
    const queue = this.#queue;
    let group: Pending[] = [];
    try {
      if (this.#failure) throw this.#failure;
      const first = queue[0]!;
      const firstFrame = RECORD_HEADER_BYTES + first.length;
      if (this.#writePos > SEGMENT_HEADER_BYTES && this.#writePos + firstFrame > this.#segmentBytes) {
        await this.#rotate(first.lsn);
      }
      // Everything that fits in this segment; at least one record, so a record
      // larger than segmentBytes gets a segment to itself.
      const room = this.#segmentBytes - this.#writePos;
      let n = 0;
      let bytes = 0;
      while (n < queue.length) {
        const frame = RECORD_HEADER_BYTES + queue[n]!.length;
        if (n > 0 && bytes + frame > room) break;
        bytes += frame;
        n++;
      }
      group = queue.splice(0, n);

      const heads = Buffer.allocUnsafe(RECORD_HEADER_BYTES * n);
      const iov: Uint8Array[] = [];
      for (let i = 0; i < n; i++) {
        const p = group[i]!;
        const h = i * RECORD_HEADER_BYTES;
        writeRecordHeader(heads, h, p.length, p.crc);
        iov.push(heads.subarray(h, h + RECORD_HEADER_BYTES));
        for (const part of p.parts) if (part.length > 0) iov.push(part);
      }
      await writeFully(this.#fh, iov, this.#writePos);
      this.#writePos += bytes;
      if (this.#sync) {
        await this.#fh.datasync();
        this.#syncs++;
      }
      this.#segments.at(-1)!.bytes = this.#writePos;
      this.#lastLsn = group[n - 1]!.lsn;
      this.#appends += n;
      for (const p of group) this.#settle(p).resolve(p.lsn);
    } catch (e) {
      const path = this.#segments.at(-1)!.path;
      this.#failure ??= new Error(`wal: write to ${path} failed, log is unusable until reopened: ${asError(e).message}`, {
        cause: e,
      });
      for (const p of group) this.#settle(p).reject(this.#failure);
      for (const p of queue.splice(0)) this.#settle(p).reject(this.#failure);
    }
  }

  #settle(p: Pending): Pending {
    this.#pendingAppends--;
    this.#pendingBytes -= p.length;
    return p;
  }

  async #rotate(firstLsn: bigint): Promise<void> {
    const { fh, segment, syncs } = await createSegment(this.#dir, firstLsn, this.#sync);
    this.#syncs += syncs;
    const old = this.#fh;
    this.#fh = fh;
    this.#writePos = segment.bytes;
    this.#segments.push(segment);
    await old.close();
  }
}

/** Finds the segments, repairs the tail of the last one, and builds the Wal positioned after it. */
async function recover(
  dir: string,
  segmentBytes: number,
  sync: boolean,
  groupDelayMs: number,
  make: (init: WalInit) => Wal,
): Promise<Wal> {
  await mkdir(dir, { recursive: true });
  const names: { firstLsn: bigint; path: string }[] = [];
  const trash: string[] = [];
  for (const ent of await readdir(dir, { withFileTypes: true })) {
    const firstLsn = parseSegmentFileName(ent.name);
    if (firstLsn !== undefined && ent.isFile()) names.push({ firstLsn, path: join(dir, ent.name) });
    if (ent.name.endsWith(TRASH_SUFFIX) && parseSegmentFileName(ent.name.slice(0, -TRASH_SUFFIX.length)) !== undefined) trash.push(join(dir, ent.name));
  }
  names.sort((a, b) => (a.firstLsn < b.firstLsn ? -1 : a.firstLsn > b.firstLsn ? 1 : 0));

  // Headers first: a segment from a newer format must stop us before we cut
  // or skip anything (never destroy data we cannot read).
  const segments: Segment[] = [];
  let lastHeader: Awaited<ReturnType<typeof readSegmentHeader>>['header'] | undefined;
  for (const { firstLsn, path } of names) {
    const { size, header } = await readSegmentHeader(path, firstLsn);
    if (header.ok && !READABLE_VERSIONS.includes(header.version)) {
      throw new Error(
        `wal: ${path} has format version ${header.version}; this build reads ${READABLE_VERSIONS.join(', ')} ` +
          `(written by a newer Ariadne?); refusing to open`,
      );
    }
    segments.push({ firstLsn, path, bytes: size });
    lastHeader = header;
  }

  const corrupt = new Set<string>();
  let syncs = 0;
  // lastLsn starts just below the next LSN: nothing at or below it will ever
  // be appended, so a checkpoint may drop segments up to there.
  const finish = (fh: FileHandle, nextLsn: bigint): Wal =>
    make({ dir, segmentBytes, sync, groupDelayMs, segments, fh, nextLsn, lastLsn: nextLsn - 1n, syncs, corrupt, trash });
  const startNew = async (firstLsn: bigint): Promise<Wal> => {
    const created = await createSegment(dir, firstLsn, sync);
    syncs += created.syncs;
    segments.push(created.segment);
    return finish(created.fh, firstLsn);
  };

  const last = segments.at(-1);
  if (!last) return startNew(FIRST_LSN);

  if (last.bytes < SEGMENT_HEADER_BYTES) {
    // Crash while creating the segment: the header is synced before any record
    // goes in, so nothing in it was ever acknowledged. Write the header again.
    if (last.bytes > 0) corrupt.add(last.path);
    const fh = await open(last.path, 'r+');
    try {
      await fh.truncate(0);
      await writeFully(fh, [encodeSegmentHeader(last.firstLsn)], 0);
      if (sync) {
        await fh.datasync();
        syncs++;
      }
    } catch (e) {
      await fh.close().catch(() => {});
      throw e;
    }
    last.bytes = SEGMENT_HEADER_BYTES;
    return finish(fh, last.firstLsn);
  }

  if (!lastHeader?.ok) {
    // Unreadable header: leave the file for replay to count and skip; start
    // past every LSN its bytes could have held.
    corrupt.add(last.path);
    return startNew(last.firstLsn + maxRecordsIn(last.bytes));
  }

  const scan = await scanSegment(last.path, last.firstLsn);
  if (!scan.corrupt && lastHeader.version === FORMAT_VERSION) {
    const fh = await open(last.path, 'r+');
    last.bytes = scan.validEnd;
    return finish(fh, last.firstLsn + BigInt(scan.records));
  }
  if (scan.corrupt) {
    // Cut the torn/corrupt tail so the log holds no garbage, then continue in
    // a new segment. The gap in LSNs covers whatever the cut bytes could have
    // held: usually a group that was never acknowledged, but if it was bit rot
    // in acknowledged records their LSNs must not be reused.
    corrupt.add(last.path);
    const fh = await open(last.path, 'r+');
    try {
      await fh.truncate(scan.validEnd);
      if (sync) {
        await fh.datasync();
        syncs++;
      }
    } finally {
      await fh.close();
    }
    last.bytes = scan.validEnd;
    const next = last.firstLsn + BigInt(scan.records) + maxRecordsIn(scan.skippedBytes);
    return startNew(next);
  }
  // An older (read-only) format version: never append to it.
  return startNew(last.firstLsn + BigInt(scan.records));
}

/** Upper bound on the number of records that fit in n bytes. */
function maxRecordsIn(n: number): bigint {
  return BigInt(Math.ceil(n / RECORD_HEADER_BYTES));
}

async function createSegment(
  dir: string,
  firstLsn: bigint,
  sync: boolean,
): Promise<{ fh: FileHandle; segment: Segment; syncs: number }> {
  const path = join(dir, segmentFileName(firstLsn));
  const fh = await open(path, 'wx');
  try {
    await writeFully(fh, [encodeSegmentHeader(firstLsn)], 0);
    if (sync) {
      // Header and directory entry before any record: an acknowledged record
      // must not live in a file the directory might forget.
      await fh.datasync();
      await syncDir(dir);
    }
  } catch (e) {
    await fh.close().catch(() => {});
    throw new Error(`wal: creating segment ${path} failed: ${asError(e).message}`, { cause: e });
  }
  return { fh, segment: { firstLsn, path, bytes: SEGMENT_HEADER_BYTES }, syncs: sync ? 2 : 0 };
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
