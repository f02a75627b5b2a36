// The one place that wires receivers, pipeline, WAL, store and query APIs
// into a running server.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { serve, type HttpBindings } from '@hono/node-server';
import { secureHeaders } from 'hono/secure-headers';
import type { ServerConfig } from './config/config.js';
import { createMetrics, type Metrics } from './metrics.js';
import { Wal } from './wal/index.js';
import { BLOCKS_STORE_ENTRY, EMBEDDED_STORE_ENTRY, WorkerStore } from './store/worker/index.js';
import type { TraceStore } from './store/types.js';
import { Ingester } from './pipeline/ingest.js';
import { MemoryLimiter } from './pipeline/memory-limiter.js';
import { otlpHttpCore, otlpHttpHandler, sendReply } from './receive/otlp-http.js';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { startOtlpGrpc } from './receive/otlp-grpc.js';
import { queryApi } from './query/api.js';
import { analysisApi } from './query/analysis-api.js';
import { causalApi } from './query/causal-api.js';
import { racewayHandler } from './receive/raceway/http.js';
import { seedRestApi } from './receive/seed-rest/index.js';
import { openApiDocument } from './query/openapi.js';
import { landingPage } from './ui/landing.js';

export interface Ariadne {
  ports: { http: number; otlpHttp: number; otlpGrpc: number };
  store: TraceStore;
  ingester: Ingester;
  metrics: Metrics;
  close(): Promise<void>;
}

type Env = { Bindings: HttpBindings };

