// Worker thread entry: runs compaction jobs posted by BlockStore, one at a time.

import { parentPort } from 'node:worker_threads';
import type { CompactJob } from './compact.js';
import { compactBlocks } from './compact.js';

parentPort!.on('message', (job: CompactJob) => {
  compactBlocks(job).then(
    (result) => parentPort!.postMessage({ ok: true, result }),
    (e: unknown) => parentPort!.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) }),
  );
});
