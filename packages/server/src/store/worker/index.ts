// A TraceStore hosted on a worker thread (see worker-store.ts, README.md).

export type { WorkerStoreOptions, WorkerStoreLoad, WriteEncodedOptions } from './worker-store.js';
export { WorkerStore, EMBEDDED_STORE_ENTRY, BLOCKS_STORE_ENTRY } from './worker-store.js';
export type { EncodedFormat, OpenStore, StoreEntryContext } from './protocol.js';
