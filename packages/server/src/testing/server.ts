// Starting a real server on free ports in a temp dir, for tests.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS, type ServerConfig } from '../config/config.js';
import { startAriadne, type Ariadne } from '../main.js';

export interface TestServer extends Ariadne {
  dir: string;
  url: string;
  otlpHttpUrl: string;
  stop(): Promise<void>;
}

export async function startTestServer(overrides: Partial<ServerConfig> = {}): Promise<TestServer> {
  const dir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'ariadne-test-'));
  const server = await startAriadne({
    ...DEFAULTS,
    host: '127.0.0.1',
    port: 0,
    otlpHttpPort: 0,
    otlpGrpcPort: 0,
    ...overrides,
    dataDir: dir,
  });
  return {
    ...server,
    dir,
    url: `http://127.0.0.1:${server.ports.http}`,
    otlpHttpUrl: `http://127.0.0.1:${server.ports.otlpHttp}`,
    async stop() {
      await server.close();
      if (!overrides.dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
