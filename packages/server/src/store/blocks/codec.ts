// Chunk compression: deflate-raw or brotli from Node's zlib. The async forms
// run on the libuv threadpool, so a flush compresses on the second core while
// the event loop keeps encoding (and serving requests).

import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { Codec } from './format.js';

const deflateRaw = promisify(zlib.deflateRaw);
const inflateRaw = promisify(zlib.inflateRaw);
const brotliCompress = promisify(zlib.brotliCompress);
const brotliDecompress = promisify(zlib.brotliDecompress);

export interface CompressOptions {
  codec: Codec;
  /** deflate level 1-9, or brotli quality 0-11 */
  level: number;
}

function brotliParams(level: number, size: number): zlib.BrotliOptions {
  return {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: level,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: size,
      [zlib.constants.BROTLI_PARAM_LGWIN]: Math.max(16, Math.min(24, Math.ceil(Math.log2(size + 1)))),
    },
  };
}

export async function compress(raw: Uint8Array, o: CompressOptions): Promise<Uint8Array> {
  if (o.codec === Codec.DEFLATE) return deflateRaw(raw, { level: o.level });
  if (o.codec === Codec.BROTLI) return brotliCompress(raw, brotliParams(o.level, raw.length));
  return raw;
}

export function compressSync(raw: Uint8Array, o: CompressOptions): Uint8Array {
  if (o.codec === Codec.DEFLATE) return zlib.deflateRawSync(raw, { level: o.level });
  if (o.codec === Codec.BROTLI) return zlib.brotliCompressSync(raw, brotliParams(o.level, raw.length));
  return raw;
}

export function decompressSync(buf: Uint8Array, codec: Codec, rawLength: number): Uint8Array {
  if (codec === Codec.NONE) return buf;
  const out = codec === Codec.DEFLATE ? zlib.inflateRawSync(buf) : codec === Codec.BROTLI ? zlib.brotliDecompressSync(buf) : undefined;
  if (!out) throw new Error(`block: unknown codec ${codec} (written by a newer Ariadne?)`);
  if (out.length !== rawLength) throw new Error(`block: chunk inflated to ${out.length} bytes, expected ${rawLength}`);
  return out;
}

export async function decompress(buf: Uint8Array, codec: Codec, rawLength: number): Promise<Uint8Array> {
  if (codec === Codec.NONE) return buf;
  const out = codec === Codec.DEFLATE ? await inflateRaw(buf) : codec === Codec.BROTLI ? await brotliDecompress(buf) : undefined;
  if (!out) throw new Error(`block: unknown codec ${codec} (written by a newer Ariadne?)`);
  if (out.length !== rawLength) throw new Error(`block: chunk inflated to ${out.length} bytes, expected ${rawLength}`);
  return out;
}