export async function startAriadne(config: ServerConfig, log: (msg: string) => void = () => {}): Promise<Ariadne> {
  mkdirSync(config.dataDir, { recursive: true });
  const unlock = lockDataDir(config.dataDir);
  const metrics = createMetrics();
  if (config.storage !== 'embedded') throw new Error(`storage '${config.storage}' is not available yet; use --storage embedded`);
  const store = await openEmbeddedStore(config, log, (reason) =>
    log(`store thread failed (${reason}); answering 503 until restart, acknowledged spans are safe in the WAL`),
  );
  const wal = await Wal.open({ dir: join(config.dataDir, 'wal'), sync: config.walSync });
  metrics.memoryLimitBytes.set(config.memoryLimitBytes);
  let ingesterRef: Ingester | undefined;
  const limiter = new MemoryLimiter({
    limitBytes: config.memoryLimitBytes,
    onSample: (rss) => metrics.residentBytes.set(rss),
    onPressure: () => {
      log(`memory: resident ${Math.round(limiter.lastRss / 2 ** 20)} MiB is over 90% of the ${Math.round(config.memoryLimitBytes / 2 ** 20)} MiB limit; refusing requests (503) and flushing the store`);
      // flushing frees the head's memory (a checkpoint alone need not flush)
      void store
        .flush()
        .then(() => ingesterRef?.checkpoint())
        .catch(() => {});
    },
  });
  const ingester = new Ingester(wal, store, metrics, {
    maxInflightBytes: config.maxInflightBytes,
    overMemoryLimit: () => limiter.overLimit,
    checkpointIntervalMs: config.checkpointIntervalMs,
    log,
  });
  ingesterRef = ingester;
  const recovered = await ingester.start();
  limiter.start();
  if (recovered.records) log(`recovered ${recovered.spans} spans from ${recovered.records} WAL records (${recovered.corruptRecords} corrupt records skipped)`);

  const otlp = otlpHttpHandler({ ingester, metrics, maxBodyBytes: config.maxBodyBytes });

  const app = new Hono<Env>();
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    }),
  );
  if (config.apiKeys.length) app.use('*', apiKeyGuard(config.apiKeys, metrics));
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/ready', (c) =>
    store.failure ? c.json({ status: 'failed', reason: store.failure }, 503) : ingester.ready ? c.json({ status: 'ready' }) : c.json({ status: 'starting' }, 503),
  );
  app.get('/metrics', async (c) => {
    ingester.refreshGauges();
    return c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType });
  });
  app.post('/v1/traces', otlp);
  app.post('/events', racewayHandler({ ingester, metrics, maxBodyBytes: config.maxBodyBytes }));
  // Before queryApi: its /traces/:traceId would take /api/v1/traces/slow for an id.
  app.route('/api/v1', analysisApi(store));
  app.route('/api/v1', causalApi(store));
  app.route('/api/v1', queryApi(store));
  const seedRest = seedRestApi({ ingester, store, metrics, log });
  app.route('/', seedRest.app);
  app.get('/api/openapi.json', (c) => c.json(openApiDocument));
  app.get('/', (c) => c.html(landingPage));
  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${new URL(c.req.url).pathname}` }, 404));
  app.onError((err, c) => {
    log(`error on ${c.req.method} ${c.req.path}: ${err.stack ?? err}`);
    return c.json({ error: `internal error: ${err.message}` }, 500);
  });

  // The OTLP-only port is the ingest hot path: plain node:http, no Request or
  // Response objects per call (the main port serves the same receiver through Hono).
  const otlpCore = otlpHttpCore({ ingester, metrics, maxBodyBytes: config.maxBodyBytes });
  const allowedKeys = new Set(config.apiKeys);
  const otlpListener = (req: IncomingMessage, res: ServerResponse): void => {
    const json = (status: number, body: object) => sendReply(res, { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (allowedKeys.size && !allowedKeys.has(apiKeyOf(req.headers) ?? '')) {
      metrics.requestsRefused.inc({ receiver: 'http', reason: 'unauthorized' });
      req.resume();
      return json(401, { error: UNAUTHORIZED });
    }
    const path = (req.url ?? '').split('?', 1)[0];
    if (req.method !== 'POST' || path !== '/v1/traces') {
      req.resume();
      return json(404, { error: 'OTLP/HTTP port: only POST /v1/traces is served here' });
    }
    otlpCore(req).then(
      (reply) => sendReply(res, reply),
      (e: Error) => {
        log(`error on POST /v1/traces: ${e.stack ?? e}`);
        json(500, { error: `internal error: ${e.message}` });
      },
    );
  };

  const http = await listen(app, config.host, config.port);
  const otlpHttp = await listenNode(otlpListener, config.host, config.otlpHttpPort);
  const grpc = await startOtlpGrpc({ ingester, metrics, maxBodyBytes: config.maxBodyBytes, apiKeys: config.apiKeys }, config.host, config.otlpGrpcPort);

  let retentionRun: Promise<void> | undefined;
  const applyRetention = () => {
    if (retentionRun) return;
    const cutoff = BigInt(Date.now()) * 1_000_000n - BigInt(config.retentionNanos);
    retentionRun = store
      .deleteBefore(cutoff)
      .then((n) => {
        metrics.retentionDeleted.inc(n);
        if (n) log(`retention: deleted ${n} spans that started before ${new Date(Number(cutoff / 1_000_000n)).toISOString()}`);
      })
      .catch((e) => log(`retention failed: ${e}`))
      .finally(() => (retentionRun = undefined));
  };
  applyRetention();
  const retentionTimer = setInterval(applyRetention, config.retentionIntervalMs);
  retentionTimer.unref();

  let closing: Promise<void> | undefined;
  return {
    ports: { http: http.port, otlpHttp: otlpHttp.port, otlpGrpc: grpc.port },
    store,
    ingester,
    metrics,
    close() {
      closing ??= (async () => {
        clearInterval(retentionTimer);
        await retentionRun;
        await Promise.all([http.close(), otlpHttp.close(), grpc.close()]);
        await seedRest.close();
        limiter.stop();
        await ingester.close();
        // Flush first, so the last checkpoint trims the WAL of everything and
        // the next start replays nothing (store.close() then has no head left).
        await store.flush().catch((e) => log(`final flush failed: ${e}`));
        await ingester.checkpoint().catch((e) => log(`final checkpoint failed: ${e}`));
        await wal.close();
        await store.close();
        unlock();
      })();
      return closing;
    },
  };
}

/**
 * The embedded store runs on its own thread: the ingest thread only validates
 * OTLP and appends to the WAL, the store thread decodes, indexes and writes.
 * The engine is our columnar block store; DuckDB is kept as a measured
 * alternative (docs/design/storage.md).
 */
/**
 * Spans a block store head holds before it flushes, from the memory limit:
 * up to two heads are buffered (one filling, one being written) at about
 * 250 bytes a span with their dictionaries, kept under a quarter of the
 * limit. 1,048,576 at the default 2 GiB. Also the largest block compaction
 * builds: it holds its output as a head, and with 1M-span outputs under a
 * 512 MiB limit the process reached 867 MiB (with this, 486 MiB).
 */
export function headSpansFor(memoryLimitBytes: number): number {
  const spans = memoryLimitBytes / 4 / 2 / 256;
  return Math.max(16_384, Math.min(1 << 20, 2 ** Math.floor(Math.log2(spans))));
}

export function openEmbeddedStore(config: ServerConfig, log: (msg: string) => void, onFailure: (reason: string) => void = () => {}): Promise<WorkerStore> {
  const blocks = config.embeddedEngine === 'blocks';
  return WorkerStore.open({
    module: blocks ? BLOCKS_STORE_ENTRY : EMBEDDED_STORE_ENTRY,
    options: { dir: join(config.dataDir, blocks ? 'blocks' : 'store'), ...(blocks ? { flushOnClose: true, flushSpans: headSpansFor(config.memoryLimitBytes), compactSpans: headSpansFor(config.memoryLimitBytes) } : {}) },
    maxInflightBytes: Math.max(1 << 20, Math.floor(config.maxInflightBytes / 2)),
    log,
    onFailure,
  });
}

function listen(app: Hono<Env>, host: string, port: number): Promise<{ port: number; close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info: AddressInfo) =>
      resolve({
        port: info.port,
        close: () =>
          new Promise<void>((res) => {
            server.close(() => res());
            (server as import('node:http').Server).closeAllConnections?.();
          }),
      }),
    );
    server.once('error', reject);
  });
}

const UNAUTHORIZED = 'missing or invalid API key (send Authorization: Bearer <key> or X-API-Key)';

/** The API key a request carries: X-API-Key, X-Raceway-Key (Raceway SDKs) or a Bearer token. */
function apiKeyOf(headers: IncomingHttpHeaders): string | undefined {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const auth = one(headers.authorization);
  return one(headers['x-api-key']) ?? one(headers['x-raceway-key']) ?? (auth?.startsWith('Bearer ') ? auth.slice(7) : undefined);
}

function listenNode(listener: (req: IncomingMessage, res: ServerResponse) => void, host: string, port: number): Promise<{ port: number; close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = createServer(listener);
    server.once('error', reject);
    server.listen(port, host, () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((res) => {
            server.close(() => res());
            server.closeAllConnections();
          }),
      }),
    );
  });
}

function apiKeyGuard(keys: string[], metrics: Metrics) {
  const allowed = new Set(keys);
  const open = new Set(['/health', '/ready']);
  return async (c: import('hono').Context<Env>, next: () => Promise<void>) => {
    if (open.has(c.req.path)) return next();
    const key = apiKeyOf(c.env.incoming.headers);
    if (!key || !allowed.has(key)) {
      metrics.requestsRefused.inc({ receiver: 'http', reason: 'unauthorized' });
      return c.json({ error: UNAUTHORIZED }, 401);
    }
    return next();
  };
}

/**
 * One server per data directory: a second one would interleave WAL writes.
 * A pid file whose process is gone (after kill -9) is taken over.
 */
function lockDataDir(dir: string): () => void {
  const file = join(dir, 'ariadne.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (pid && pid !== process.pid && processAlive(pid)) {
        throw new Error(`data directory ${dir} is in use by process ${pid} (remove ${file} if that is wrong)`);
      }
      rmSync(file, { force: true });
    }
  }
  throw new Error(`cannot lock data directory ${dir}`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
