// The ingest benchmark's gRPC load generator: unary calls over one HTTP/2
// connection, framed by hand on a plain TCP socket (RFC 9113), in the spirit
// of h2load. The load generator shares the machine's two cores with the
// server it measures, and node:http2's client spent a quarter of a core on
// 3,600 calls/s (a Duplex stream, an AsyncResource and header objects per
// call); this one sends a precomputed header block and the caller's message
// as DATA frames, and reads the answer's frames itself. Everything else in
// the project, tests included, talks to the server with node:http2 or grpc-js.
//
// Flow control is honoured both ways (the server's windows for what we send;
// WINDOW_UPDATE for what it sends), SETTINGS and PING are answered, HPACK is
// decoded in full (hpack.ts). No TLS, no server push, no request trailers,
// no cap on streams in flight (the bench keeps 64; a server's lower
// SETTINGS_MAX_CONCURRENT_STREAMS would refuse the rest: UNAVAILABLE).

import net from 'node:net';
import { Buffer } from 'node:buffer';
import { HpackDecoder, encodeLiterals, type Header } from './hpack.js';
import { decodeGrpcMessage, Status } from '../../receive/grpc/wire.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const T = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
const F = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;
const DEFAULT_WINDOW = 65_535;
/** what we let the server send us, per stream and for the connection */
const RECV_WINDOW = 1 << 30;

export interface CallResult {
  code: number;
  message: string;
}

interface Call {
  resolve: (r: CallResult) => void;
  /** DATA still to send (flow control), and where in it */
  body: Uint8Array;
  sent: number;
  sendWindow: number;
  httpStatus: number;
  code: number;
  message: string;
  /** a header block arriving in CONTINUATION frames */
  block?: Buffer[];
  blockEndsStream?: boolean;
}

export class H2UnaryClient {
  private readonly socket: net.Socket;
  private readonly hpack = new HpackDecoder();
  private readonly calls = new Map<number, Call>();
  /** calls with DATA waiting for window, in order */
  private readonly blocked: number[] = [];
  private readonly headerBlocks = new Map<string, Buffer>();
  private nextStream = 1;
  private connWindow = DEFAULT_WINDOW;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrame = 16_384;
  private received = 0;
  private buf: Buffer = Buffer.alloc(0);
  private failed: string | undefined;
  private readonly ready: Promise<void>;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {
    this.socket = net.connect({ host, port, noDelay: true });
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
    this.ready.catch(() => {});
    this.socket.on('error', (e) => this.fail(`connection error: ${e.message}`));
    this.socket.on('close', () => this.fail('connection closed'));
    this.socket.on('data', (d: Buffer) => this.onData(d));
    const settings = Buffer.alloc(12);
    settings.writeUInt16BE(0x2, 0); // ENABLE_PUSH
    settings.writeUInt32BE(0, 2);
    settings.writeUInt16BE(0x4, 6); // INITIAL_WINDOW_SIZE
    settings.writeUInt32BE(RECV_WINDOW, 8);
    const inc = Buffer.alloc(4);
    inc.writeUInt32BE(RECV_WINDOW - DEFAULT_WINDOW, 0);
    this.socket.cork();
    this.socket.write(PREFACE);
    this.write(T.SETTINGS, 0, 0, settings);
    this.write(T.WINDOW_UPDATE, 0, 0, inc);
    this.socket.uncork();
  }

