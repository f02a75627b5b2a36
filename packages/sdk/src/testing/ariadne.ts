// Starts a real Ariadne server for integration tests, as a black box:
//   node bin/ariadne.js serve --port 0 --otlp-http-port 0 --otlp-grpc-port 0 --data <tmp>
// reads the ports from `ariadne listening http=<p> otlp-http=<p> otlp-grpc=<p>`,
// and queries it over HTTP. Never imports server code.

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { launch, stop, type Started } from './process.js';

export interface AriadneServer {
  httpPort: number;
  otlpHttpPort: number;
  otlpGrpcPort: number;
  /** http://127.0.0.1:<http> */
  baseUrl: string;
  /** OTLP/HTTP base URL for init({ endpoint }). */
  otlpEndpoint: string;
  stop(): Promise<void>;
}

export interface AnyValueJson {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: AnyValueJson[] };
  kvlistValue?: { values?: KeyValueJson[] };
  bytesValue?: string;
}
export interface KeyValueJson {
  key: string;
  value: AnyValueJson;
}
export interface EventJson {
  timeUnixNano: string;
  name: string;
  attributes: KeyValueJson[];
}
export interface SpanJson {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number | string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: KeyValueJson[];
  events: EventJson[];
  links: unknown[];
  status: { code?: number | string; message?: string };
  resource: { attributes: KeyValueJson[] };
  scope: { name?: string; version?: string };
  service: string;
}
export interface TraceJson {
  traceId: string;
  spans: SpanJson[];
}

/** Where the server binary is: ARIADNE_BIN, else <repo>/bin/ariadne.js. */
export function ariadneBinary(): string {
  return process.env.ARIADNE_BIN ?? fileURLToPath(new URL('../../../../bin/ariadne.js', import.meta.url));
}

export async function startAriadne(timeoutMs = 30_000): Promise<Started<AriadneServer>> {
  const bin = ariadneBinary();
  if (!existsSync(bin)) return { ok: false, reason: `Ariadne server binary not found at ${bin}` };
  const data = await mkdtemp(join(tmpdir(), 'ariadne-sdk-it-'));
  const started = await launch(
    process.execPath,
    [bin, 'serve', '--port', '0', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--data', data],
    /ariadne listening http=(\d+) otlp-http=(\d+) otlp-grpc=(\d+)/,
    timeoutMs,
  );
  if (!started.ok) {
    await rm(data, { recursive: true, force: true });
    return { ok: false, reason: `Ariadne server (${bin}) did not start: ${started.reason}` };
  }
  const { child, match } = started.value;
  // Keep draining output so the server never blocks on a full pipe.
  child.stdout?.resume();
  const [httpPort, otlpHttpPort, otlpGrpcPort] = [match[1], match[2], match[3]].map(Number);
  return {
    ok: true,
    value: {
      httpPort,
      otlpHttpPort,
      otlpGrpcPort,
      baseUrl: `http://127.0.0.1:${httpPort}`,
      otlpEndpoint: `http://127.0.0.1:${otlpHttpPort}`,
      async stop() {
        await stop(child);
        await rm(data, { recursive: true, force: true });
      },
    },
  };
}

/** GET without creating spans of its own, even with the fetch instrumentation on. */
function untracedFetch(url: string): Promise<Response> {
  return context.with(suppressTracing(context.active()), () => fetch(url));
}

export interface FetchTraceOptions {
  /** Wait until the trace has at least this many spans. Default 1. */
  minSpans?: number;
  /** And until this holds. */
  until?: (t: TraceJson) => boolean;
  timeoutMs?: number;
}

/** Polls GET /api/v1/traces/<id> until the trace is complete enough (ingest is asynchronous). */
export async function fetchTrace(server: AriadneServer, traceId: string, opts: FetchTraceOptions = {}): Promise<TraceJson> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let last = 'no response';
  for (;;) {
    try {
      const res = await untracedFetch(`${server.baseUrl}/api/v1/traces/${traceId}`);
      const body = await res.text();
      if (res.ok) {
        const t = JSON.parse(body) as TraceJson;
        if ((t.spans?.length ?? 0) >= (opts.minSpans ?? 1) && (opts.until?.(t) ?? true)) return t;
        last = `${t.spans?.length ?? 0} spans`;
      } else {
        last = `HTTP ${res.status}: ${body.slice(0, 200)}`;
      }
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`trace ${traceId} not complete in time (last: ${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The JS value of an OTLP JSON AnyValue (int64 as number; exact for the small ints tests use). */
export function anyValue(v: AnyValueJson | undefined): unknown {
  if (v === undefined) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(anyValue);
  if (v.kvlistValue !== undefined) return Object.fromEntries((v.kvlistValue.values ?? []).map((kv) => [kv.key, anyValue(kv.value)]));
  if (v.bytesValue !== undefined) return v.bytesValue;
  return undefined;
}

/** Attribute `key` of a span, event or resource. */
export function attr(holder: { attributes?: KeyValueJson[] }, key: string): unknown {
  return anyValue(holder.attributes?.find((a) => a.key === key)?.value);
}
