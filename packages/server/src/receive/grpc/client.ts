// A minimal unary gRPC client on node:http2, for the ingest load generator and
// tests: one session, any number of concurrent calls, messages framed by the
// caller (frame()), the status read from the trailers (or a trailers-only
// answer). No deadlines, retries, name resolution or TLS: @grpc/grpc-js is the
// client for anything else.

import http2 from 'node:http2';
import { Buffer } from 'node:buffer';
import { decodeGrpcMessage, PREFIX_BYTES, Status } from './wire.js';

export interface UnaryResult {
  /** grpc-status; UNAVAILABLE when the call ended without one (reset, connection lost), UNKNOWN for a non-200 answer */
  code: number;
  message: string;
  /** the response message without its prefix, when code is OK */
  response?: Buffer;
}

export class GrpcUnaryClient {
  private current: http2.ClientHttp2Session | undefined;
  /** request headers by path (node:http2 copies them per request) */
  private readonly requestHeaders = new Map<string, http2.OutgoingHttpHeaders>();

  /** `headers` go with every call (metadata such as authorization or grpc-encoding). */
  constructor(
    private readonly url: string,
    private readonly headers: Readonly<Record<string, string>> = {},
  ) {}

  /** Sends one framed request message to `path`; resolves when the call ends (never rejects). */
  call(path: string, framed: Uint8Array): Promise<UnaryResult> {
    return new Promise((resolve) => {
      let stream: http2.ClientHttp2Stream;
      try {
        let headers = this.requestHeaders.get(path);
        if (!headers) this.requestHeaders.set(path, (headers = { ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...this.headers }));
        stream = this.session().request(headers);
      } catch (e) {
        resolve({ code: Status.UNAVAILABLE, message: (e as Error).message });
        return;
      }
      let httpStatus = 0;
      let code = -1;
      let message = '';
      let error = '';
      const chunks: Buffer[] = [];
      const status = (h: http2.IncomingHttpHeaders) => {
        if (h['grpc-status'] === undefined) return;
        code = Number(h['grpc-status']);
        message = decodeGrpcMessage(String(h['grpc-message'] ?? ''));
      };
      stream.on('response', (h) => {
        httpStatus = Number(h[':status']);
        status(h);
      });
      stream.on('trailers', status);
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (e) => (error = e.message));
      stream.on('close', () => {
        if (httpStatus !== 200 && httpStatus !== 0) resolve({ code: Status.UNKNOWN, message: `HTTP status ${httpStatus}` });
        else if (code < 0) resolve({ code: Status.UNAVAILABLE, message: error || `stream closed without grpc-status (code ${stream.rstCode})` });
        else if (code !== Status.OK) resolve({ code, message });
        else {
          const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
          const length = body.length >= PREFIX_BYTES ? body.readUInt32BE(1) : -1;
          if (length !== body.length - PREFIX_BYTES) resolve({ code: Status.INTERNAL, message: `malformed response message (${body.length} bytes)` });
          else resolve({ code, message, response: body.subarray(PREFIX_BYTES) });
        }
      });
      stream.end(framed);
    });
  }

  close(): Promise<void> {
    const s = this.current;
    this.current = undefined;
    return new Promise((resolve) => (s && !s.closed ? s.close(() => resolve()) : resolve()));
  }

  /** The open session, or a new one after the last was lost. */
  private session(): http2.ClientHttp2Session {
    if (this.current && !this.current.closed && !this.current.destroyed) return this.current;
    // Requests written but not yet sent count against Node's session memory
    // cap (10 MB by default, under 64 requests of 400 KB): no cap.
    const s = http2.connect(this.url, { maxSessionMemory: Number.MAX_SAFE_INTEGER });
    s.on('error', () => {}); // each call sees its stream fail; the next call reconnects
    this.current = s;
    return s;
  }
}
