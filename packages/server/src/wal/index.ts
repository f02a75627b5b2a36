// Write-ahead log: durable, group-committed appends in front of the store.

export type { WalOptions, WalStats, ReplayStats } from './wal.js';
export { Wal } from './wal.js';
