// Worker thread entry: encodes a head snapshot into block files (sort, pages,
// compression, atomic write), so a flush costs the event loop only the copy
// of the head's columns into the message.

import { parentPort } from 'node:worker_threads';
import { compressSync } from './codec.js';
import { encodeHead } from './encode.js';
import type { CompressOptions } from './codec.js';
import { writeAtomic } from './files.js';
import type { HeadSnapshot } from './head.js';
import { Head } from './head.js';
import { runInBackground } from './background.js';

runInBackground();

export interface FlushJob {
  dir: string;
  head: HeadSnapshot;
  /** names for the blocks, in order (more than one only for spans more than 2^52 ns apart) */
  names: string[];
  pageRows: number;
  compression: CompressOptions;
}


const compressPage = async (chunks: Uint8Array[], o: CompressOptions) =>
  chunks.map((c) => {
    const z = compressSync(c, o);
    return z.length < c.length ? z : undefined;
  });

parentPort!.on('message', (job: FlushJob & { id: number }) => {
  (async (): Promise<string[]> => {
    const head = Head.fromSnapshot(job.head);
    const encoded = await encodeHead(head, { pageRows: job.pageRows, compression: job.compression, footerCompression: job.compression, compressPage });
    if (encoded.length > job.names.length) throw new Error(`flush: ${encoded.length} blocks but ${job.names.length} names`);
    const written: string[] = [];
    for (const [i, e] of encoded.entries()) {
      await writeAtomic(job.dir, job.names[i]!, e.parts);
      written.push(job.names[i]!);
    }
    return written;
  })().then(
    (result) => parentPort!.postMessage({ id: job.id, result }),
    (e: unknown) => parentPort!.postMessage({ id: job.id, error: e instanceof Error ? e.message : String(e) }),
  );
});
