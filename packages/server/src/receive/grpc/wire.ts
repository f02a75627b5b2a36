// The gRPC-over-HTTP/2 wire for unary calls, shared by the OTLP/gRPC receiver
// and the load generator's client: status codes, the 5-byte message prefix,
// and grpc-message percent-encoding (grpc/doc/PROTOCOL-HTTP2.md).

import { Buffer } from 'node:buffer';

/** The status codes we send or read (google.rpc.Code). */
export const Status = {
  OK: 0,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;
export type StatusCode = (typeof Status)[keyof typeof Status];

/** Compressed-Flag (1 byte) + Message-Length (4 bytes, big-endian). */
export const PREFIX_BYTES = 5;

/** `message` behind its prefix (uncompressed), in one buffer of its own. */
export function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(PREFIX_BYTES + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, PREFIX_BYTES);
  return out;
}

/** The content types a gRPC protobuf peer sends: `application/grpc` and `application/grpc+proto`, parameters allowed. */
export function isGrpcProto(contentType: string | undefined): boolean {
  if (contentType === 'application/grpc' || contentType === 'application/grpc+proto') return true;
  const base = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  return base === 'application/grpc' || base === 'application/grpc+proto';
}

const PLAIN = /^[\x20-\x24\x26-\x7e]*$/;
const NOT_PLAIN = /[^\x20-\x24\x26-\x7e]+/g;
const HEX = Array.from({ length: 256 }, (_, b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`);

/** grpc-message: UTF-8 bytes outside printable ASCII, and '%', become %XX. */
export function encodeGrpcMessage(text: string): string {
  if (PLAIN.test(text)) return text;
  return text.replace(NOT_PLAIN, (run) => {
    let out = '';
    for (const b of Buffer.from(run, 'utf8')) out += HEX[b];
    return out;
  });
}

const ESCAPED = /(?:%[0-9A-Fa-f]{2})+/g;

/** The inverse of encodeGrpcMessage; a malformed escape is kept as it is (never throws). */
export function decodeGrpcMessage(text: string): string {
  return text.includes('%') ? text.replace(ESCAPED, (run) => Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8')) : text;
}
