// The storage contract. Every backend (embedded, ClickHouse) implements
// TraceStore and passes the one conformance suite in ./conformance.ts.

import type { OperationInfo, Span, TraceQuery, TraceSummary } from '@ariadne/model';

export interface StoreStats {
  spans: number;
  bytesOnDisk: number;
}

export interface TraceStore {
  /**
   * Adds spans. Once the promise resolves they are visible to every read.
   * Not necessarily durable: the WAL in front of the store is; `flush()`
   * makes them durable in the store's own files. Re-sent spans (same trace
   * id + span id) collapse to one in every read.
   */
  write(spans: readonly Span[]): Promise<void>;
  /** Every span of the trace; [] (not an error) for an unknown id. */
  getTrace(traceId: string): Promise<Span[]>;
  /** Traces with a span matching every condition, newest first. */
  search(query: TraceQuery): Promise<TraceSummary[]>;
  /** Service names, sorted. */
  services(): Promise<string[]>;
  /** Operations of a service with their span kinds, sorted by name then kind. */
  operations(service: string): Promise<OperationInfo[]>;
  /** Deletes spans that started before the cutoff; returns how many went. */
  deleteBefore(cutoffUnixNano: bigint): Promise<number>;
  /** Makes all written spans durable in the store's own files. */
  flush(): Promise<void>;
  stats(): Promise<StoreStats>;
  close(): Promise<void>;
}
