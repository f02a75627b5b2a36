// Ariadne's self-metrics, exposed at /metrics in Prometheus text format.
// One registry per server instance so that tests can run several servers.

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export type RejectReason =
  | 'invalid_id'
  | 'invalid_span'
  | 'decode_error'
  | 'too_large'
  | 'unsupported_media_type'
  | 'overloaded'
  | 'unavailable'
  | 'unauthorized';

export interface Metrics {
  registry: Registry;
  spansReceived: Counter<'receiver'>;
  spansAccepted: Counter<'receiver'>;
  spansRejected: Counter<'receiver' | 'reason'>;
  requestsRefused: Counter<'receiver' | 'reason'>;
  inflightBytes: Gauge;
  memoryLimitBytes: Gauge;
  residentBytes: Gauge;
  walBytes: Gauge;
  walSegments: Gauge;
  walTrashSegments: Gauge;
  walSyncs: Gauge;
  walAppends: Gauge;
  walCorruptRecords: Gauge;
  storeBytes: Gauge;
  storeSpans: Gauge;
  retentionDeleted: Counter;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ariadne_' });
  const r = { registers: [registry] };
  return {
    registry,
    spansReceived: new Counter({ name: 'ariadne_spans_received_total', help: 'Spans received, before validation', labelNames: ['receiver'], ...r }),
    spansAccepted: new Counter({ name: 'ariadne_spans_accepted_total', help: 'Spans durably accepted', labelNames: ['receiver'], ...r }),
    spansRejected: new Counter({
      name: 'ariadne_spans_rejected_total',
      help: 'Spans refused, by reason (a refused request counts all its spans when they are known)',
      labelNames: ['receiver', 'reason'],
      ...r,
    }),
    requestsRefused: new Counter({
      name: 'ariadne_requests_refused_total',
      help: 'Requests refused whole, by reason (overload, too large, bad body, ...)',
      labelNames: ['receiver', 'reason'],
      ...r,
    }),
    memoryLimitBytes: new Gauge({ name: 'ariadne_memory_limit_bytes', help: 'The configured memory limit (--memory-limit); receivers refuse above 90% of it', ...r }),
    residentBytes: new Gauge({ name: 'ariadne_resident_memory_bytes', help: 'Resident memory of the process, as the memory limiter last sampled it', ...r }),
    inflightBytes: new Gauge({ name: 'ariadne_ingest_inflight_bytes', help: 'Request bytes being processed', ...r }),
    walBytes: new Gauge({ name: 'ariadne_wal_bytes', help: 'Bytes in write-ahead log segments', ...r }),
    walSegments: new Gauge({ name: 'ariadne_wal_segments', help: 'Write-ahead log segment files', ...r }),
    walTrashSegments: new Gauge({ name: 'ariadne_wal_trash_segments', help: 'Trimmed WAL segments not yet deleted from disk (deleted one at a time in the background)', ...r }),
    walSyncs: new Gauge({ name: 'ariadne_wal_syncs', help: 'fdatasync calls since start', ...r }),
    walAppends: new Gauge({ name: 'ariadne_wal_appends', help: 'WAL records appended since start', ...r }),
    walCorruptRecords: new Gauge({ name: 'ariadne_wal_corrupt_records', help: 'Corrupt or torn WAL records skipped at recovery', ...r }),
    storeBytes: new Gauge({ name: 'ariadne_store_bytes', help: 'Bytes on disk of the span store', ...r }),
    storeSpans: new Gauge({ name: 'ariadne_store_spans', help: 'Spans in the store', ...r }),
    retentionDeleted: new Counter({ name: 'ariadne_retention_deleted_spans_total', help: 'Spans deleted by retention', ...r }),
  };
}
