// On-disk format of WAL segments (version 1): file names, the segment header
// and record framing. Pure functions only; I/O lives in segment.ts and wal.ts.
//
//   segment file  <first LSN, 20 digits>.wal
//   ┌──────────── header, 16 bytes ────────────┐
//   │ "AWAL" │ version u8 │ 0 0 0 │ firstLsn u64│
//   └──────────────────────────────────────────┘
//   then records, back to back, until end of file:
//   ┌ len u32 ┬ crc u32 ┬ payload (len bytes) ┐
//   crc = crc32(len bytes ‖ payload)
//
// All integers little-endian. Record LSNs are implicit: the i-th record of a
// segment has LSN firstLsn + i. The CRC covers the length field as well as the
// payload so that a zero-filled region (a file extended but never written,
// which some file systems leave after a crash) is not read as a run of valid
// empty records: crc32 of four zero bytes is not zero.

import { crc32 } from 'node:zlib';

export const SEGMENT_MAGIC = 0x4c415741; // "AWAL" read as little-endian u32
/** The version this build writes. */
export const FORMAT_VERSION = 1;
/** Versions this build can read (a newer one refuses to open rather than skip data). */
export const READABLE_VERSIONS: readonly number[] = [1];

export const SEGMENT_HEADER_BYTES = 16;
export const RECORD_HEADER_BYTES = 8;
/** Largest payload accepted by append() and believed by a reader. */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

const SEGMENT_NAME = /^(\d{20})\.wal$/;
const MAX_LSN = (1n << 64n) - 1n;

export function segmentFileName(firstLsn: bigint): string {
  return `${firstLsn.toString().padStart(20, '0')}.wal`;
}

/** The first LSN encoded in a segment file name, or undefined for any other file. */
export function parseSegmentFileName(name: string): bigint | undefined {
  const m = SEGMENT_NAME.exec(name);
  if (!m) return undefined;
  const lsn = BigInt(m[1]!);
  return lsn <= MAX_LSN ? lsn : undefined;
}

export function encodeSegmentHeader(firstLsn: bigint): Buffer {
  const b = Buffer.alloc(SEGMENT_HEADER_BYTES);
  b.writeUInt32LE(SEGMENT_MAGIC, 0);
  b.writeUInt8(FORMAT_VERSION, 4);
  b.writeBigUInt64LE(firstLsn, 8);
  return b;
}

export type SegmentHeader =
  | { ok: true; version: number; firstLsn: bigint }
  | { ok: false; reason: 'short' | 'magic' | 'lsn'; version?: number };

/** Reads a header; `expectedLsn` (from the file name) must match the one inside. */
export function decodeSegmentHeader(b: Uint8Array, expectedLsn: bigint): SegmentHeader {
  if (b.length < SEGMENT_HEADER_BYTES) return { ok: false, reason: 'short' };
  const v = Buffer.from(b.buffer, b.byteOffset, SEGMENT_HEADER_BYTES);
  if (v.readUInt32LE(0) !== SEGMENT_MAGIC) return { ok: false, reason: 'magic' };
  const version = v.readUInt8(4);
  const firstLsn = v.readBigUInt64LE(8);
  if (firstLsn !== expectedLsn) return { ok: false, reason: 'lsn', version };
  return { ok: true, version, firstLsn };
}

/** CRC of a record: over its length field, then its payload. */
export function recordCrc(payload: Uint8Array): number {
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32LE(payload.length, 0);
  return recordCrcFrom(len, payload);
}

/** recordCrc of the concatenation of `parts` (whose lengths add up to `length`), without concatenating them. */
export function recordCrcOfParts(length: number, parts: readonly Uint8Array[]): number {
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32LE(length, 0);
  let crc = crc32(len);
  for (const p of parts) if (p.length > 0) crc = crc32(p, crc); // (empty parts: see recordCrcFrom)
  return crc;
}

/** Same as recordCrc when the length field is already in a buffer. */
export function recordCrcFrom(lenField: Uint8Array, payload: Uint8Array): number {
  const seed = crc32(lenField);
  // Node 20's zlib.crc32 returns 0, not the seed, for an empty view whose
  // ArrayBuffer has no backing store (e.g. randomBytes(0)): zlib reads the
  // NULL data pointer as "give me the initial value". Empty adds nothing.
  return payload.length === 0 ? seed : crc32(payload, seed);
}

export function writeRecordHeader(into: Buffer, offset: number, payloadLength: number, crc: number): void {
  into.writeUInt32LE(payloadLength, offset);
  into.writeUInt32LE(crc, offset + 4);
}
