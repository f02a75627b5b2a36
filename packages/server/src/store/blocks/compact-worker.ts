// Worker thread entry: runs compaction jobs posted by BlockStore.

import { parentPort } from 'node:worker_threads';
import type { CompactJob } from './compact.js';
import { compactBlocks } from './compact.js';
import { runInBackground } from './background.js';

runInBackground();

parentPort!.on('message', (job: CompactJob & { id: number }) => {
  compactBlocks(job).then(
    (result) => parentPort!.postMessage({ id: job.id, result }),
    (e: unknown) => parentPort!.postMessage({ id: job.id, error: e instanceof Error ? e.message : String(e) }),
  );
});
