import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Wal } from './wal.js';
import { readCheckedPayload, replayAll, tempDir } from './fixtures.js';

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));
const SEGMENT_BYTES = 256 * 1024; // small, so kills also land during rotation

/** Runs the child until SIGKILL `delayMs` after it is ready; returns the acknowledged (lsn, seq) pairs. */
async function runAndKill(dir: string, run: number, delayMs: number): Promise<Map<bigint, number>> {
  const child = spawn(process.execPath, [CHILD, dir, String(run), String(SEGMENT_BYTES)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  let timer: NodeJS.Timeout | undefined;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
    if (!timer && out.startsWith('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  clearTimeout(timer);
  assert.equal(signal, 'SIGKILL', `child exited on its own (code ${code}):\n${out.slice(-500)}`);
  const acked = new Map<bigint, number>();
  const lines = out.split('\n');
  lines.pop(); // a line cut by the kill was never fully reported
  for (const line of lines.slice(1)) {
    const [lsn, seq] = line.split(' ');
    acked.set(BigInt(lsn!), Number(seq));
  }
  return acked;
}

describe('Wal crash safety', () => {
  it('keeps every acknowledged append across SIGKILL at random moments', async (t) => {
    const dir = await tempDir(t, 'wal-crash');
    const all = new Map<bigint, { run: number; seq: number }>();
    let maxAcked = 0n;
    for (let run = 0; run < 5; run++) {
      const delayMs = 50 + Math.floor(Math.random() * 350);
      const acked = await runAndKill(dir, run, delayMs);
      const lsns = [...acked.keys()];
      if (lsns.length > 0) {
        const min = lsns.reduce((a, b) => (a < b ? a : b));
        assert.ok(min > maxAcked, `run ${run}: LSN ${min} reused (previous runs reached ${maxAcked})`);
        maxAcked = lsns.reduce((a, b) => (a > b ? a : b));
      }
      for (const [lsn, seq] of acked) all.set(lsn, { run, seq });

      const wal = await Wal.open({ dir, segmentBytes: SEGMENT_BYTES });
      const { records, stats } = await replayAll(wal);
      await wal.close();
      assert.equal(stats.corruptRecords, 0, 'a torn tail is cut by open(), never left for replay');
      const found = new Map<bigint, Uint8Array>();
      for (let i = 1; i < records.length; i++) assert.ok(records[i]!.lsn > records[i - 1]!.lsn);
      for (const r of records) found.set(r.lsn, r.payload);
      for (const [lsn, want] of all) {
        const p = found.get(lsn);
        assert.ok(p, `run ${run} (killed after ${delayMs} ms): acknowledged LSN ${lsn} is missing`);
        assert.deepEqual(readCheckedPayload(p), want, `LSN ${lsn} holds the wrong or a damaged payload`);
      }
      t.diagnostic(
        `run ${run}: killed after ${delayMs} ms, ${acked.size} acked, ${records.length} in log, ${stats.segments} segments`,
      );
    }
    assert.ok(all.size > 0, 'the children acknowledged something');
  });
});
