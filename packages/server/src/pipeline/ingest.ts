// The durable ingest path shared by every receiver:
//
//   receiver ──decode──▶ spans ──▶ store.write (visible) ──▶ WAL append (fsync) ──▶ ack
//                                                   checkpoint: store.flush ▶ WAL truncate
//
// A checkpoint's cut must never cover a WAL record whose spans the store has
// not taken yet. Spans given as objects go to the store before the WAL, so
// that holds by order. Encoded bodies (the hot path) go to both at once, to
// overlap the store's thread with the fsync; their LSNs are held in
// `storePending` until the store has them, and the cut stays below the
// oldest. Either way a crash loses nothing acknowledged, and re-applied
// records collapse in the store.

import type { Span } from '@ariadne/model';
import type { TraceStore } from '../store/types.js';
import type { Wal } from '../wal/index.js';
import type { Metrics } from '../metrics.js';
import { decodeTraceRequestJson, decodeTraceRequestProto, encodeTraceRequestProto } from '../receive/otlp/index.js';
import { BufferPool } from './buffer-pool.js';

/** What a WAL record holds: the first byte says how the rest is encoded. */
export const WalFormat = { OTLP_PROTO: 1, OTLP_JSON: 2 } as const;
export type WalFormat = (typeof WalFormat)[keyof typeof WalFormat];

export type IngestOutcome =
  | { ok: true; accepted: number }
  | { ok: false; reason: 'overloaded' | 'unavailable'; message: string };

/**
 * A store that decodes OTLP bytes itself (WorkerStore does it on its own
 * thread), so the ingest thread only validates them.
 */
export interface EncodedWriter {
  writeEncoded(bytes: Uint8Array, opts: { format: 'otlp-proto' | 'otlp-json'; validatedSpans?: number; lsn?: bigint }): Promise<{ spans: number }>;
}

function encodedWriter(store: TraceStore): EncodedWriter | undefined {
  const w = store as TraceStore & Partial<EncodedWriter>;
  return typeof w.writeEncoded === 'function' ? (w as EncodedWriter) : undefined;
}

const FORMAT_NAME = { [1]: 'otlp-proto', [2]: 'otlp-json' } as const;
const FORMAT_BYTE = { [1]: Uint8Array.of(1), [2]: Uint8Array.of(2) } as const;

/** Why a request was refused before its body was read (answer 503 / UNAVAILABLE with Retry-After). */
export interface Refusal {
  reason: 'overloaded' | 'memory_limit';
  message: string;
}

export interface IngesterOptions {
  maxInflightBytes: number;
  /** true while the process is over its memory limit's soft limit (see MemoryLimiter) */
  overMemoryLimit?: () => boolean;
  checkpointIntervalMs: number;
  log?: (msg: string) => void;
}

export class Ingester {
  private inflight = 0;
  private timer: NodeJS.Timeout | undefined;
  private checkpointing: Promise<void> | undefined;
  private closed = false;
  /** highest LSN of a record whose spans went to the store untagged (ingest(), JSON): a checkpoint past it must flush */
  private spansPathLsn = 0n;
  /** LSNs of encoded records in the WAL (or on their way) whose store write has not finished */
  private readonly storePending = new Set<bigint>();
  ready = false;
  /**
   * Where receivers get buffers for bodies they assemble from pieces;
   * ingestEncoded() gives them back (see buffer-pool.ts).
   */
  readonly bodies = new BufferPool();

  constructor(
    private readonly wal: Wal,
    private readonly store: TraceStore,
    private readonly metrics: Metrics,
    private readonly opts: IngesterOptions,
  ) {}

