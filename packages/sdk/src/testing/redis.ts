// Starts a throwaway redis-server on a free port for tests (when it is on PATH).

import { spawnSync } from 'node:child_process';
import { freePort, launch, stop, type Started } from './process.js';

export interface RedisServer {
  port: number;
  url: string;
  stop(): Promise<void>;
}

export function redisAvailable(): boolean {
  const r = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

export async function startRedis(timeoutMs = 15_000): Promise<Started<RedisServer>> {
  if (!redisAvailable()) return { ok: false, reason: 'redis-server not found on PATH (apt-get install -y redis-server)' };
  const port = await freePort();
  const started = await launch(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'notice'],
    /Ready to accept connections/,
    timeoutMs,
  );
  if (!started.ok) return { ok: false, reason: `redis-server did not start: ${started.reason}` };
  const { child } = started.value;
  child.stdout?.resume();
  return { ok: true, value: { port, url: `redis://127.0.0.1:${port}`, stop: () => stop(child) } };
}
