// What moving the store to a worker buys: OTLP/protobuf ingest into the
// embedded store with the decode and the store on the main thread, against
// validate-on-main + writeEncoded to a WorkerStore; then what reads cost
// through the worker (structured clone of the results).
//
//   node packages/server/dist/store/worker/bench.js [--spans 300000] [--clients 8] [--json]
//
// Modes (each on a fresh store, same payloads: 100 spans x 10 attributes, ~69 KB):
//   main          decodeTraceRequestProto + EmbeddedStore.write, all on the main thread
//   worker        validateTraceRequestProto on main, WorkerStore.writeEncoded (decode + write in the worker)
//   worker-spans  decode on main, WorkerStore.write(spans) (the spans cross by structured clone)
//   main-null, worker-null   the same as main / worker with a store that keeps nothing: the ceilings
// The timed phase ends after a final flush(). CPU: process.cpuUsage() counts
// every thread; "main thread" is the main event loop's active time
// (performance.eventLoopUtilization), "store thread" the worker's.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { Span } from '@ariadne/model';
import { decodeTraceRequestProto, encodeTraceRequestProto, validateTraceRequestProto } from '../../receive/otlp/index.js';
import { samplePayloadSpans } from '../../receive/otlp/speed-check.js';
import { attrs, makeSpan, nowNanos, randomSpanId, randomTraceId } from '../../testing/fixtures.js';
import { EmbeddedStore } from '../embedded/index.js';
import type { TraceStore } from '../types.js';
import { EMBEDDED_STORE_ENTRY, WorkerStore } from './index.js';

type Mode = 'main' | 'worker' | 'worker-spans' | 'main-null' | 'worker-null';

const DISCARDING_ENTRY = new URL('./testing-entry.js', import.meta.url);

/** main-null: decoded spans go nowhere. */
const nullStore = { write: async () => {}, flush: async () => {}, close: async () => {} } as unknown as TraceStore;

export interface IngestFigures {
  mode: Mode;
  spans: number;
  seconds: number;
  spansPerSec: number;
  /** all threads (process.cpuUsage), µs per span */
  cpuMicrosPerSpan: number;
  /** main event loop active time, µs per span */
  mainMicrosPerSpan: number;
  /** store worker's event loop active time, µs per span (worker modes) */
  storeThreadMicrosPerSpan?: number;
}

export interface ReadFigures {
  mode: 'main' | 'worker';
  /** ms per getTrace of a 10,000-span trace: wall, and main-thread active */
  getTrace10kMs: number;
  getTrace10kMainMs: number;
  /** ms per search (limit 20 / limit 1000): wall and main-thread active */
  search20Ms: number;
  search20MainMs: number;
  search1000Ms: number;
  search1000MainMs: number;
}

const DISTINCT_PAYLOADS = 500;

/** Payloads of the speed-check request with ids made distinct per payload. */
function payloads(count: number): Uint8Array[] {
  const template = samplePayloadSpans();
  const out: Uint8Array[] = [];
  for (let i = 0; i < Math.min(count, DISTINCT_PAYLOADS); i++) {
    const tag = (i + 1).toString(16).padStart(8, '0');
    const re = (id: string) => (id === '' ? '' : tag + id.slice(8));
    out.push(encodeTraceRequestProto(template.map((s) => ({ ...s, traceId: re(s.traceId), spanId: re(s.spanId), parentSpanId: re(s.parentSpanId) }))));
  }
  return out;
}

async function ingest(mode: Mode, dir: string, all: Uint8Array[], total: number, clients: number): Promise<IngestFigures> {
  const store: TraceStore =
    mode === 'main'
      ? await EmbeddedStore.open({ dir })
      : mode === 'main-null'
        ? nullStore
        : mode === 'worker-null'
          ? await WorkerStore.open({ module: DISCARDING_ENTRY, options: { discard: true } })
          : await WorkerStore.open({ module: EMBEDDED_STORE_ENTRY, options: { dir } });
  const worker = store instanceof WorkerStore ? store : undefined;
  try {
    const requests = Math.ceil(total / 100);
    let next = 0;
    let spans = 0;
    const client = async () => {
      while (next < requests) {
        const body = all[next++ % all.length]!;
        if (mode === 'worker' || mode === 'worker-null') {
          const v = validateTraceRequestProto(body);
          if (!v.ok) throw new Error(v.error);
          const written = await worker!.writeEncoded(body); // (not `spans += await ...`: that reads spans before the await)
          spans += written.spans;
        } else {
          const d = decodeTraceRequestProto(body);
          if (!d.ok) throw new Error(d.error);
          await store.write(d.result.spans);
          spans += d.result.spans.length;
        }
      }
    };
    const elu0 = performance.eventLoopUtilization();
    const welu0 = worker?.eventLoopUtilization();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: clients }, client));
    await store.flush();
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    const welu = worker && welu0 ? worker.eventLoopUtilization(welu0) : undefined;
    return {
      mode,
      spans,
      seconds,
      spansPerSec: spans / seconds,
      cpuMicrosPerSpan: (cpu.user + cpu.system) / spans,
      mainMicrosPerSpan: (elu.active * 1000) / spans,
      ...(welu ? { storeThreadMicrosPerSpan: (welu.active * 1000) / spans } : {}),
    };
  } finally {
    await store.close();
  }
}

