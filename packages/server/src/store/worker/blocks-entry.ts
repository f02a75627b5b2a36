// Store entry for WorkerStore: opens the block store inside the worker.
// Main thread: WorkerStore.open({ module: BLOCKS_STORE_ENTRY, options: { dir } }).

import { BlockStore } from '../blocks/index.js';
import type { BlockStoreOptions } from '../blocks/index.js';
import type { OpenStore } from './protocol.js';

/** BlockStore's options minus `log`, which goes to WorkerStore's `log`. */
export type BlocksEntryOptions = Omit<BlockStoreOptions, 'log'>;

export const openStore: OpenStore<BlocksEntryOptions> = (options, context) => BlockStore.open({ ...options, log: context.log });

