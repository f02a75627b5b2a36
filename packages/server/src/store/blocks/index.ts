// The block store: TraceStore on Ariadne's own columnar block files (see store.ts).

export { BlockStore } from './store.js';
export type { BlockStoreOptions, BlockStoreDiagnostics } from './store.js';
export { CURRENT_VERSION as BLOCK_FORMAT_VERSION, readableVersions } from './versioned.js';