async function reads(mode: 'main' | 'worker', dir: string): Promise<ReadFigures> {
  const store: TraceStore = mode === 'main' ? await EmbeddedStore.open({ dir }) : await WorkerStore.open({ module: EMBEDDED_STORE_ENTRY, options: { dir } });
  try {
    // One trace of 10,000 spans with a few attributes each, and 2,000 small traces to search.
    const traceId = randomTraceId();
    const start = nowNanos() - 3600n * 1_000_000_000n;
    const root = makeSpan({ traceId, service: 'big', name: 'root', startTimeUnixNano: start, endTimeUnixNano: start + 10_000_000_000n });
    const big: Span[] = [root];
    for (let i = 1; i < 10_000; i++) {
      const s = start + BigInt(i) * 1_000_000n;
      big.push(makeSpan({ traceId, parentSpanId: root.spanId, spanId: randomSpanId(), service: `big-${i % 7}`, name: `op ${i % 13}`, startTimeUnixNano: s, endTimeUnixNano: s + 500_000n, attributes: attrs({ i, 'http.route': '/api/v1/orders/:id', ok: i % 3 === 0 }) }));
    }
    for (let i = 0; i < big.length; i += 1000) await store.write(big.slice(i, i + 1000));
    const small: Span[] = [];
    for (let i = 0; i < 2000; i++) small.push(makeSpan({ service: 'small', name: `op ${i % 5}`, startTimeUnixNano: start + BigInt(i) * 1_000_000n }));
    await store.write(small);
    await store.flush();
    const time = async (runs: number, f: () => Promise<unknown>): Promise<[number, number]> => {
      await f();
      const elu0 = performance.eventLoopUtilization();
      const t0 = performance.now();
      for (let i = 0; i < runs; i++) await f();
      const wall = (performance.now() - t0) / runs;
      return [wall, performance.eventLoopUtilization(elu0).active / runs];
    };
    const [getTrace10kMs, getTrace10kMainMs] = await time(10, async () => {
      const got = await store.getTrace(traceId);
      if (got.length !== 10_000) throw new Error(`getTrace returned ${got.length} spans`);
    });
    const [search20Ms, search20MainMs] = await time(20, () => store.search({ service: 'small', limit: 20 }));
    const [search1000Ms, search1000MainMs] = await time(10, () => store.search({ service: 'small', limit: 1000 }));
    return { mode, getTrace10kMs, getTrace10kMainMs, search20Ms, search20MainMs, search1000Ms, search1000MainMs };
  } finally {
    await store.close();
  }
}

export async function runWorkerBench(opts: { spans?: number; clients?: number; log?: (msg: string) => void } = {}): Promise<{ ingest: IngestFigures[]; reads: ReadFigures[] }> {
  const total = opts.spans ?? 300_000;
  const clients = opts.clients ?? 8;
  const log = opts.log ?? (() => {});
  const all = payloads(Math.ceil(total / 100));
  const root = await mkdtemp(join(tmpdir(), 'ariadne-worker-bench-'));
  try {
    const ingestFigures: IngestFigures[] = [];
    for (const mode of ['main', 'worker', 'worker-spans', 'main-null', 'worker-null'] as const) {
      const f = await ingest(mode, join(root, `ingest-${mode}`), all, total, clients);
      log(
        `${mode.padEnd(12)} ${Math.round(f.spansPerSec).toLocaleString('en-US').padStart(9)} spans/s  ` +
          `cpu ${f.cpuMicrosPerSpan.toFixed(2)} µs/span  main thread ${f.mainMicrosPerSpan.toFixed(2)} µs/span` +
          (f.storeThreadMicrosPerSpan !== undefined ? `  store thread ${f.storeThreadMicrosPerSpan.toFixed(2)} µs/span` : ''),
      );
      ingestFigures.push(f);
    }
    const readFigures: ReadFigures[] = [];
    for (const mode of ['main', 'worker'] as const) {
      const r = await reads(mode, join(root, `reads-${mode}`));
      log(
        `${mode.padEnd(12)} getTrace(10k spans) ${r.getTrace10kMs.toFixed(1)} ms (main thread ${r.getTrace10kMainMs.toFixed(1)} ms)  ` +
          `search limit 20 ${r.search20Ms.toFixed(1)} ms (${r.search20MainMs.toFixed(1)})  limit 1000 ${r.search1000Ms.toFixed(1)} ms (${r.search1000MainMs.toFixed(1)})`,
      );
      readFigures.push(r);
    }
    return { ingest: ingestFigures, reads: readFigures };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const json = process.argv.includes('--json');
  const result = await runWorkerBench({
    spans: Number(arg('spans') ?? 300_000),
    clients: Number(arg('clients') ?? 8),
    log: json ? undefined : (m) => console.log(m),
  });
  if (json) console.log(JSON.stringify(result, null, 2));
}
