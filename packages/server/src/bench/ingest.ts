// `ariadne bench ingest`: drives OTLP/HTTP protobuf batches of 100 spans at a
// server in its own process, then checks that every acknowledged span is in
// the store (zero loss), and measures in the same run how fast protobufjs
// merely decodes the same payloads (the reference).

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { EXPORT_PATH } from '../receive/otlp-grpc.js';
import { GrpcUnaryClient } from '../receive/grpc/client.js';
import { H2UnaryClient } from './h2/client.js';
import { PREFIX_BYTES, Status } from '../receive/grpc/wire.js';
import { fileURLToPath } from 'node:url';
import { generateTraces } from './dataset.js';
import protobuf from 'protobufjs';
import { encodeTraceRequestProto, OTLP_TRACE_PROTOS } from '../receive/otlp/index.js';
import { DEFAULTS } from '../config/config.js';
import { openEmbeddedStore } from '../main.js';

export interface IngestBenchOptions {
  durationMs: number;
  concurrency: number;
  spansPerRequest: number;
  distinctPayloads: number;
  walSync: 'always' | 'none';
  transport: 'http' | 'grpc';
  /**
   * gRPC's load generator: 'h2' (default), HTTP/2 framed by hand on a socket
   * (bench/h2/client.ts); 'node', node:http2's client, ~1.5x its CPU per call
   */
  grpcClient?: 'h2' | 'node';
  /** the server's --memory-limit in bytes; default the server's default */
  memoryLimitBytes?: number;
  log: (msg: string) => void;
}

export interface IngestBenchResult {
  transport: 'otlp-http-protobuf' | 'otlp-grpc';
  /** gRPC only: which load generator client */
  grpcClient?: 'h2' | 'node';
  durationSec: number;
  requests: number;
  spansSent: number;
  spansAcked: number;
  spansStored: number;
  lost: number;
  failedRequests: number;
  /**
   * Acknowledged spans over the load window plus the drain: the rate with
   * every cost the load left behind (the last flush, a compaction under way)
   * paid, which is what the server sustains.
   */
  spansPerSec: number;
  /** acknowledged spans over the load window alone */
  ackedSpansPerSec: number;
  /** SIGTERM after the load to exit: the store flushes its head and finishes compacting */
  drainSec: number;
  referenceDecodeSpansPerSec: number;
  ratio: number;
  /** server process CPU over the load window, 100 = one core */
  cpuPercent: number;
  /** the load generator's own CPU (this process), sharing the machine's cores with the server */
  clientCpuPercent: number;
  peakRssBytes: number;
  /** the server's --memory-limit (its default): peak RSS must stay under it */
  memoryLimitBytes: number;
  payloadBytesPerSpan: number;
  concurrency: number;
  walSync: string;
}

const BIN = fileURLToPath(new URL('../../../../bin/ariadne.js', import.meta.url));

interface Payload {
  bytes: Buffer;
  /** byte offsets of every trace id in `bytes`, rewritten per request so traces stay unique */
  idOffsets: number[];
  spans: number;
}

function buildPayloads(count: number, spansPerRequest: number): Payload[] {
  const tracesPerPayload = Math.ceil(spansPerRequest / 10);
  const out: Payload[] = [];
  const now = BigInt(Date.now()) * 1_000_000n;
  for (let i = 0; i < count; i++) {
    const spans = generateTraces(1000 + i, tracesPerPayload, now - 600_000_000_000n, 600_000_000_000n).slice(0, spansPerRequest);
    const bytes = Buffer.from(encodeTraceRequestProto(spans));
    const idOffsets: number[] = [];
    for (const tid of new Set(spans.map((s) => s.traceId))) {
      const needle = Buffer.from(tid, 'hex');
      let at = bytes.indexOf(needle);
      while (at >= 0) {
        idOffsets.push(at);
        at = bytes.indexOf(needle, at + 16);
      }
    }
    out.push({ bytes, idOffsets, spans: spans.length });
  }
  return out;
}

/**
 * The reference: protobufjs's generated decoder, `decode` only (no toObject),
 * which is the least work any protobufjs-based receiver could do.
 */
export function protobufjsDecoder(): (buf: Uint8Array) => unknown {
  const root = new protobuf.Root();
  for (const [, text] of OTLP_TRACE_PROTOS) protobuf.parse(text, root);
  root.resolveAll();
  const type = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
  return (buf) => type.decode(buf);
}

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const parts = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(parts[11]) + Number(parts[12]); // utime + stime (fields 14, 15)
}

function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

