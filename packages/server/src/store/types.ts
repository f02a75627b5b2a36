// The storage contract. Every backend (embedded, ClickHouse) implements
// TraceStore and passes the one conformance suite in ./conformance.ts.

import type { OperationInfo, RedMetrics, Span, TraceQuery, TraceSummary } from '@ariadne/model';

export interface StoreStats {
  /** Stored spans, written but not yet flushed ones included. May count a re-sent copy the store has not collapsed yet. */
  spans: number;
  /** Size of the store's own files. */
  bytesOnDisk: number;
}

export interface TraceStore {
  /**
   * Adds spans. Once the promise resolves they are visible to every read.
   * Not necessarily durable: the WAL in front of the store is; `flush()`
   * makes them durable in the store's own files. Re-sent spans (same trace
   * id + span id) collapse to one in every read. Ids and numbers must be
   * valid (receivers check): a batch holding an invalid span is rejected
   * whole with a TypeError.
   */
  write(spans: readonly Span[]): Promise<void>;
  /**
   * Every span of the trace, each span id once, by start time then span id;
   * [] (not an error) for an unknown or malformed id.
   */
  getTrace(traceId: string): Promise<Span[]>;
  /**
   * Traces with a span matching every condition of the query (see TraceQuery).
   * The `limit` traces whose latest matching span started last are chosen,
   * then returned by trace start, newest first (equal starts: trace id
   * ascending). Summaries count each span id once.
   */
  search(query: TraceQuery): Promise<TraceSummary[]>;
  /** Service names, sorted. */
  services(): Promise<string[]>;
  /** Operations of a service with their span kinds, sorted by name then kind. */
  operations(service: string): Promise<OperationInfo[]>;
  /**
   * Deletes spans that started before the cutoff (a trace may lose only some
   * of its spans); returns how many stored copies went.
   */
  deleteBefore(cutoffUnixNano: bigint): Promise<number>;
  /** Makes all written spans durable in the store's own files. */
  flush(): Promise<void>;
  stats(): Promise<StoreStats>;
  /** Flushes, then releases the store's files; later calls reject. Calling it again is harmless. */
  close(): Promise<void>;
  /**
   * Optional: RED metrics computed natively over a time range (every span in
   * it, not a sample of traces). Stores without it are served by a bounded
   * scan of whole traces in the query layer.
   */
  red?(query: RedQuery): Promise<RedMetrics[]>;
  /**
   * Optional, with writes tagged by WAL LSN (WorkerStore.writeEncoded's
   * `lsn`): the highest such LSN whose spans, and those of every write before
   * it, are in the store's own files. The checkpoint truncates the WAL up to
   * it without forcing a flush. 0n before the first tagged write is flushed.
   */
  durableLsn?(): Promise<bigint>;
}

export interface RedQuery {
  groupBy: 'service' | 'operation';
  service?: string;
  operation?: string;
  /** count only spans of these kinds; default all */
  kinds?: readonly number[];
  /** inclusive bounds on span start, unix ns; default: everything stored */
  startUnixNano?: bigint;
  endUnixNano?: bigint;
  /** read every row and compute exact quantiles instead of per-block histograms */
  exact?: boolean;
}