  /** Re-applies the WAL to the store after a restart, then starts checkpointing. */
  async start(): Promise<{ records: number; spans: number; corruptRecords: number }> {
    let spans = 0;
    const encoded = encodedWriter(this.store);
    const stats = await this.wal.replay(async (payload, lsn) => {
      const format = FORMAT_NAME[payload[0] as WalFormat];
      if (encoded && format) {
        // Undecodable bytes count as no spans, as decodeWalRecord does; a failing store stops recovery.
        const r = await encoded.writeEncoded(payload.subarray(1), format === 'otlp-proto' ? { format, lsn } : { format }).catch((e: Error) => {
          if (e.name === 'SyntaxError') return { spans: 0 };
          throw e;
        });
        spans += r.spans;
        return;
      }
      const decoded = decodeWalRecord(payload);
      if (decoded.length) {
        spans += decoded.length;
        await this.store.write(decoded);
      }
    });
    // open() repairs a torn tail before replay; its count is in the WAL's own stats.
    const corruptRecords = Math.max(stats.corruptRecords, this.wal.stats().corruptRecords);
    this.metrics.walCorruptRecords.set(corruptRecords);
    this.ready = true;
    this.timer = setInterval(() => void this.checkpoint().catch((e) => this.opts.log?.(`checkpoint failed: ${e}`)), this.opts.checkpointIntervalMs);
    this.timer.unref();
    return { records: stats.records, spans, corruptRecords };
  }

  /**
   * Reserves room for a request body before it is read; a refusal means the
   * server is over its in-flight bytes or its memory limit: answer 503 with
   * Retry-After (nothing reserved, no release()).
   */
  reserve(bytes: number): Refusal | undefined {
    if (this.opts.overMemoryLimit?.()) return { reason: 'memory_limit', message: 'server is over its memory limit; retry later' };
    if (this.inflight > 0 && this.inflight + bytes > this.opts.maxInflightBytes) {
      return { reason: 'overloaded', message: 'server is over its in-flight memory limit; retry later' };
    }
    this.inflight += bytes;
    this.metrics.inflightBytes.set(this.inflight);
    return undefined;
  }

  release(bytes: number): void {
    this.inflight -= bytes;
    this.metrics.inflightBytes.set(this.inflight);
  }

  /**
   * Makes decoded spans durable. `record` is what the WAL keeps (see
   * walRecord); the promise resolves once the spans are on disk. Never throws.
   */
  async ingest(receiver: string, spans: readonly Span[], record: Uint8Array): Promise<IngestOutcome> {
    if (this.closed || !this.ready) return { ok: false, reason: 'unavailable', message: 'server is starting or stopping; retry' };
    if (spans.length === 0) return { ok: true, accepted: 0 };
    try {
      await this.store.write(spans);
      const lsn = await this.wal.append(record);
      if (lsn > this.spansPathLsn) this.spansPathLsn = lsn;
    } catch (e) {
      this.metrics.requestsRefused.inc({ receiver, reason: 'unavailable' });
      this.opts.log?.(`ingest failed: ${(e as Error).message}`);
      return { ok: false, reason: 'unavailable', message: `storage error: ${(e as Error).message}` };
    }
    this.metrics.spansAccepted.inc({ receiver }, spans.length);
    return { ok: true, accepted: spans.length };
  }

