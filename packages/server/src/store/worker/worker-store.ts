// WorkerStore: a TraceStore whose real store lives on a worker thread, so
// that decoding and storing spans use a core of their own.
//
//   main thread                               worker thread (worker-main.ts)
//   WorkerStore.write(spans) ──clone──▶        store.write(spans)
//   WorkerStore.writeEncoded(otlp) ──bytes──▶  decodeTraceRequestProto/Json ▶ store.write
//   WorkerStore.getTrace(id)    ◀──clone──     store.getTrace(id)
//
// Every call is one message with a request id; the reply settles its promise.
// Writes are bounded in flight (count and bytes): beyond that they wait their
// turn, first come first served. If the worker dies, every pending and later
// call rejects with the reason, and close() still resolves.

import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EventLoopUtilization } from 'node:perf_hooks';
import type { ResourceLimits } from 'node:worker_threads';
import { Worker } from 'node:worker_threads';
import type { OperationInfo, RedMetrics, Span, TraceQuery, TraceSummary } from '@ariadne/model';
import type { RedQuery, StoreStats, TraceStore } from '../types.js';
import type { EncodedFormat, Reply, Request, SerializedError, StoreMethod, WorkerInit } from './protocol.js';
import { SharedRing } from './shared-ring.js';

/** Encoded writes posted together at most (see send()). */
const WRITE_SLICE = 8;

export interface WorkerStoreOptions {
  /**
   * The entry module that opens the store inside the worker: a file: URL or
   * an absolute path of a module exporting `openStore(options, context)`
   * (see EMBEDDED_STORE_ENTRY).
   */
  module: string | URL;
  /** Passed to openStore; structured-cloned, so data only (no functions). */
  options: unknown;
  /** Writes (write and writeEncoded) in flight at once before the next one waits. Default 64. */
  maxInflightWrites?: number;
  /** Bytes of writeEncoded payloads in flight before the next one waits (one always goes). Default 64 MiB. */
  maxInflightBytes?: number;
  /** Where the store's own messages (a failed background flush) go. Default: console.warn. */
  log?: (msg: string) => void;
  /**
   * Called once if the worker dies (crash or exit) after opening: every call
   * rejects from then on. The WAL in front still holds what was acknowledged,
   * so exiting and restarting is a sound answer.
   */
  onFailure?: (reason: string) => void;
  /** The worker's V8 heap limits (Node's Worker option); default: V8's, as for the main thread. */
  resourceLimits?: ResourceLimits;
  /** Size of the shared ring writeEncoded bodies travel in; 0 sends each its own copy. Default 32 MiB. */
  ringBytes?: number;
}

export interface WriteEncodedOptions {
  /**
   * 'otlp-proto' (default): decoded with decodeTraceRequestProto, the spans
   * validateTraceRequestProto counts. 'otlp-json': with decodeTraceRequestJson
   * (UTF-8 bytes), the spans a main-thread decode of the same body returned.
   */
  format?: EncodedFormat;
  /**
   * Hand the bytes' ArrayBuffer to the worker instead of copying them; the
   * caller's array is unusable afterwards. Only when the array spans its
   * whole (non-shared) buffer; otherwise the bytes are copied anyway.
   */
  transfer?: boolean;
  /**
   * Protobuf only: validateTraceRequestProto already accepted these exact
   * bytes and counted this many valid spans (the ingest thread does, before
   * the WAL), so the store need not walk them a second time to check them.
   */
  validatedSpans?: number;
  /** Protobuf only: the WAL LSN of this body's record, for durableLsn() (stores that track it) */
  lsn?: bigint;
}

/** Where writes stand, for gauges. */
export interface WorkerStoreLoad {
  inflightWrites: number;
  inflightBytes: number;
  /** writes waiting for room */
  waitingWrites: number;
}

/** The entry module for the embedded (DuckDB) store: `WorkerStore.open({ module: EMBEDDED_STORE_ENTRY, options: { dir } })`. */
export const EMBEDDED_STORE_ENTRY = new URL('./embedded-entry.js', import.meta.url).href;
/** Entry module of the block store (see blocks-entry.ts). */
export const BLOCKS_STORE_ENTRY = new URL('./blocks-entry.js', import.meta.url).href;

