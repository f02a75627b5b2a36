// Segment file I/O shared by recovery and replay: a streaming record scanner
// (bounded memory, never fatal on bad data) and small durable-write helpers.

import { open, type FileHandle } from 'node:fs/promises';
import {
  MAX_PAYLOAD_BYTES,
  RECORD_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
  decodeSegmentHeader,
  recordCrcFrom,
  type SegmentHeader,
} from './format.js';

/** Read granularity; a record larger than this is read into a buffer of its own size. */
const CHUNK_BYTES = 1024 * 1024;

export type RecordFn = (payload: Uint8Array, lsn: bigint) => void | Promise<void>;

export interface ScanOptions {
  /** Read no further than this byte offset (the durable end of an active segment). */
  limit?: number;
  /** Records below this LSN are verified but not passed to onRecord. */
  fromLsn?: bigint;
  onRecord?: RecordFn;
}

export interface ScanResult {
  /** The file vanished before it could be opened (truncated concurrently). */
  missing: boolean;
  /** Bytes examined: min(file size, limit). */
  size: number;
  header: SegmentHeader;
  /** Valid records, including those below fromLsn. */
  records: number;
  delivered: number;
  deliveredBytes: number;
  /** Byte offset just past the last valid record (0 when the header is bad). */
  validEnd: number;
  /** Stopped early on bad data; everything from validEnd to size is unreadable. */
  corrupt: boolean;
  skippedBytes: number;
}

/**
 * Reads a segment front to back, checking every record. Stops at the first
 * bad header, bad length, short read or CRC mismatch and reports it; the only
 * errors it throws are I/O errors other than ENOENT, and whatever onRecord throws.
 */
export async function scanSegment(path: string, firstLsn: bigint, opts: ScanOptions = {}): Promise<ScanResult> {
  const result: ScanResult = {
    missing: false,
    size: 0,
    header: { ok: false, reason: 'short' },
    records: 0,
    delivered: 0,
    deliveredBytes: 0,
    validEnd: 0,
    corrupt: false,
    skippedBytes: 0,
  };
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      result.missing = true;
      return result;
    }
    throw e;
  }
  try {
    const fileSize = (await fh.stat()).size;
    const size = Math.min(fileSize, opts.limit ?? fileSize);
    result.size = size;
    const reader = new ChunkReader(fh, size);

    if (size === 0) return result; // an empty file: created, never written; nothing lost
    if (!(await reader.ensure(SEGMENT_HEADER_BYTES))) {
      result.corrupt = true;
      result.skippedBytes = size;
      return result;
    }
    result.header = decodeSegmentHeader(reader.take(SEGMENT_HEADER_BYTES), firstLsn);
    if (!result.header.ok) {
      result.corrupt = true;
      result.skippedBytes = size;
      return result;
    }
    result.validEnd = SEGMENT_HEADER_BYTES;

    const fromLsn = opts.fromLsn ?? 0n;
    const onRecord = opts.onRecord;
    let lsn = firstLsn;
    for (;;) {
      const at = reader.position;
      if (at === size) break;
      if (!(await reader.ensure(RECORD_HEADER_BYTES))) break;
      const head = reader.peek(RECORD_HEADER_BYTES);
      const len = head.readUInt32LE(0);
      const crc = head.readUInt32LE(4);
      // Check the length against what is left before reading it: a corrupt
      // length must not make us allocate gigabytes.
      if (len > MAX_PAYLOAD_BYTES || len > size - at - RECORD_HEADER_BYTES) break;
      if (!(await reader.ensure(RECORD_HEADER_BYTES + len))) break;
      const frame = reader.take(RECORD_HEADER_BYTES + len);
      const payload = frame.subarray(RECORD_HEADER_BYTES);
      if (recordCrcFrom(frame.subarray(0, 4), payload) !== crc) break;
      result.records++;
      result.validEnd = at + RECORD_HEADER_BYTES + len;
      if (onRecord && lsn >= fromLsn) {
        const r = onRecord(payload, lsn);
        if (r) await r;
        result.delivered++;
        result.deliveredBytes += len;
      }
      lsn++;
    }
    if (result.validEnd < size) {
      result.corrupt = true;
      result.skippedBytes = size - result.validEnd;
    }
    return result;
  } finally {
    await fh.close();
  }
}

/**
 * Sequential reader over [0, size) of a file. Buffers are never reused, so a
 * payload handed out as a subarray stays valid after the scan moves on.
 */
class ChunkReader {
  #buf: Buffer = Buffer.alloc(0);
  #off = 0;
  #filePos = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly size: number,
  ) {}

  /** File offset of the next unread byte. */
  get position(): number {
    return this.#filePos - (this.#buf.length - this.#off);
  }

  /** Makes n bytes available; false if the file ends (or shrank) first. */
  async ensure(n: number): Promise<boolean> {
    const have = this.#buf.length - this.#off;
    if (have >= n) return true;
    if (have + (this.size - this.#filePos) < n) return false;
    const want = Math.min(Math.max(n, CHUNK_BYTES), have + (this.size - this.#filePos));
    const next = Buffer.allocUnsafe(want);
    this.#buf.copy(next, 0, this.#off);
    let filled = have;
    while (filled < want) {
      const { bytesRead } = await this.fh.read(next, filled, want - filled, this.#filePos);
      if (bytesRead === 0) break; // shrank under us
      filled += bytesRead;
      this.#filePos += bytesRead;
    }
    this.#buf = next.subarray(0, filled);
    this.#off = 0;
    return filled >= n;
  }

  peek(n: number): Buffer {
    return this.#buf.subarray(this.#off, this.#off + n);
  }

  take(n: number): Buffer {
    const b = this.#buf.subarray(this.#off, this.#off + n);
    this.#off += n;
    return b;
  }
}

/** Reads the header of a segment without scanning it; also returns the file size. */
export async function readSegmentHeader(path: string, firstLsn: bigint): Promise<{ size: number; header: SegmentHeader }> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const b = Buffer.alloc(SEGMENT_HEADER_BYTES);
    const { bytesRead } = await fh.read(b, 0, SEGMENT_HEADER_BYTES, 0);
    return { size, header: decodeSegmentHeader(b.subarray(0, bytesRead), firstLsn) };
  } finally {
    await fh.close();
  }
}

/** writev that finishes the job on a short write. */
export async function writeFully(fh: FileHandle, buffers: Uint8Array[], position: number): Promise<number> {
  let total = 0;
  for (const b of buffers) total += b.length;
  let bufs = buffers;
  let pos = position;
  let left = total;
  while (left > 0) {
    const { bytesWritten } = await fh.writev(bufs, pos);
    if (bytesWritten <= 0) throw new Error(`short write: ${total - left} of ${total} bytes`);
    left -= bytesWritten;
    pos += bytesWritten;
    if (left > 0) bufs = dropPrefix(bufs, bytesWritten);
  }
  return total;
}

function dropPrefix(bufs: Uint8Array[], n: number): Uint8Array[] {
  let i = 0;
  while (i < bufs.length && n >= bufs[i]!.length) n -= bufs[i++]!.length;
  const rest = bufs.slice(i);
  if (n > 0 && rest.length > 0) rest[0] = rest[0]!.subarray(n);
  return rest;
}

/** Makes created or removed directory entries durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
