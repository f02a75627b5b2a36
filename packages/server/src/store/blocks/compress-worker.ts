// Worker thread entry: compresses the column chunks of a page with zlib's
// synchronous calls, which cost far less per call than the async ones (no
// stream objects), on the core the event loop is not using.

import { parentPort } from 'node:worker_threads';
import { compressSync } from './codec.js';
import type { CompressOptions } from './codec.js';

export interface CompressRequest {
  id: number;
  chunks: Uint8Array[];
  options: CompressOptions;
}

parentPort!.on('message', (m: CompressRequest) => {
  try {
    const out = m.chunks.map((c) => {
      const z = compressSync(c, m.options);
      // a copy that owns its buffer, so it can be transferred back
      return z.length < c.length ? new Uint8Array(z) : undefined;
    });
    parentPort!.postMessage({ id: m.id, out }, out.flatMap((z) => (z ? [z.buffer as ArrayBuffer] : [])));
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
  }
});
