// The messages between WorkerStore (main thread) and worker-main.ts (the
// store's thread), and the contract of a store entry module.

import type { TraceStore } from '../types.js';

/**
 * What a store entry module exports (see embedded-entry.ts): opens the store
 * inside the worker. `options` arrive by structured clone, so they hold data
 * only; functions the store wants (a logger) come through `context`.
 */
export type OpenStore<Options = unknown> = (options: Options, context: StoreEntryContext) => Promise<TraceStore>;

export interface StoreEntryContext {
  /** Reaches WorkerStore's `log` on the main thread. */
  log(msg: string): void;
}

/** The TraceStore methods a call may name (anything else is refused in the worker). */
export const STORE_METHODS = ['write', 'getTrace', 'search', 'services', 'operations', 'deleteBefore', 'flush', 'stats', 'close', 'red', 'durableLsn'] as const;
export type StoreMethod = (typeof STORE_METHODS)[number];

/** What the worker starts with (Worker's workerData). */
export interface WorkerInit {
  /** file: URL of the entry module */
  module: string;
  options: unknown;
  /** the SharedRing writeEncoded bodies travel in (see shared-ring.ts) */
  ring?: SharedArrayBuffer;
}

/** main -> worker */
export type Request =
  | { id: number; method: StoreMethod; args: unknown[] }
  /** An OTLP ExportTraceServiceRequest, decoded and written in the worker */
  /** bytes: the request's own copy; or `at`/`length`: where they are in the shared ring */
  | { id: number; method: 'writeEncoded'; format: EncodedFormat; bytes?: Uint8Array; at?: number; length?: number; validatedSpans?: number; lsn?: bigint };

/**
 * main -> worker: what one postMessage carries. Writes posted in one turn of
 * the event loop travel together, up to 8 (one wake-up of the other thread
 * instead of one each, which on a loaded 2-core machine costs more than the
 * copy; a burst in slices, so the other thread starts on it early).
 */
export type Envelope = Request | { batch: Request[] };

/** How writeEncoded's bytes are encoded (the two OTLP trace encodings, as the WAL keeps them). */
export type EncodedFormat = 'otlp-proto' | 'otlp-json';

export interface SerializedError {
  name: string;
  message: string;
  stack: string;
}

/** worker -> main */
export type Reply =
  | { type: 'ready' }
  | { type: 'open-failed'; error: SerializedError }
  | { type: 'log'; message: string }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: SerializedError }
  /** replies sent in one turn of the worker's event loop (up to 4), in order */
  | { type: 'batch'; replies: Reply[] };

export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack ?? '' };
  return { name: 'Error', message: String(e), stack: '' };
}
