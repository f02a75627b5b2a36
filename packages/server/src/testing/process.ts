// Running the real `ariadne serve` binary as a child process, for tests that
// kill it (crash recovery) or measure it from outside.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../../../bin/ariadne.js', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  http: number;
  otlpHttp: number;
  otlpGrpc: number;
  url: string;
  output(): string;
}

export function spawnServer(dataDir: string, extraArgs: string[] = []): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--data', dataDir, '--host', '127.0.0.1', '--port', '0', '--otlp-http-port', '0', '--otlp-grpc-port', '0', ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 20s:\n${out}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ariadne listening http=(\d+) otlp-http=(\d+) otlp-grpc=(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, http: +m[1]!, otlpHttp: +m[2]!, otlpGrpc: +m[3]!, url: `http://127.0.0.1:${m[1]}`, output: () => out });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
}

export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}
