// Store entry for WorkerStore: opens the embedded (DuckDB) store inside the
// worker. Main thread: WorkerStore.open({ module: EMBEDDED_STORE_ENTRY, options: { dir } }).

import { EmbeddedStore } from '../embedded/index.js';
import type { EmbeddedStoreOptions } from '../embedded/index.js';
import type { OpenStore } from './protocol.js';

/** EmbeddedStore's options minus `log`, which goes to WorkerStore's `log`. */
export type EmbeddedEntryOptions = Omit<EmbeddedStoreOptions, 'log'>;

export const openStore: OpenStore<EmbeddedEntryOptions> = (options, context) => EmbeddedStore.open({ ...options, log: context.log });
