// Helper process for crash.test.ts: appends self-checking payloads as fast as
// it can and prints "<lsn> <seq>" for each acknowledged one, until killed.
// Usage: node crash-child.js <dir> <run> <segmentBytes>

import { Wal } from './wal.js';
import { checkedPayload } from './fixtures.js';

const [dir, runArg, segArg] = process.argv.slice(2);
const run = Number(runArg);
const wal = await Wal.open({ dir: dir!, segmentBytes: Number(segArg) });
// stdout is a pipe: writes are synchronous on Linux, so a printed line was
// acknowledged before the process could die.
process.stdout.write('ready\n');

const CONCURRENCY = 16;
let seq = 0;
async function worker(): Promise<void> {
  for (;;) {
    const s = seq++;
    const len = 8 + Math.floor(Math.random() * 32 * 1024);
    const lsn = await wal.append(checkedPayload(run, s, len));
    process.stdout.write(`${lsn} ${s}\n`);
  }
}
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