  /**
   * Makes an OTLP body durable whose valid spans were counted by a validator
   * (validateTraceRequestProto / the JSON decoder) on this thread; the store
   * decodes it where it lives. Falls back to decoding here for a store that
   * takes only spans. Never throws. The body is the ingester's from here on:
   * one from `bodies` goes back there once the store and the WAL are done with it.
   */
  async ingestEncoded(receiver: string, format: WalFormat, body: Uint8Array, validSpans: number): Promise<IngestOutcome> {
    if (this.closed || !this.ready) return { ok: false, reason: 'unavailable', message: 'server is starting or stopping; retry' };
    if (validSpans === 0) return { ok: true, accepted: 0 };
    // the WAL record is the format byte and the body, written as two parts (no copy)
    const record = [FORMAT_BYTE[format], body];
    const encoded = encodedWriter(this.store);
    try {
      if (encoded) {
        // Store and WAL at once (see the top of this file): the write is sent
        // first, so a checkpoint's flush, sent later, reaches the store after it.
        // It carries the LSN append() will give the record (for durableLsn()) and,
        // for protobuf, the count this thread's validation found (no second check).
        const lsn = this.wal.nextLsn;
        const stored = encoded.writeEncoded(body, format === WalFormat.OTLP_PROTO ? { format: 'otlp-proto', validatedSpans: validSpans, lsn } : { format: 'otlp-json' });
        this.storePending.add(lsn);
        const logged = this.wal.append(record);
        try {
          const [s, w] = await Promise.allSettled([stored, logged]);
          // the store copied the bytes when it took them, the WAL has written them
          this.bodies.give(body);
          if (s.status === 'rejected') throw s.reason;
          if (w.status === 'rejected') throw w.reason;
          if (format !== WalFormat.OTLP_PROTO && lsn > this.spansPathLsn) this.spansPathLsn = lsn; // written untagged
        } finally {
          this.storePending.delete(lsn);
        }
      } else {
        await this.store.write(decodeWalRecord(walRecord(format, body)));
        await this.wal.append(record);
      }
    } catch (e) {
      this.metrics.requestsRefused.inc({ receiver, reason: 'unavailable' });
      this.opts.log?.(`ingest failed: ${(e as Error).message}`);
      return { ok: false, reason: 'unavailable', message: `storage error: ${(e as Error).message}` };
    }
    this.metrics.spansAccepted.inc({ receiver }, validSpans);
    return { ok: true, accepted: validSpans };
  }

  /**
   * Drops the WAL segments the store's own files now cover: up to the
   * store's durableLsn() when it tracks one (it flushes by itself), else
   * after flushing it.
   */
  checkpoint(): Promise<void> {
    this.checkpointing ??= (async () => {
      try {
        // Up to what the store has in its files by itself (it flushes heads by
        // size and age) when it says so and every untagged record is below
        // that; otherwise flush it now, as a store without durableLsn needs.
        const durable = await this.store.durableLsn?.().catch(() => undefined);
        let cut: bigint;
        if (durable !== undefined && this.spansPathLsn <= durable) {
          cut = durable;
        } else {
          cut = this.wal.stats().lastLsn;
          await this.store.flush();
        }
        // below every record the store may not have yet
        for (const lsn of this.storePending) if (lsn - 1n < cut) cut = lsn - 1n;
        await this.wal.truncateBefore(cut + 1n);
        this.refreshGauges();
        const st = await this.store.stats();
        this.metrics.storeBytes.set(st.bytesOnDisk);
        this.metrics.storeSpans.set(st.spans);
      } finally {
        this.checkpointing = undefined;
      }
    })();
    return this.checkpointing;
  }

  refreshGauges(): void {
    const w = this.wal.stats();
    this.metrics.walBytes.set(w.bytes);
    this.metrics.walSegments.set(w.segments);
    this.metrics.walTrashSegments.set(this.wal.trashedSegments);
    this.metrics.walSyncs.set(w.syncs);
    this.metrics.walAppends.set(w.appends);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.checkpointing;
  }
}

/** A WAL record for spans that arrived in some other encoding. */
export function walRecord(format: WalFormat, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 1);
  out[0] = format;
  out.set(body, 1);
  return out;
}

export function walRecordOfSpans(spans: readonly Span[]): Uint8Array {
  return walRecord(WalFormat.OTLP_PROTO, encodeTraceRequestProto(spans));
}

/** The valid spans of a WAL record; validation is deterministic, so replay keeps exactly what was acknowledged. */
export function decodeWalRecord(record: Uint8Array): Span[] {
  const body = record.subarray(1);
  const out =
    record[0] === WalFormat.OTLP_PROTO
      ? decodeTraceRequestProto(body)
      : record[0] === WalFormat.OTLP_JSON
        ? decodeTraceRequestJson(body)
        : undefined;
  return out?.ok ? out.result.spans : [];
}
