import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeConformance } from '../conformance.js';
import type { StoreHarness } from '../conformance.js';
import type { TraceStore } from '../types.js';
import { BlockStore } from './store.js';
import type { BlockStoreOptions } from './store.js';

function harness(options: Omit<BlockStoreOptions, 'dir'> = {}): () => Promise<StoreHarness> {
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ariadne-blocks-'));
    const openStore = () => BlockStore.open({ dir, compaction: 'inline', ...options });
    let current: TraceStore = await openStore();
    return {
      get store() {
        return current;
      },
      async reopen() {
        await current.close();
        current = await openStore();
        return current;
      },
      async cleanup() {
        await current.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  };
}

storeConformance('blocks', harness());
// Flushes racing the suite's own writes and reads, pages of 3 rows (traces
// cut across pages), compaction merging as it goes.
storeConformance('blocks (tiny head and pages, inline flushes and compaction)', harness({ flushIn: 'inline', flushSpans: 7, flushIntervalMs: 5, pageRows: 3, compactMinBlocks: 2, compactSpans: 64 }));
// The same in a worker thread, deflate instead of brotli.
storeConformance('blocks (worker compaction, deflate)', harness({ flushSpans: 50, compaction: 'worker', compactMinBlocks: 2, compactSpans: 500, compression: { codec: 'deflate' } }));
