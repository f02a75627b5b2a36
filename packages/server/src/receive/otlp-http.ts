// OTLP/HTTP trace receiver (POST /v1/traces), per the OTLP specification:
// protobuf or JSON, optional gzip, partial success for invalid spans,
// google.rpc.Status bodies on errors, response encoding = request encoding.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Buffer } from 'node:buffer';
import type { Context } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import type { Ingester } from '../pipeline/ingest.js';
import { WalFormat } from '../pipeline/ingest.js';
import type { Metrics } from '../metrics.js';
import { decodeTraceRequestJson, encodeExportResponseProto, exportResponseJson, validateTraceRequestProto } from './otlp/index.js';
import { decodeContent, readRaw } from './body.js';

export interface OtlpHttpDeps {
  ingester: Ingester;
  metrics: Metrics;
  maxBodyBytes: number;
}

const RECEIVER = 'otlp_http';
// google.rpc.Code
const INVALID_ARGUMENT = 3;
const RESOURCE_EXHAUSTED = 8;
const UNAVAILABLE = 14;

type Kind = 'proto' | 'json';

function kindOf(contentType: string | undefined): Kind | undefined {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (ct === 'application/x-protobuf' || ct === 'application/protobuf') return 'proto';
  if (ct === 'application/json') return 'json';
  return undefined;
}

/** google.rpc.Status { int32 code = 1; string message = 2; } */
function encodeStatus(code: number, message: string): Uint8Array {
  const msg = Buffer.from(message, 'utf8');
  const lenBytes: number[] = [];
  let n = msg.length;
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    lenBytes.push(b);
  } while (n);
  return Buffer.concat([Buffer.from([0x08, code, 0x12, ...lenBytes]), msg]);
}

