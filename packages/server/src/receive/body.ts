// Reading request bodies with limits: the raw size is capped while reading,
// and gzip is inflated with a cap on its output, so a gzip bomb is refused
// after inflating at most the limit, never the whole thing.

import type { IncomingMessage } from 'node:http';
import { gunzip, inflate } from 'node:zlib';
import { promisify } from 'node:util';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

export type BodyResult =
  | { ok: true; body: Buffer }
  | { ok: false; status: 400 | 413 | 415; message: string };

/** `take` gives the buffer a body that came in several pieces is copied into (default: a new one). */
export function readRaw(req: IncomingMessage, limit: number, take?: (length: number) => Buffer): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (r: BodyResult) => {
      if (done) return;
      done = true;
      resolve(r);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        finish({ ok: false, status: 413, message: `request body exceeds the ${limit}-byte limit` });
        req.resume(); // discard the rest; the response closes the connection
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => finish({ ok: true, body: chunks.length === 1 ? chunks[0]! : concat(chunks, size, take) }));
    req.on('error', (e) => finish({ ok: false, status: 400, message: `error reading request body: ${e.message}` }));
    req.on('aborted', () => finish({ ok: false, status: 400, message: 'request aborted by client' }));
  });
}

function concat(chunks: readonly Buffer[], size: number, take?: (length: number) => Buffer): Buffer {
  if (!take) return Buffer.concat(chunks, size);
  const out = take(size);
  let at = 0;
  for (const c of chunks) at += c.copy(out, at);
  return out;
}

/** Undoes Content-Encoding, never producing more than `limit` bytes. */
export async function decodeContent(encoding: string | undefined, raw: Buffer, limit: number): Promise<BodyResult> {
  const enc = (encoding ?? 'identity').trim().toLowerCase();
  if (enc === 'identity' || enc === '') return { ok: true, body: raw };
  if (enc !== 'gzip' && enc !== 'deflate') {
    return { ok: false, status: 415, message: `unsupported Content-Encoding '${enc}' (use gzip or none)` };
  }
  try {
    const body = await (enc === 'gzip' ? gunzipAsync : inflateAsync)(raw, { maxOutputLength: limit });
    return { ok: true, body };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      return { ok: false, status: 413, message: `decompressed request body exceeds the ${limit}-byte limit` };
    }
    return { ok: false, status: 400, message: `invalid ${enc} body: ${err.message}` };
  }
}