  /** Sends `framed` (a gRPC message with its prefix) to `path`; resolves with the grpc-status (never rejects). */
  call(path: string, framed: Uint8Array, authority = `${this.host}:${this.port}`): Promise<CallResult> {
    if (this.failed) return Promise.resolve({ code: Status.UNAVAILABLE, message: this.failed });
    const id = this.nextStream;
    this.nextStream += 2;
    let block = this.headerBlocks.get(path);
    if (!block) {
      const headers: Header[] = [[':method', 'POST'], [':scheme', 'http'], [':path', path], [':authority', authority], ['content-type', 'application/grpc'], ['te', 'trailers']];
      this.headerBlocks.set(path, (block = encodeLiterals(headers)));
    }
    return new Promise((resolve) => {
      const call: Call = { resolve, body: framed, sent: 0, sendWindow: this.peerInitialWindow, httpStatus: 0, code: -1, message: '' };
      this.calls.set(id, call);
      this.socket.cork();
      this.write(T.HEADERS, F.END_HEADERS, id, block);
      if (!this.sendData(id, call)) this.blocked.push(id);
      this.socket.uncork();
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      // last-stream-id 0: the server opened no streams (push is off); NO_ERROR
      this.write(T.GOAWAY, 0, 0, Buffer.alloc(8));
      this.socket.end(() => resolve());
      this.socket.once('close', () => resolve());
    });
  }

  /** Sends as much of the call's DATA as the windows allow; true when all of it went (END_STREAM). */
  private sendData(id: number, c: Call): boolean {
    while (c.sent < c.body.length) {
      const n = Math.min(c.body.length - c.sent, this.peerMaxFrame, c.sendWindow, this.connWindow);
      if (n <= 0) return false;
      const last = c.sent + n === c.body.length;
      this.write(T.DATA, last ? F.END_STREAM : 0, id, c.body.subarray(c.sent, c.sent + n));
      c.sent += n;
      c.sendWindow -= n;
      this.connWindow -= n;
    }
    if (c.body.length === 0) this.write(T.DATA, F.END_STREAM, id, c.body);
    return true;
  }

  private write(type: number, flags: number, stream: number, payload: Uint8Array): void {
    const h = Buffer.allocUnsafe(9);
    h.writeUIntBE(payload.length, 0, 3);
    h[3] = type;
    h[4] = flags;
    h.writeUInt32BE(stream, 5);
    this.socket.write(h);
    if (payload.length) this.socket.write(payload);
  }

  private onData(d: Buffer): void {
    let b = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let p = 0;
    while (b.length - p >= 9) {
      const len = b.readUIntBE(p, 3);
      if (b.length - p < 9 + len) break;
      const type = b[p + 3]!;
      const flags = b[p + 4]!;
      const stream = b.readUInt32BE(p + 5) & 0x7fffffff;
      this.onFrame(type, flags, stream, b.subarray(p + 9, p + 9 + len));
      p += 9 + len;
    }
    this.buf = p < b.length ? Buffer.from(b.subarray(p)) : Buffer.alloc(0);
  }

