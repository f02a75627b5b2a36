// The embedded store: TraceStore on DuckDB in one directory (see store.ts).

export { EmbeddedStore } from './store.js';
export type { EmbeddedStoreOptions } from './store.js';
export type { Loader } from './loaders.js';
