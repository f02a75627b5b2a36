// The store's thread: opens the store named by workerData (an entry module
// exporting openStore), then serves WorkerStore's calls one message each.
// OTLP bytes are decoded here, so span building costs this thread, not the
// one answering clients.
//
// Calls run as they arrive, concurrently, exactly as they would on the main
// thread: a store's own ordering rules (write visible once it resolves) hold,
// since a call reaches the store in the order it was sent.

import { Buffer } from 'node:buffer';
import { parentPort, workerData } from 'node:worker_threads';
import { decodeTraceRequestJson, decodeTraceRequestProto } from '../../receive/otlp/index.js';
import type { TraceStore } from '../types.js';
import type { Envelope, OpenStore, Reply, Request, StoreMethod, WorkerInit } from './protocol.js';
import { STORE_METHODS, serializeError } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('worker-main.js runs only as a worker thread (see WorkerStore)');

const init = workerData as WorkerInit;
const ring = init.ring ? Buffer.from(init.ring) : undefined;
// Replies made in one turn of this thread's loop go in one message (at most REPLY_SLICE of them).
const REPLY_SLICE = 4;
let outbox: Reply[] = [];
const flushOutbox = () => {
  const replies = outbox;
  if (replies.length === 0) return;
  outbox = [];
  port.postMessage(replies.length === 1 ? replies[0]! : { type: 'batch', replies });
};
const send = (reply: Reply) => {
  const n = outbox.push(reply);
  if (n === 1) setImmediate(flushOutbox);
  // A burst of writes staged in one turn is answered in slices, not all at
  // its end: the first clients get their answer (and send again) while the
  // rest is still being staged, instead of every client waiting on the last.
  else if (n >= REPLY_SLICE) flushOutbox();
};
/** Posts at once, after what waits in the outbox (for the last words before the port closes). */
const sendNow = (reply: Reply) => {
  outbox.push(reply);
  flushOutbox();
};
const methods = new Set<string>(STORE_METHODS);

let store: TraceStore;
try {
  const mod = (await import(init.module)) as { openStore?: OpenStore };
  if (typeof mod.openStore !== 'function') throw new Error(`${init.module} does not export openStore(options)`);
  store = await mod.openStore(init.options, { log: (message) => send({ type: 'log', message }) });
  port.on('message', (msg: Envelope) => {
    if ('batch' in msg) for (const req of msg.batch) void serve(req);
    else void serve(msg);
  });
  sendNow({ type: 'ready' });
} catch (e) {
  sendNow({ type: 'open-failed', error: serializeError(e) });
  port.close();
}

async function serve(req: Request): Promise<void> {
  try {
    let value: unknown;
    if (req.method === 'writeEncoded') {
      const json = req.format === 'otlp-json';
      // a view of the shared ring: read before the reply, after which main reuses the space
      const bytes = req.bytes ?? ring!.subarray(req.at!, req.at! + req.length!);
      // A store that takes OTLP protobuf itself (the block store) skips building Spans.
      const direct = store as TraceStore & { writeOtlpProto?(bytes: Uint8Array, validatedSpans?: number, lsn?: bigint): Promise<{ spans: number }> };
      if (!json && typeof direct.writeOtlpProto === 'function') {
        send({ type: 'result', id: req.id, ok: true, value: await direct.writeOtlpProto(bytes, req.validatedSpans, req.lsn) });
        return;
      }
      const decoded = json ? decodeTraceRequestJson(bytes) : decodeTraceRequestProto(bytes);
      // A SyntaxError (as JSON.parse throws) tells bad input from a failing store.
      if (!decoded.ok) throw new SyntaxError(`cannot decode OTLP ${json ? 'JSON' : 'protobuf'}: ${decoded.error}`);
      const { spans } = decoded.result;
      if (spans.length > 0) await store.write(spans);
      value = { spans: spans.length };
    } else if (methods.has(req.method)) {
      if (typeof store[req.method as StoreMethod] !== 'function') throw new TypeError(`this store has no '${req.method}' method`);
      value = await (store[req.method as StoreMethod] as (...args: unknown[]) => Promise<unknown>).apply(store, req.args);
    } else {
      throw new Error(`unknown store method '${String(req.method)}'`);
    }
    // A value that cannot be cloned throws here, and is reported like any other failure.
    send({ type: 'result', id: req.id, ok: true, value });
  } catch (e) {
    send({ type: 'result', id: req.id, ok: false, error: serializeError(e) });
  }
}
