// Test helpers for the WAL tests and the crash child: temp dirs and
// self-checking payloads (a payload names its writer and sequence number, and
// its bytes are derived from them, so any damage or mix-up is detectable).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Wal } from './wal.js';

export async function tempDir(t: TestContext, name = 'wal'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `ariadne-${name}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const CHECKED_HEADER = 8;

/** A payload of `len` (>= 8) bytes that encodes (run, seq) and is filled from them. */
export function checkedPayload(run: number, seq: number, len: number): Buffer {
  const b = Buffer.allocUnsafe(Math.max(len, CHECKED_HEADER));
  b.writeUInt32LE(run, 0);
  b.writeUInt32LE(seq, 4);
  fill(b, run, seq);
  return b;
}

/** (run, seq) of a payload made by checkedPayload, or undefined if any byte is wrong. */
export function readCheckedPayload(p: Uint8Array): { run: number; seq: number } | undefined {
  if (p.length < CHECKED_HEADER) return undefined;
  const b = Buffer.from(p.buffer, p.byteOffset, p.length);
  const run = b.readUInt32LE(0);
  const seq = b.readUInt32LE(4);
  const expect = Buffer.allocUnsafe(b.length);
  b.copy(expect, 0, 0, CHECKED_HEADER);
  fill(expect, run, seq);
  return expect.equals(b) ? { run, seq } : undefined;
}

function fill(b: Buffer, run: number, seq: number): void {
  let x = (Math.imul(run + 1, 0x9e3779b1) ^ Math.imul(seq + 1, 0x85ebca6b)) >>> 0 || 1;
  for (let i = CHECKED_HEADER; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
}

/** Every record replay yields, in order. */
export async function replayAll(
  wal: Wal,
  fromLsn?: bigint,
): Promise<{ records: { lsn: bigint; payload: Uint8Array }[]; stats: Awaited<ReturnType<Wal['replay']>> }> {
  const records: { lsn: bigint; payload: Uint8Array }[] = [];
  const stats = await wal.replay((payload, lsn) => {
    records.push({ lsn, payload });
  }, fromLsn);
  return { records, stats };
}
