// Chunk compression: deflate-raw or brotli from Node's zlib. The async forms
// run on the libuv threadpool, so a flush compresses on the second core while
// the event loop keeps encoding (and serving requests).

import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
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

/**
 * Compresses a page's chunks off the event loop. One worker thread, shared by
 * every store in the process, started on first use and never keeping the
 * process alive; falls back to the async zlib calls if it cannot start.
 * Returns each chunk compressed, or undefined where compression did not help.
 */
export function compressChunks(chunks: Uint8Array[], o: CompressOptions): Promise<(Uint8Array | undefined)[]> {
  return pool().run(chunks, o);
}

class CompressorPool {
  private worker: Worker | undefined;
  private failed = false;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: (Uint8Array | undefined)[]) => void; reject: (e: Error) => void }>();

  async run(chunks: Uint8Array[], o: CompressOptions): Promise<(Uint8Array | undefined)[]> {
    const w = this.start();
    if (!w) return Promise.all(chunks.map(async (c) => {
      const z = await compress(c, o);
      return z.length < c.length ? z : undefined;
    }));
    const id = this.seq++;
    // the worker gets copies: the caller keeps its chunks (stored raw when compression does not pay)
    const copies = chunks.map((c) => c.slice());
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) w.ref();
      w.postMessage({ id, chunks: copies, options: o }, copies.map((c) => c.buffer as ArrayBuffer));
    });
  }

  private start(): Worker | undefined {
    if (this.worker || this.failed) return this.worker;
    try {
      const w = new Worker(new URL('./compress-worker.js', import.meta.url));
      w.unref();
      w.on('message', (m: { id: number; out?: (Uint8Array | undefined)[]; error?: string }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (this.pending.size === 0) w.unref();
        if (m.error !== undefined) p.reject(new Error(`compression failed: ${m.error}`));
        else p.resolve(m.out!);
      });
      const fail = (e: Error) => {
        this.worker = undefined;
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      };
      w.on('error', fail);
      w.on('exit', (code) => fail(new Error(`compression worker exited with code ${code}`)));
      this.worker = w;
    } catch {
      this.failed = true;
    }
    return this.worker;
  }
}

let shared: CompressorPool | undefined;
function pool(): CompressorPool {
  return (shared ??= new CompressorPool());
}
