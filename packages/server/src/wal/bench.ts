// WAL micro-benchmark: closed-loop writers appending fixed-size payloads.
// node packages/server/dist/wal/bench.js [--payload 102400] [--concurrency 64]
//   [--seconds 10] [--sync always|none] [--delay-ms 0] [--segment-bytes N] [--dir DIR] [--json]

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { Wal } from './wal.js';

const { values: a } = parseArgs({
  options: {
    payload: { type: 'string', default: '102400' },
    concurrency: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '10' },
    sync: { type: 'string', default: 'always' },
    'delay-ms': { type: 'string', default: '0' },
    'segment-bytes': { type: 'string', default: String(64 * 1024 * 1024) },
    dir: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

const payloadBytes = Number(a.payload);
const concurrency = Number(a.concurrency);
const seconds = Number(a.seconds);
const sync = a.sync === 'none' ? 'none' : 'always';
const parent = a.dir ?? tmpdir();
const dir = await mkdtemp(join(parent, 'ariadne-wal-bench-'));

const wal = await Wal.open({
  dir,
  sync,
  maxGroupDelayMs: Number(a['delay-ms']),
  segmentBytes: Number(a['segment-bytes']),
});
// Distinct payloads, reused round-robin: the WAL does not copy them.
const payloads = Array.from({ length: concurrency }, () => randomBytes(payloadBytes));
const latencies: number[] = [];
const syncs0 = wal.stats().syncs;
const start = performance.now();
const end = start + seconds * 1000;
let appends = 0;

// Checkpoint-like truncation keeps the disk footprint bounded during long runs.
const checkpoint = setInterval(() => void wal.truncateBefore(wal.stats().lastLsn + 1n), 1000);

await Promise.all(
  payloads.map(async (p) => {
    while (performance.now() < end) {
      const t0 = performance.now();
      await wal.append(p);
      latencies.push(performance.now() - t0);
      appends++;
    }
  }),
);
const elapsed = (performance.now() - start) / 1000;
clearInterval(checkpoint);
const syncs = wal.stats().syncs - syncs0;
await wal.close();
await rm(dir, { recursive: true, force: true });

latencies.sort((x, y) => x - y);
const pct = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
const result = {
  payloadBytes,
  concurrency,
  sync,
  seconds: Number(elapsed.toFixed(2)),
  appends,
  appendsPerSec: Math.round(appends / elapsed),
  mbPerSec: Number(((appends * payloadBytes) / elapsed / 1e6).toFixed(1)),
  syncs,
  syncsPerAppend: Number((syncs / Math.max(1, appends)).toFixed(4)),
  recordsPerGroup: Number((appends / Math.max(1, syncs)).toFixed(1)),
  latencyMs: { p50: Number(pct(0.5).toFixed(2)), p99: Number(pct(0.99).toFixed(2)), max: Number(pct(1).toFixed(2)) },
};
if (a.json) console.log(JSON.stringify(result));
else {
  console.log(
    `wal bench: ${payloadBytes} B payloads, concurrency ${concurrency}, sync ${sync}, ${result.seconds} s\n` +
      `  ${result.appendsPerSec} appends/s, ${result.mbPerSec} MB/s\n` +
      `  ${syncs} syncs for ${appends} appends: ${result.syncsPerAppend} syncs/append (${result.recordsPerGroup} records/group)\n` +
      `  latency p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, max ${result.latencyMs.max} ms`,
  );
}