  private onFrame(type: number, flags: number, stream: number, payload: Buffer): void {
    switch (type) {
      case T.DATA: {
        // acknowledge the connection's share in big steps (each stream's window is 1 GiB: never refilled)
        this.received += payload.length;
        if (this.received > RECV_WINDOW / 2) {
          const inc = Buffer.alloc(4);
          inc.writeUInt32BE(this.received, 0);
          this.write(T.WINDOW_UPDATE, 0, 0, inc);
          this.received = 0;
        }
        if (flags & F.END_STREAM) this.finish(stream);
        return;
      }
      case T.HEADERS: {
        let frag = payload;
        let at = 0;
        let end = frag.length;
        if (flags & F.PADDED) end -= frag[at++]!;
        if (flags & F.PRIORITY) at += 5;
        frag = frag.subarray(at, end);
        const c = this.calls.get(stream);
        if (flags & F.END_HEADERS) this.onHeaders(stream, c, frag, (flags & F.END_STREAM) !== 0);
        else if (c) {
          c.block = [Buffer.from(frag)];
          c.blockEndsStream = (flags & F.END_STREAM) !== 0;
        } else this.fail('CONTINUATION of an unknown stream is not supported');
        return;
      }
      case T.CONTINUATION: {
        const c = this.calls.get(stream);
        if (!c?.block) return this.fail('CONTINUATION without HEADERS');
        c.block.push(Buffer.from(payload));
        if (flags & F.END_HEADERS) {
          const all = Buffer.concat(c.block);
          c.block = undefined;
          this.onHeaders(stream, c, all, c.blockEndsStream === true);
        }
        return;
      }
      case T.RST_STREAM: {
        const c = this.calls.get(stream);
        if (c && c.code < 0) c.message = `stream reset (code ${payload.readUInt32BE(0)})`;
        this.finish(stream);
        return;
      }
      case T.SETTINGS: {
        if (flags & F.ACK) return;
        for (let i = 0; i + 6 <= payload.length; i += 6) {
          const id = payload.readUInt16BE(i);
          const v = payload.readUInt32BE(i + 2);
          if (id === 0x4) {
            // applies to every open stream's window (RFC 9113 §6.9.2)
            for (const c of this.calls.values()) c.sendWindow += v - this.peerInitialWindow;
            this.peerInitialWindow = v;
          } else if (id === 0x5) this.peerMaxFrame = v;
        }
        this.write(T.SETTINGS, F.ACK, 0, Buffer.alloc(0));
        this.unblock();
        return;
      }
      case T.PING:
        if (!(flags & F.ACK)) this.write(T.PING, F.ACK, 0, payload);
        return;
      case T.GOAWAY: {
        const last = payload.readUInt32BE(0) & 0x7fffffff;
        this.failed = `GOAWAY (code ${payload.readUInt32BE(4)})`;
        for (const id of [...this.calls.keys()]) if (id > last) this.finish(id);
        return;
      }
      case T.WINDOW_UPDATE: {
        const inc = payload.readUInt32BE(0) & 0x7fffffff;
        if (stream === 0) this.connWindow += inc;
        else {
          const c = this.calls.get(stream);
          if (c) c.sendWindow += inc;
        }
        this.unblock();
        return;
      }
      default:
        return; // PRIORITY, PUSH_PROMISE (refused by SETTINGS), unknown types: ignored
    }
  }

  /** A header block: response headers, trailers, or a trailers-only answer. Decoded even for a stream we dropped (the table must stay in step). */
  private onHeaders(stream: number, c: Call | undefined, block: Buffer, endStream: boolean): void {
    let headers: Header[];
    try {
      headers = this.hpack.decode(block);
    } catch (e) {
      return this.fail(`HPACK: ${(e as Error).message}`);
    }
    if (c) {
      for (const [name, value] of headers) {
        if (name === ':status') c.httpStatus = Number(value);
        else if (name === 'grpc-status') c.code = Number(value);
        else if (name === 'grpc-message') c.message = decodeGrpcMessage(value);
      }
    }
    if (endStream) this.finish(stream);
  }

  private unblock(): void {
    while (this.blocked.length) {
      const id = this.blocked[0]!;
      const c = this.calls.get(id);
      this.socket.cork();
      const done = !c || this.sendData(id, c);
      this.socket.uncork();
      if (!done) return;
      this.blocked.shift();
    }
  }

  private finish(stream: number): void {
    const c = this.calls.get(stream);
    if (!c) return;
    this.calls.delete(stream);
    if (c.httpStatus !== 200 && c.httpStatus !== 0) c.resolve({ code: Status.UNKNOWN, message: `HTTP status ${c.httpStatus}` });
    else if (c.code < 0) c.resolve({ code: Status.UNAVAILABLE, message: c.message || 'stream ended without grpc-status' });
    else c.resolve({ code: c.code, message: c.message });
  }

  private fail(reason: string): void {
    this.failed ??= reason;
    for (const id of [...this.calls.keys()]) {
      const c = this.calls.get(id)!;
      if (c.code < 0 && !c.message) c.message = reason;
      this.finish(id);
    }
    this.blocked.length = 0;
    if (!this.socket.destroyed) this.socket.destroy();
  }
}
