// Small helpers for starting external services as child processes in tests.

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

/** A service that started, or why it could not. */
export type Started<T> = { ok: true; value: T } | { ok: false; reason: string };

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface Launched {
  child: ChildProcess;
  /** The first stdout line matching the pattern. */
  match: RegExpExecArray;
}

/**
 * Spawns `cmd args` and waits for a stdout line matching `ready`. Fails with
 * the tail of stderr when the process exits first or `timeoutMs` passes.
 */
export function launch(cmd: string, args: string[], ready: RegExp, timeoutMs: number): Promise<Started<Launched>> {
  return new Promise((resolve) => {
    let settled = false;
    let stderr = '';
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      resolve({ ok: false, reason: `cannot start ${cmd}: ${(err as Error).message}` });
      return;
    }
    const finish = (r: Started<Launched>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!r.ok) child.kill('SIGKILL');
      resolve(r);
    };
    const timer = setTimeout(() => finish({ ok: false, reason: `${cmd} did not report ready within ${timeoutMs} ms; stderr: ${tail(stderr)}` }), timeoutMs);
    child.on('error', (err) => finish({ ok: false, reason: `cannot start ${cmd}: ${err.message}` }));
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.length > 64 * 1024) stderr = stderr.slice(-32 * 1024);
    });
    child.on('exit', (code, signal) => finish({ ok: false, reason: `${cmd} exited (${signal ?? code}) before it was ready; stderr: ${tail(stderr)}` }));
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const m = ready.exec(line);
      if (m) finish({ ok: true, value: { child, match: m } });
    });
  });
}

function tail(s: string): string {
  const t = s.trim().split('\n').slice(-5).join(' | ');
  return t === '' ? '(empty)' : t;
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export function stop(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