/** An answer, for Hono (a Response) or a plain node:http server (the OTLP port) to send. */
export interface OtlpReply {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

function errorReply(kind: Kind, status: number, code: number, message: string, headers: Record<string, string> = {}): OtlpReply {
  return {
    status,
    headers: { 'content-type': kind === 'proto' ? 'application/x-protobuf' : 'application/json', ...headers },
    body: kind === 'proto' ? encodeStatus(code, message) : JSON.stringify({ code, message }),
  };
}

/** Response bodies must be ArrayBuffer-backed views. */
function arrayBody(u: Uint8Array): Uint8Array<ArrayBuffer> {
  return u.buffer instanceof ArrayBuffer ? (u as Uint8Array<ArrayBuffer>) : new Uint8Array(u);
}

export function toResponse(r: OtlpReply): Response {
  return new Response(typeof r.body === 'string' ? r.body : arrayBody(r.body), { status: r.status, headers: r.headers });
}

/** Writes a reply to a node:http response (no Request/Response objects on the hot path). */
export function sendReply(res: ServerResponse, r: OtlpReply): void {
  const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
  res.writeHead(r.status, { ...r.headers, 'content-length': String(body.length) });
  res.end(body);
}

type Checked = { ok: true; validSpans: number; rejectedSpans: number; errorMessage: string } | { ok: false; error: string };

/**
 * Protobuf is only validated here (no strings built): the store decodes it on
 * its own thread. JSON must be parsed to be checked; the store parses it again
 * rather than receiving cloned spans, which costs this thread more.
 */
function check(kind: Kind, body: Uint8Array): Checked {
  if (kind === 'proto') {
    const v = validateTraceRequestProto(body);
    return v.ok ? { ok: true, validSpans: v.spans, rejectedSpans: v.rejectedSpans, errorMessage: v.errorMessage } : v;
  }
  const d = decodeTraceRequestJson(body);
  return d.ok ? { ok: true, validSpans: d.result.spans.length, rejectedSpans: d.result.rejectedSpans, errorMessage: d.result.errorMessage } : d;
}

/** POST /v1/traces as a Hono handler (the main port). */
export function otlpHttpHandler(deps: OtlpHttpDeps) {
  const handle = otlpHttpCore(deps);
  return async (c: Context<{ Bindings: HttpBindings }>): Promise<Response> => toResponse(await handle(c.env.incoming));
}

/** POST /v1/traces on a node:http request: the receiver itself. Never throws. */
export function otlpHttpCore(deps: OtlpHttpDeps): (req: IncomingMessage) => Promise<OtlpReply> {
  const { ingester, metrics, maxBodyBytes } = deps;
  const take = (length: number) => ingester.bodies.take(length);
  return async (req) => {
    const kind = kindOf(req.headers['content-type']);
    if (!kind) {
      metrics.requestsRefused.inc({ receiver: RECEIVER, reason: 'unsupported_media_type' });
      req.resume();
      return {
        status: 415,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code: INVALID_ARGUMENT, message: `unsupported Content-Type '${req.headers['content-type'] ?? ''}': use application/x-protobuf or application/json` }),
      };
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > maxBodyBytes) {
      metrics.requestsRefused.inc({ receiver: RECEIVER, reason: 'too_large' });
      req.resume();
      return errorReply(kind, 413, RESOURCE_EXHAUSTED, `request body of ${declared} bytes exceeds the ${maxBodyBytes}-byte limit`, { connection: 'close' });
    }
    const reserve = Number.isFinite(declared) && declared > 0 ? declared : 64 * 1024;
    const refusal = ingester.reserve(reserve);
    if (refusal) {
      metrics.requestsRefused.inc({ receiver: RECEIVER, reason: refusal.reason });
      if (refusal.reason === 'memory_limit') {
        // Over the memory limit, reading bodies only to drop them would cost
        // the memory being saved: answer and close the connection unread.
        return errorReply(kind, 503, UNAVAILABLE, refusal.message, { 'retry-after': '1', connection: 'close' });
      }
      req.resume();
      return errorReply(kind, 503, UNAVAILABLE, refusal.message, { 'retry-after': '1' });
    }
    try {
      const raw = await readRaw(req, maxBodyBytes, take);
      if (!raw.ok) return refuse(kind, raw.status, raw.message);
      const body = await decodeContent(req.headers['content-encoding'], raw.body, maxBodyBytes);
      if (body.ok && body.body !== raw.body) ingester.bodies.give(raw.body); // inflated: the raw bytes are done with
      if (!body.ok) return refuse(kind, body.status, body.message);
      const checked = check(kind, body.body);
      if (!checked.ok) return refuse(kind, 400, `cannot decode OTLP ${kind === 'proto' ? 'protobuf' : 'JSON'} body: ${checked.error}`);
      const { validSpans, rejectedSpans, errorMessage } = checked;
      metrics.spansReceived.inc({ receiver: RECEIVER }, validSpans + rejectedSpans);
      if (rejectedSpans) metrics.spansRejected.inc({ receiver: RECEIVER, reason: 'invalid_span' }, rejectedSpans);
      const out = await ingester.ingestEncoded(RECEIVER, kind === 'proto' ? WalFormat.OTLP_PROTO : WalFormat.OTLP_JSON, body.body, validSpans);
      if (!out.ok) return errorReply(kind, 503, UNAVAILABLE, out.message, { 'retry-after': '1' });
      if (kind === 'proto') {
        return { status: 200, headers: { 'content-type': 'application/x-protobuf' }, body: encodeExportResponseProto(rejectedSpans, errorMessage) };
      }
      return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(exportResponseJson(rejectedSpans, errorMessage)) };
    } finally {
      ingester.release(reserve);
    }
  };

  function refuse(kind: Kind, status: 400 | 413 | 415, message: string): OtlpReply {
    const reason = status === 413 ? 'too_large' : status === 415 ? 'unsupported_media_type' : 'decode_error';
    metrics.requestsRefused.inc({ receiver: RECEIVER, reason });
    const code = status === 413 ? RESOURCE_EXHAUSTED : INVALID_ARGUMENT;
    return errorReply(kind, status, code, message, status === 413 ? { connection: 'close' } : {});
  }
}
