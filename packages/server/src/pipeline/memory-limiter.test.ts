import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { encodeTraceRequestProto } from '../receive/otlp/encode.js';
import { traceServiceDefinition } from '../receive/otlp-grpc.js';
import { ConfigError, defaultMemoryLimit, loadConfig, parseSize } from '../config/config.js';
import { headSpansFor } from '../main.js';
import { makeSpan } from '../testing/fixtures.js';
import { startTestServer } from '../testing/server.js';
import { MemoryLimiter } from './memory-limiter.js';

describe('MemoryLimiter', () => {
  it('goes over above 90% of the limit, recovers only below 80%, and signals pressure once per crossing', () => {
    let rss = 0;
    let pressure = 0;
    const samples: number[] = [];
    const m = new MemoryLimiter({ limitBytes: 1000, readRss: () => rss, onPressure: () => pressure++, onSample: (r) => samples.push(r) });
    const seq: [number, boolean][] = [
      [500, false],
      [900, false], // at the soft limit, not over it
      [901, true],
      [950, true],
      [850, true], // between 80% and 90%: still refusing
      [800, true],
      [799, false],
      [950, true],
    ];
    for (const [r, over] of seq) {
      rss = r;
      assert.equal(m.check(), over, `rss ${r}`);
      assert.equal(m.overLimit, over);
    }
    assert.equal(pressure, 2);
    assert.deepStrictEqual(samples, seq.map(([r]) => r));
  });
});

describe('--memory-limit', () => {
  it('parses sizes and refuses nonsense', () => {
    assert.equal(parseSize('2GiB'), 2 * 2 ** 30);
    assert.equal(parseSize('1536MiB'), 1536 * 2 ** 20);
    assert.equal(parseSize('1.5GB'), 1.5e9);
    assert.equal(parseSize('104857600'), 104857600);
    assert.equal(parseSize('12 kib'), 12 * 1024);
    for (const bad of ['', 'lots', '2TiB', '-1GiB', '1e9', '2GiBs', '9'.repeat(40)]) assert.equal(parseSize(bad), undefined, bad);
    assert.equal(loadConfig({ 'memory-limit': '512MiB' }, {}).memoryLimitBytes, 512 * 2 ** 20);
    assert.equal(loadConfig({}, { ARIADNE_MEMORY_LIMIT: '1GiB' }).memoryLimitBytes, 2 ** 30);
    assert.equal(loadConfig({}, {}).memoryLimitBytes, defaultMemoryLimit());
    assert.throws(() => loadConfig({ 'memory-limit': '1MiB' }, {}), (e: Error) => e instanceof ConfigError && /at least 64MiB/.test(e.message));
  });

  it('sizes the block store head from it', () => {
    assert.equal(headSpansFor(2 * 2 ** 30), 1 << 20);
    assert.equal(headSpansFor(512 * 2 ** 20), 1 << 18);
    assert.equal(headSpansFor(64 * 2 ** 20), 1 << 15);
    assert.equal(headSpansFor(64 * 2 ** 30), 1 << 20);
  });
});

describe('a server over its memory limit', () => {
  it('refuses OTLP/HTTP and gRPC with a retryable 503 / UNAVAILABLE, stores nothing, and counts it', async () => {
    // far below what any Node process uses: over the limit from the first sample
    const server = await startTestServer({ memoryLimitBytes: 1 << 20 });
    try {
      const body = encodeTraceRequestProto([makeSpan({ service: 'memory' })]);
      const res = await fetch(`${server.otlpHttpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '1');
      assert.deepStrictEqual(await res.json(), { code: 14, message: 'server is over its memory limit; retry later' });
      const proto = await fetch(`${server.otlpHttpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
      assert.equal(proto.status, 503);
      const Ctor = grpc.makeGenericClientConstructor(traceServiceDefinition, 'TraceService');
      const client = new Ctor(`127.0.0.1:${server.ports.otlpGrpc}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
        Export(b: Buffer, cb: (e: grpc.ServiceError | null) => void): void;
      };
      const err = await new Promise<grpc.ServiceError | null>((resolve) => client.Export(Buffer.from(body), resolve));
      client.close();
      assert.equal(err?.code, grpc.status.UNAVAILABLE);
      assert.equal(err?.details, 'server is over its memory limit; retry later');
      assert.deepStrictEqual(await server.store.services(), []);
      const text = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(text, /ariadne_requests_refused_total\{receiver="otlp_http",reason="memory_limit"\} 2/);
      assert.match(text, /ariadne_requests_refused_total\{receiver="otlp_grpc",reason="memory_limit"\} 1/);
      assert.match(text, /ariadne_memory_limit_bytes 1048576/);
      assert.match(text, /ariadne_resident_memory_bytes [1-9]\d{6,}/);
    } finally {
      await server.stop();
    }
  });

  it('accepts under a realistic limit', async () => {
    const server = await startTestServer({ memoryLimitBytes: 8 * 2 ** 30 });
    try {
      const res = await fetch(`${server.otlpHttpUrl}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: encodeTraceRequestProto([makeSpan({ service: 'memory-ok' })]),
      });
      assert.equal(res.status, 200);
      assert.deepStrictEqual(await server.store.services(), ['memory-ok']);
    } finally {
      await server.stop();
    }
  });
});
