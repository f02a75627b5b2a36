// Durability: ingest under load, kill -9 the server at a random moment,
// restart it on the same data, and check every acknowledged span is there.
// Repeated on the same directory so recovery after recovery is covered too.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpanJson } from '@ariadne/model';
import { generateTraces } from '../bench/dataset.js';
import { encodeTraceRequestProto } from '../receive/otlp/index.js';
import { exited, spawnServer } from '../testing/process.js';

function post(port: number, body: Uint8Array, agent: http.Agent): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: '/v1/traces', method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

describe('crash recovery', () => {
  it('every acknowledged span survives kill -9, five times over', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ariadne-crash-'));
    const acked = new Map<string, number>(); // traceId → span count
    let seed = 1;
    try {
      for (let round = 0; round < 5; round++) {
        const server = await spawnServer(dir, ['--checkpoint-interval', '300ms']);
        const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
        let stop = false;
        const workers = Array.from({ length: 4 }, async () => {
          while (!stop) {
            const spans = generateTraces(seed++, 5, BigInt(Date.now()) * 1_000_000n - 60_000_000_000n, 60_000_000_000n);
            const status = await post(server.otlpHttp, encodeTraceRequestProto(spans), agent);
            if (status === 200) for (const s of spans) acked.set(s.traceId, (acked.get(s.traceId) ?? 0) + 1);
            else if (status !== 0) assert.fail(`unexpected status ${status}`);
            else break; // connection died: the server was killed
          }
        });
        await new Promise((r) => setTimeout(r, 200 + Math.random() * 800));
        server.child.kill('SIGKILL');
        stop = true;
        await Promise.all(workers);
        await exited(server.child);
        agent.destroy();

        const again = await spawnServer(dir);
        try {
          let missing = 0;
          const ids = [...acked.keys()];
          await Promise.all(
            Array.from({ length: 16 }, async (_, w) => {
              for (let i = w; i < ids.length; i += 16) {
                const res = await fetch(`${again.url}/api/v1/traces/${ids[i]}`);
                const got = res.status === 200 ? ((await res.json()) as { spans: SpanJson[] }).spans.length : 0;
                if (got !== acked.get(ids[i]!)) missing++;
              }
            }),
          );
          assert.equal(missing, 0, `round ${round}: ${missing} of ${acked.size} acknowledged traces incomplete after restart`);
          assert.ok(acked.size > 0, 'something was acknowledged');
        } finally {
          again.child.kill('SIGKILL');
          await exited(again.child);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
