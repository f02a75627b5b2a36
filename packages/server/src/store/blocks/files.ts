// Block files on disk: names, atomic writes, retention marks.
//
//   <seq>-<level>.blk   a block (seq: 12 digits, increasing; level: times compacted)
//   <seq>-<level>.del   its retention mark: JSON { deletedBefore, hiddenRows }
//   *.tmp               a write a crash interrupted: deleted at open

import type { FileHandle } from 'node:fs/promises';
import { open, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const BLOCK_RE = /^(\d{12})-(\d+)\.blk$/;

export function blockName(seq: number, level: number): string {
  return `${String(seq).padStart(12, '0')}-${level}.blk`;
}

export function parseBlockName(name: string): { seq: number; level: number } | undefined {
  const m = BLOCK_RE.exec(name);
  return m ? { seq: Number(m[1]), level: Number(m[2]) } : undefined;
}

export function markName(block: string): string {
  return block.replace(/\.blk$/, '.del');
}

async function writeAll(fh: FileHandle, parts: readonly Uint8Array[]): Promise<void> {
  for (const p of parts) {
    let done = 0;
    while (done < p.length) {
      const { bytesWritten } = await fh.write(p, done, p.length - done);
      done += bytesWritten;
    }
  }
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes a file so that it either exists whole and durable under its name, or not at all. */
export async function writeAtomic(dir: string, name: string, parts: readonly Uint8Array[]): Promise<void> {
  const tmp = join(dir, name + '.tmp');
  const fh = await open(tmp, 'w');
  try {
    await writeAll(fh, parts);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fh.close();
  await rename(tmp, join(dir, name));
  await syncDir(dir);
}

export interface RetentionMark {
  deletedBefore: bigint;
  hiddenRows: number;
}

export async function writeMark(dir: string, block: string, mark: RetentionMark): Promise<void> {
  const name = markName(block);
  const tmp = join(dir, name + '.tmp');
  await writeFile(tmp, JSON.stringify({ deletedBefore: mark.deletedBefore.toString(), hiddenRows: mark.hiddenRows }));
  const fh = await open(tmp, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, name));
  await syncDir(dir);
}

export function parseMark(text: string): RetentionMark | undefined {
  try {
    const j = JSON.parse(text) as { deletedBefore?: unknown; hiddenRows?: unknown };
    if (typeof j.deletedBefore !== 'string' || typeof j.hiddenRows !== 'number') return undefined;
    return { deletedBefore: BigInt(j.deletedBefore), hiddenRows: j.hiddenRows };
  } catch {
    return undefined;
  }
}
