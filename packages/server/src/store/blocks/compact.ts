// Compaction: merges blocks into one, re-sorted by trace id, each (trace id,
// span id) once, retention-hidden spans dropped. Runs in a worker thread
// (compact-worker.ts) so it takes the second core, not the event loop; the
// same function runs inline where a worker is not wanted (tests).

import { join } from 'node:path';
import { Block } from './block.js';
import { ByteLru } from './cache.js';
import type { CompressOptions } from './codec.js';
import { encodeHead } from './encode.js';
import { writeAtomic } from './files.js';
import { Head } from './head.js';

export interface CompactJob {
  dir: string;
  sources: { name: string; deletedBefore?: string }[];
  /** names for the output blocks, in order (more than one only if the spans span over 2^52 ns) */
  outputs: string[];
  pageRows: number;
  compression: CompressOptions;
  footerCompression: CompressOptions;
}

export interface CompactResult {
  /** output blocks written; none when every source span was retention-hidden */
  written: string[];
  rows: number;
}

export async function compactBlocks(job: CompactJob, pause?: () => Promise<void> | undefined): Promise<CompactResult> {
  const cache = new ByteLru(64 << 20);
  const head = new Head();
  for (const [i, src] of job.sources.entries()) {
    const block = await Block.open(join(job.dir, src.name), src.name, cache, `c${i}`);
    try {
      if (src.deletedBefore !== undefined) block.setDeletedBefore(BigInt(src.deletedBefore), 0);
      for await (const spans of block.allSpans()) {
        head.add(spans);
        const p = pause?.();
        if (p) await p;
      }
    } finally {
      block.retire();
    }
  }
  const encoded = await encodeHead(head, {
    pageRows: job.pageRows,
    compression: job.compression,
    footerCompression: job.footerCompression,
    replaces: job.sources.map((s) => s.name),
    ...(pause ? { pause } : {}),
  });
  if (encoded.length > job.outputs.length) throw new Error(`compaction: ${encoded.length} output blocks but ${job.outputs.length} names`);
  const written: string[] = [];
  for (const [i, e] of encoded.entries()) {
    await writeAtomic(job.dir, job.outputs[i]!, e.parts);
    written.push(job.outputs[i]!);
  }
  return { written, rows: head.live };
}