const WORKER_SCRIPT = new URL('./worker-main.js', import.meta.url);
const ERROR_TYPES: Record<string, ErrorConstructor> = { TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export class WorkerStore implements TraceStore {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** encoded writes not posted yet (see send) */
  private outbox: Request[] = [];
  private outboxTransfers: ArrayBuffer[] = [];
  /** Set once the worker is gone: why later calls fail. */
  private gone: string | undefined;
  private closing: Promise<void> | undefined;
  private inflightWrites = 0;
  private inflightBytes = 0;
  /** Writes waiting for room, in arrival order; run() posts one. */
  private readonly waiting: { bytes: number; run(): void }[] = [];
  private readonly drainWaiters: (() => void)[] = [];
  private readonly maxWrites: number;
  private readonly maxBytes: number;
  private readonly onFailure: ((reason: string) => void) | undefined;

  /** Settled by the worker's first word: 'ready' or 'open-failed' (or its death). */
  private readonly opened: Promise<void>;
  private openSettle!: { resolve(): void; reject(e: Error): void };
  /** The store opened in the worker (a death after this is a failure, not a failed open). */
  private ready = false;

  private constructor(
    private readonly worker: Worker,
    opts: WorkerStoreOptions,
    private readonly ring: SharedRing | undefined,
  ) {
    this.maxWrites = Math.max(1, opts.maxInflightWrites ?? 64);
    this.maxBytes = Math.max(1, opts.maxInflightBytes ?? 64 * 1024 * 1024);
    this.onFailure = opts.onFailure;
    this.opened = new Promise((resolve, reject) => (this.openSettle = { resolve, reject }));
    const log = opts.log ?? ((msg: string) => console.warn(msg));
    const onReply = (reply: Reply): void => {
      switch (reply.type) {
        case 'batch':
          for (const r of reply.replies) onReply(r);
          return;
        case 'result': {
          const p = this.pending.get(reply.id);
          if (!p) return;
          this.pending.delete(reply.id);
          if (this.pending.size === 0) worker.unref();
          if (reply.ok) p.resolve(reply.value);
          else p.reject(errorFrom(reply.error));
          return;
        }
        case 'log':
          log(reply.message);
          return;
        case 'ready':
          this.ready = true;
          this.openSettle.resolve();
          return;
        case 'open-failed':
          this.openSettle.reject(errorFrom(reply.error));
          return;
      }
    };
    worker.on('message', onReply);
    // Listening to 'error' is what keeps a crash in the worker from being one in this thread.
    worker.on('error', (e) => this.die(`store worker crashed: ${e.message}`));
    worker.on('exit', (code) => this.die(`store worker exited (code ${code})`));
  }

  /** Starts the worker and opens the store in it; rejects with the worker's error if that fails. */
  static async open(opts: WorkerStoreOptions): Promise<WorkerStore> {
    const init: WorkerInit = { module: moduleUrl(opts.module), options: opts.options };
    const ringBytes = opts.ringBytes ?? 32 * 2 ** 20;
    const ring = ringBytes > 0 ? new SharedRing(ringBytes) : undefined;
    if (ring) init.ring = ring.buffer;
    const store = new WorkerStore(new Worker(WORKER_SCRIPT, { workerData: init, ...(opts.resourceLimits ? { resourceLimits: opts.resourceLimits } : {}) }), opts, ring);
    try {
      await store.opened;
    } catch (e) {
      store.gone ??= 'closed';
      await store.worker.terminate();
      throw e;
    }
    // Idle, the worker does not keep the process alive (as the embedded store's timers do not).
    store.worker.unref();
    return store;
  }

  // --- TraceStore ---------------------------------------------------------------------

  write(spans: readonly Span[]): Promise<void> {
    return this.admitWrite(0, () => this.send('write', [spans])) as Promise<void>;
  }

  getTrace(traceId: string): Promise<Span[]> {
    return this.call('getTrace', [traceId]) as Promise<Span[]>;
  }

  search(query: TraceQuery): Promise<TraceSummary[]> {
    return this.call('search', [query]) as Promise<TraceSummary[]>;
  }

  services(): Promise<string[]> {
    return this.call('services', []) as Promise<string[]>;
  }

  operations(service: string): Promise<OperationInfo[]> {
    return this.call('operations', [service]) as Promise<OperationInfo[]>;
  }

  deleteBefore(cutoffUnixNano: bigint): Promise<number> {
    return this.call('deleteBefore', [cutoffUnixNano]) as Promise<number>;
  }

  flush(): Promise<void> {
    return this.call('flush', []) as Promise<void>;
  }

  stats(): Promise<StoreStats> {
    return this.call('stats', []) as Promise<StoreStats>;
  }

  /** Rejects with a TypeError when the hosted store has no native RED. */
  red(query: RedQuery): Promise<RedMetrics[]> {
    return this.call('red', [query]) as Promise<RedMetrics[]>;
  }

  /**
   * Sends the writes still waiting for room, closes the store in the worker
   * (after every call sent before it), then stops the worker. Rejects if the
   * store fails to close; resolves if the worker is already gone.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        while (this.waiting.length > 0) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
        if (this.gone === undefined) await this.send('close', []);
      } catch (e) {
        // A worker that died has nothing left to close; a store that failed to close says why.
        if (this.gone === undefined) throw e;
      } finally {
        this.gone ??= 'closed';
        await this.worker.terminate();
      }
    })();
    return this.closing;
  }

  // --- beyond TraceStore ----------------------------------------------------------------

  /**
   * Decodes an OTLP ExportTraceServiceRequest (protobuf unless `format` says
   * JSON) in the worker and writes its valid spans. Resolves with how many
   * were written: for protobuf, the count validateTraceRequestProto gives.
   * Rejects with a SyntaxError if the bytes are not a request, with the
   * store's error if it refuses them. Waits while the in-flight bound is
   * reached. The bytes are copied when the write is admitted (into the shared
   * ring, or a message of their own; or handed over, see `transfer`), so they
   * must not change until the promise settles.
   */
  writeEncoded(otlp: Uint8Array, opts: WriteEncodedOptions = {}): Promise<{ spans: number }> {
    const format = opts.format ?? 'otlp-proto';
    const validated = format === 'otlp-proto' ? opts.validatedSpans : undefined;
    const tags = { ...(validated === undefined ? {} : { validatedSpans: validated }), ...(opts.lsn === undefined || format !== 'otlp-proto' ? {} : { lsn: opts.lsn }) };
    if (this.ring && !opts.transfer) {
      const ring = this.ring;
      return this.admitWrite(otlp.byteLength, () => {
        // copied in when admitted (not before: the ring holds only what is in flight)
        const at = ring.put(otlp);
        if (at < 0) return this.postCopy(otlp, format, tags, false);
        const req = { format, at, length: otlp.byteLength, ...tags };
        return this.send('writeEncoded', req).finally(() => ring.release(at));
      }) as Promise<{ spans: number }>;
    }
    return this.admitWrite(otlp.byteLength, () => this.postCopy(otlp, format, tags, opts.transfer === true)) as Promise<{ spans: number }>;
  }

  /** Rejects with a TypeError when the hosted store does not track it. */
  durableLsn(): Promise<bigint> {
    return this.call('durableLsn', []) as Promise<bigint>;
  }

  /** writeEncoded's bytes in a message of their own (copied, or handed over when `transfer` allows). */
  private postCopy(otlp: Uint8Array, format: EncodedFormat, tags: { validatedSpans?: number; lsn?: bigint }, transfer: boolean): Promise<unknown> {
    const whole = otlp.byteOffset === 0 && otlp.byteLength === otlp.buffer.byteLength;
    let bytes: Uint8Array<ArrayBuffer>;
    if (transfer && whole && otlp.buffer instanceof ArrayBuffer) {
      bytes = otlp as Uint8Array<ArrayBuffer>;
    } else {
      bytes = new Uint8Array(otlp.byteLength);
      bytes.set(otlp);
    }
    return this.send('writeEncoded', { format, bytes, ...tags }, bytes.buffer);
  }

  /** Why the worker died, if it did (undefined while it serves, and after a clean close). */
  get failure(): string | undefined {
    return this.gone === 'closed' ? undefined : this.gone;
  }

  load(): WorkerStoreLoad {
    return { inflightWrites: this.inflightWrites, inflightBytes: this.inflightBytes, waitingWrites: this.waiting.length };
  }

  /** How busy the store's thread is (as performance.eventLoopUtilization() is for this one). */
  eventLoopUtilization(previous?: EventLoopUtilization): EventLoopUtilization {
    return this.worker.performance.eventLoopUtilization(previous);
  }

  // --- calls --------------------------------------------------------------------------------

  private call(method: StoreMethod, args: unknown[]): Promise<unknown> {
    if (this.closing) return Promise.reject(new Error('worker store: closed'));
    return this.send(method, args);
  }

  /**
   * Sends one request and returns the promise its reply settles. Encoded
   * writes (always cloneable) wait in the outbox for the end of this turn of
   * the event loop, or for WRITE_SLICE of them, and go together; any other call first posts the outbox,
   * then itself, so calls reach the worker in the order they were made.
   */
  private send(method: StoreMethod | 'writeEncoded', payload: unknown, transfer?: ArrayBuffer): Promise<unknown> {
    if (this.gone !== undefined) return Promise.reject(this.goneError());
    const id = this.nextId++;
    const req = (method === 'writeEncoded' ? { id, method, ...(payload as object) } : { id, method, args: payload }) as Request;
    if (method === 'writeEncoded') {
      return new Promise((resolve, reject) => {
        if (this.pending.size === 0) this.worker.ref();
        this.pending.set(id, { resolve, reject });
        this.outbox.push(req);
        if (transfer) this.outboxTransfers.push(transfer);
        const n = this.outbox.length;
        if (n === 1) setImmediate(() => this.postOutbox());
        // a burst goes in slices: the store thread starts on the first writes while this thread reads the rest
        else if (n >= WRITE_SLICE) this.postOutbox();
      });
    }
    this.postOutbox();
    return new Promise((resolve, reject) => {
      try {
        this.worker.postMessage(req, transfer ? [transfer] : []);
      } catch (e) {
        // Arguments that cannot be cloned (a function, say): nothing was sent.
        reject(e as Error);
        return;
      }
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
    });
  }

  private postOutbox(): void {
    if (this.outbox.length === 0) return;
    const batch = this.outbox;
    const transfers = this.outboxTransfers;
    this.outbox = [];
    this.outboxTransfers = [];
    // A worker that died meanwhile has rejected these already (die()).
    if (this.gone !== undefined) return;
    this.worker.postMessage(batch.length === 1 ? batch[0]! : { batch }, transfers);
  }

  private goneError(): Error {
    return new Error(this.gone === 'closed' ? 'worker store: closed' : `worker store: ${this.gone}`);
  }

  /** The worker is gone (crash or exit): settle everything that waits on it. */
  private die(reason: string): void {
    if (this.gone !== undefined) return;
    this.gone = reason;
    if (this.ready) queueMicrotask(() => this.onFailure?.(reason));
    else this.openSettle.reject(new Error(`${reason} while opening the store`));
    const err = this.goneError();
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const w of this.waiting.splice(0)) w.run(); // each rejects at once: the worker is gone
    for (const f of this.drainWaiters.splice(0)) f();
  }

  // --- write admission -------------------------------------------------------------------
  // A write posts its message when admitted, synchronously, so that close()
  // (which waits for the queue to empty) always comes after it.

  private fits(bytes: number): boolean {
    return this.inflightWrites === 0 || (this.inflightWrites < this.maxWrites && this.inflightBytes + bytes <= this.maxBytes);
  }

  private admitWrite(bytes: number, post: () => Promise<unknown>): Promise<unknown> {
    if (this.closing) return Promise.reject(new Error('worker store: closed'));
    if (this.gone !== undefined) return Promise.reject(this.goneError());
    if (this.waiting.length === 0 && this.fits(bytes)) return this.runWrite(bytes, post);
    return new Promise((resolve, reject) => this.waiting.push({ bytes, run: () => void this.runWrite(bytes, post).then(resolve, reject) }));
  }

  private runWrite(bytes: number, post: () => Promise<unknown>): Promise<unknown> {
    this.inflightWrites++;
    this.inflightBytes += bytes;
    return post().finally(() => this.releaseWrite(bytes));
  }

  private releaseWrite(bytes: number): void {
    this.inflightWrites--;
    this.inflightBytes -= bytes;
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.bytes)) this.waiting.shift()!.run();
    if (this.waiting.length === 0) for (const f of this.drainWaiters.splice(0)) f();
  }
}

function moduleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (module.startsWith('file:')) return module;
  if (isAbsolute(module)) return pathToFileURL(module).href;
  throw new TypeError(`WorkerStore: module must be a file: URL or an absolute path, got '${module}'`);
}

/** The worker's error, as the same kind of error, with the worker's stack after this thread's. */
function errorFrom(e: SerializedError): Error {
  const err = new (ERROR_TYPES[e.name] ?? Error)(e.message);
  if (!(e.name in ERROR_TYPES) && e.name !== 'Error') err.name = e.name;
  const workerFrames = e.stack.split('\n').filter((l) => l.trimStart().startsWith('at ')).join('\n');
  if (workerFrames) err.stack = `${err.stack ?? ''}\n    --- in the store worker ---\n${workerFrames}`;
  return err;
}