export async function runIngestBench(o: IngestBenchOptions): Promise<IngestBenchResult> {
  const payloads = buildPayloads(o.distinctPayloads, o.spansPerRequest);
  const avgBytes = payloads.reduce((a, p) => a + p.bytes.length, 0) / payloads.length;
  o.log(`payloads: ${payloads.length} × ${o.spansPerRequest} spans, ${Math.round(avgBytes)} B each`);

  // Reference: protobufjs decoding the same payloads, single thread, same process.
  const refMs = Math.min(5000, Math.max(1000, o.durationMs / 4));
  let refSpans = 0;
  const referenceDecode = protobufjsDecoder();
  const t0 = performance.now();
  for (let i = 0; performance.now() - t0 < refMs; i++) {
    const p = payloads[i % payloads.length]!;
    referenceDecode(p.bytes);
    refSpans += p.spans;
  }
  const referenceDecodeSpansPerSec = refSpans / ((performance.now() - t0) / 1000);
  o.log(`reference protobufjs decode: ${Math.round(referenceDecodeSpansPerSec)} spans/s`);

  const dir = mkdtempSync(join(tmpdir(), 'ariadne-bench-'));
  // ARIADNE_BENCH_NODE_ARGS="--cpu-prof" profiles the server under load.
  const nodeArgs = (process.env.ARIADNE_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs, BIN, 'serve', '--data', dir, '--host', '127.0.0.1', '--port', '0', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--wal-sync', o.walSync,
      ...(o.memoryLimitBytes ? ['--memory-limit', String(o.memoryLimitBytes)] : []),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const ports = await new Promise<{ otlpHttp: number; otlpGrpc: number }>((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /otlp-http=(\d+) otlp-grpc=(\d+)/.exec(buf);
        if (m) resolve({ otlpHttp: Number(m[1]), otlpGrpc: Number(m[2]) });
      });
      child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
    });
    // undici: the load generator's own CPU comes off the two cores the server
    // has (node:http's client cost about three times as much per request).
    const pool = new Pool(`http://127.0.0.1:${ports.otlpHttp}`, { connections: o.concurrency, pipelining: 1 });
    const headers = { 'content-type': 'application/x-protobuf' };
    // gRPC: one HTTP/2 connection, a stream per request. node:http2's client
    // costs about half as much again as ours per call (grpc-js's, three times).
    const grpcClient =
      o.transport !== 'grpc' ? undefined : o.grpcClient === 'node' ? new GrpcUnaryClient(`http://127.0.0.1:${ports.otlpGrpc}`) : new H2UnaryClient('127.0.0.1', ports.otlpGrpc);
    // a gRPC message is sent with its 5-byte prefix, written in front of it in the same buffer
    const at = grpcClient ? PREFIX_BYTES : 0;
    let seq = 0;
    let requests = 0;
    let spansSent = 0;
    let spansAcked = 0;
    let failed = 0;
    // Each sender keeps its own copy of every payload it sends (framed for
    // gRPC): its request is answered before it sends again, so only the trace
    // ids are rewritten per request, not 30 KB copied (a tenth of this
    // process's CPU, which comes off the server's two cores).
    const send = (p: Payload, copies: Map<Payload, Buffer>): Promise<boolean> => {
      let framed = copies.get(p);
      if (!framed) {
        framed = Buffer.allocUnsafe(at + p.bytes.length);
        p.bytes.copy(framed, at);
        if (at) {
          framed[0] = 0; // not compressed
          framed.writeUInt32BE(p.bytes.length, 1);
        }
        copies.set(p, framed);
      }
      const body = framed.subarray(at);
      const n = ++seq;
      for (const off of p.idOffsets) body.writeUInt32BE(n, off); // unique trace ids per request
      if (grpcClient) return grpcClient.call(EXPORT_PATH, framed).then((r: { code: number }) => r.code === Status.OK);
      return pool.request({ path: '/v1/traces', method: 'POST', headers, body }).then(
        async (res) => {
          await res.body.dump();
          return res.statusCode === 200;
        },
        () => false,
      );
    };
    // Warm up, then measure.
    const warmCopies = new Map<Payload, Buffer>();
    for (let i = 0; i < 20; i++) if (await send(payloads[i % payloads.length]!, warmCopies)) spansAcked += payloads[i % payloads.length]!.spans;
    const ticks0 = cpuTicks(child.pid!);
    const clientCpu0 = process.cpuUsage();
    const start = performance.now();
    let acked0 = spansAcked;
    const workers = Array.from({ length: o.concurrency }, async (_, w) => {
      const copies = new Map<Payload, Buffer>();
      for (let i = w; performance.now() - start < o.durationMs; i += o.concurrency) {
        const p = payloads[i % payloads.length]!;
        requests++;
        spansSent += p.spans;
        if (await send(p, copies)) spansAcked += p.spans;
        else failed++;
      }
    });
    await Promise.all(workers);
    const elapsed = (performance.now() - start) / 1000;
    const ticks = cpuTicks(child.pid!) - ticks0;
    const clientCpu = process.cpuUsage(clientCpu0);
    const rss = peakRss(child.pid!);
    await pool.close();
    await grpcClient?.close();
    const measuredAcked = spansAcked - acked0;
    o.log(`sent ${spansSent} spans in ${requests} requests over ${elapsed.toFixed(1)}s; acked ${measuredAcked}; failed requests ${failed}`);

    // Stop gracefully (the drain), then count what the store holds.
    const drainStart = performance.now();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const drainSec = (performance.now() - drainStart) / 1000;
    o.log(`drain (flush and exit): ${drainSec.toFixed(1)}s`);
    const store = await openEmbeddedStore({ ...DEFAULTS, dataDir: dir }, (m) => o.log(m));
    const spansStored = (await store.stats()).spans;
    await store.close();
    const spansPerSec = measuredAcked / (elapsed + drainSec);
    return {
      transport: o.transport === 'grpc' ? 'otlp-grpc' : 'otlp-http-protobuf',
      ...(o.transport === 'grpc' ? { grpcClient: o.grpcClient ?? 'h2' } : {}),
      durationSec: elapsed,
      requests,
      spansSent,
      spansAcked,
      spansStored,
      lost: Math.max(0, spansAcked - spansStored),
      failedRequests: failed,
      spansPerSec,
      ackedSpansPerSec: measuredAcked / elapsed,
      drainSec,
      referenceDecodeSpansPerSec,
      ratio: spansPerSec / referenceDecodeSpansPerSec,
      cpuPercent: (ticks / 100 / elapsed) * 100,
      clientCpuPercent: ((clientCpu.user + clientCpu.system) / 1e6 / elapsed) * 100,
      peakRssBytes: rss,
      memoryLimitBytes: o.memoryLimitBytes ?? DEFAULTS.memoryLimitBytes,
      payloadBytesPerSpan: avgBytes / o.spansPerRequest,
      concurrency: o.concurrency,
      walSync: o.walSync,
    };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
