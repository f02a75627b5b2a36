// OTLP/gRPC trace receiver: opentelemetry.proto.collector.trace.v1.TraceService/Export,
// served on node:http2 directly. One unary method needs only the wire (the
// message prefix, gzip, the status in trailers), at about a fifth less server
// CPU per span than grpc-js (see grpc/README.md and docs/benchmarks.md).

import http2 from 'node:http2';
import { Buffer } from 'node:buffer';
import { gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import type { ServiceDefinition } from '@grpc/grpc-js';
import type { Ingester } from '../pipeline/ingest.js';
import { WalFormat } from '../pipeline/ingest.js';
import type { Metrics } from '../metrics.js';
import { encodeExportResponseProto, validateTraceRequestProto } from './otlp/index.js';
import { encodeGrpcMessage, frame, isGrpcProto, PREFIX_BYTES, Status, type StatusCode } from './grpc/wire.js';

const RECEIVER = 'otlp_grpc';
export const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const ACCEPT_ENCODING = 'identity,deflate,gzip';

// HTTP/2's default 64 KiB windows (grpc-js's) cap a connection at 64 KiB per
// round trip: 6.4 MB/s at 10 ms. On loopback they measured the same as these.
const STREAM_WINDOW = 1 << 20;
const CONNECTION_WINDOW = 16 << 20;

const identity = (b: Buffer) => b;

/** The service for @grpc/grpc-js clients (tests): messages as raw bytes. */
export const traceServiceDefinition: ServiceDefinition = {
  Export: {
    path: EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

export interface OtlpGrpcDeps {
  ingester: Ingester;
  metrics: Metrics;
  maxBodyBytes: number;
  /** when non-empty, calls need `authorization: Bearer <key>`, `x-api-key` or `x-raceway-key` metadata (as over HTTP) */
  apiKeys?: readonly string[];
  /** a call whose request sends nothing for this long is answered DEADLINE_EXCEEDED (its reservation freed); default 30 s */
  readIdleMs?: number;
}

const OK_HEADERS = { ':status': 200, 'content-type': 'application/grpc', 'grpc-encoding': 'identity', 'grpc-accept-encoding': ACCEPT_ENCODING };
const OK_TRAILERS = { 'grpc-status': '0' };
const EMPTY_RESPONSE = frame(new Uint8Array(0));
const RESPOND_OPTIONS = { waitForTrailers: true, sendDate: false };
const ERROR_OPTIONS = { endStream: true, sendDate: false };

type Inflate = (buf: InputType, options: ZlibOptions, cb: (err: Error | null, out: Buffer) => void) => void;
const inflaterFor = (encoding: string): Inflate | undefined => (encoding === 'gzip' ? gunzip : encoding === 'deflate' ? inflate : undefined);

/**
 * An answer without a body (trailers-only for gRPC). A client still sending
 * is then told to stop with RST_STREAM(NO_ERROR), which Node sends once the
 * answer is out (RFC 9113 §8.1), instead of the rest being read to be dropped.
 */
function answerOnly(stream: http2.ServerHttp2Stream, headers: http2.OutgoingHttpHeaders): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  stream.respond(headers, ERROR_OPTIONS);
  if (!stream.readableEnded) stream.close(http2.constants.NGHTTP2_NO_ERROR);
}

function fail(stream: http2.ServerHttp2Stream, code: StatusCode, message: string, extra?: Record<string, string>): void {
  answerOnly(stream, { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(message), ...extra });
}

function succeed(stream: http2.ServerHttp2Stream, response: Uint8Array): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  stream.respond(OK_HEADERS, RESPOND_OPTIONS);
  stream.once('wantTrailers', () => {
    if (!stream.destroyed) stream.sendTrailers(OK_TRAILERS);
  });
  stream.end(response.length ? frame(response) : EMPTY_RESPONSE);
}

export async function startOtlpGrpc(deps: OtlpGrpcDeps, host: string, port: number): Promise<{ port: number; close(): Promise<void> }> {
  const { ingester, metrics, maxBodyBytes, readIdleMs = 30_000 } = deps;
  const keys = new Set(deps.apiKeys ?? []);
  const refuse = (reason: string) => metrics.requestsRefused.inc({ receiver: RECEIVER, reason });

  /** One Export call, from its headers to its status. Never throws. */
  const onStream = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void => {
    stream.on('error', () => {}); // a reset or a lost connection: 'close' follows
    if (!isGrpcProto(headers['content-type'])) {
      // not gRPC: an HTTP status (the gRPC spec's 415), not a grpc-status
      refuse('unsupported_media_type');
      return answerOnly(stream, { ':status': 415 });
    }
    const path = headers[':path'];
    if (path !== EXPORT_PATH || headers[':method'] !== 'POST') return fail(stream, Status.UNIMPLEMENTED, `The server does not implement the method ${path}`);
    if (keys.size) {
      const auth = String(headers.authorization ?? '');
      const key = String(headers['x-api-key'] ?? '') || String(headers['x-raceway-key'] ?? '') || (auth.startsWith('Bearer ') ? auth.slice(7) : '');
      if (!keys.has(key)) {
        refuse('unauthorized');
        return fail(stream, Status.UNAUTHENTICATED, 'missing or invalid API key (send authorization: Bearer <key> or x-api-key metadata)');
      }
    }
    const encoding = String(headers['grpc-encoding'] ?? 'identity');
    const inflater = inflaterFor(encoding);
    if (!inflater && encoding !== 'identity') {
      refuse('unsupported_media_type');
      return fail(stream, Status.UNIMPLEMENTED, `grpc-encoding '${encoding}' is not supported (use gzip or identity)`, { 'grpc-accept-encoding': ACCEPT_ENCODING });
    }

    // The message: a 5-byte prefix, then `length` bytes. Room for it is
    // reserved once the prefix gives its length (as Content-Length does over
    // HTTP), and released exactly once: when the call ends before the message
    // is complete, or after its ingest.
    let prefix: Buffer | undefined; // the prefix so far, when it came split
    let length = -1;
    let compressed = false;
    let body: Buffer | undefined;
    let got = 0;
    let reserved = 0;
    let state: 'reading' | 'working' | 'done' = 'reading';
    const release = () => {
      if (reserved) ingester.release(reserved);
      reserved = 0;
    };
    const stop = (code: StatusCode, message: string, reason?: string) => {
      state = 'done';
      release();
      if (reason) refuse(reason);
      fail(stream, code, message);
    };

    stream.on('data', (chunk: Buffer) => {
      if (state !== 'reading') return;
      let at = 0;
      if (length < 0) {
        if (prefix) chunk = Buffer.concat([prefix, chunk]);
        if (chunk.length < PREFIX_BYTES) {
          prefix = chunk;
          return;
        }
        prefix = undefined;
        const flag = chunk[0]!;
        length = chunk.readUInt32BE(1);
        at = PREFIX_BYTES;
        if (flag > 1) return stop(Status.INTERNAL, `invalid message prefix: compressed-flag ${flag}`, 'decode_error');
        compressed = flag === 1;
        if (compressed && !inflater) return stop(Status.INTERNAL, 'compressed message without a grpc-encoding', 'decode_error');
        if (length > maxBodyBytes) return stop(Status.RESOURCE_EXHAUSTED, `Received message larger than max (${length} vs. ${maxBodyBytes})`, 'too_large');
        const refusal = ingester.reserve(length);
        if (refusal) return stop(Status.UNAVAILABLE, refusal.message, refusal.reason);
        reserved = length;
        if (chunk.length - at >= length) {
          body = chunk.subarray(at, at + length); // the whole message in one chunk: no copy
          got = length;
          at += length;
        } else {
          body = ingester.bodies.take(length);
          got = chunk.copy(body, 0, at);
          at = chunk.length;
        }
      } else if (got < length) {
        const n = chunk.copy(body!, got);
        got += n;
        at = n;
      }
      if (at < chunk.length) stop(Status.UNIMPLEMENTED, 'TraceService/Export is unary: received more than one request message', 'decode_error');
    });

    stream.on('end', () => {
      if (state !== 'reading') return;
      if (length < 0) return stop(prefix ? Status.INTERNAL : Status.UNIMPLEMENTED, prefix ? 'incomplete message prefix' : 'Received no request message', 'decode_error');
      if (got < length) return stop(Status.INTERNAL, `incomplete message: ${got} of ${length} bytes`, 'decode_error');
      state = 'working';
      if (!compressed) return exportMessage(body!);
      inflater!(body!, { maxOutputLength: maxBodyBytes }, (err, out) => {
        if (!err) {
          // hold the decompressed size, as for an uncompressed message
          const more = out.length - reserved;
          const refusal = more > 0 ? ingester.reserve(more) : undefined;
          if (refusal) return stop(Status.UNAVAILABLE, refusal.message, refusal.reason);
          if (more > 0) reserved += more;
          return exportMessage(out);
        }
        // Node stops inflating at maxOutputLength: a gzip bomb costs the limit, not its size
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
          return stop(Status.RESOURCE_EXHAUSTED, `Received message that decompresses to a size larger than ${maxBodyBytes}`, 'too_large');
        }
        stop(Status.INTERNAL, `Failed to decompress message: ${err.message}`, 'decode_error');
      });
    });

    // A reset or a lost connection before the message was complete (once
    // working, the ingest's end releases).
    stream.on('close', () => {
      if (state !== 'reading') return;
      state = 'done';
      release();
    });
    // A client that stalls mid-request must not hold its reservation (Node clears this timer when the stream closes).
    stream.setTimeout(readIdleMs, () => {
      if (state === 'reading') stop(Status.DEADLINE_EXCEEDED, `no request data for ${readIdleMs} ms`, 'timeout');
    });

    const exportMessage = (message: Buffer) => {
      const checked = validateTraceRequestProto(message);
      if (!checked.ok) return stop(Status.INVALID_ARGUMENT, `cannot decode OTLP protobuf message: ${checked.error}`, 'decode_error');
      const { spans, rejectedSpans, errorMessage } = checked;
      metrics.spansReceived.inc({ receiver: RECEIVER }, spans + rejectedSpans);
      if (rejectedSpans) metrics.spansRejected.inc({ receiver: RECEIVER, reason: 'invalid_span' }, rejectedSpans);
      void ingester.ingestEncoded(RECEIVER, WalFormat.OTLP_PROTO, message, spans).then((out) => {
        state = 'done';
        release();
        if (!out.ok) fail(stream, Status.UNAVAILABLE, out.message);
        else succeed(stream, encodeExportResponseProto(rejectedSpans, errorMessage));
      });
    };
  };

  // No session memory cap (as grpc-js): Node refuses new streams past it with
  // ENHANCE_YOUR_CALM, which exporters take as final; memory is bounded by the
  // windows and the ingester's reservations instead.
  const server = http2.createServer({ settings: { initialWindowSize: STREAM_WINDOW }, maxSessionMemory: Number.MAX_SAFE_INTEGER });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => {}); // the socket's failure ends its streams; each releases its own reservation
    session.setLocalWindowSize(CONNECTION_WINDOW);
  });
  server.on('stream', onStream);
  const bound = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      server.on('error', () => {}); // per-connection failures are the sessions' to report
      resolve((server.address() as { port: number }).port);
    });
  });
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        // GOAWAY: calls under way finish and are answered; after 2 s they are cut off
        const force = setTimeout(() => sessions.forEach((s) => s.destroy()), 2000).unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        sessions.forEach((s) => s.close());
      }),
  };
}
