// EmbeddedStore: the TraceStore on DuckDB, in one directory on one machine.
//
//   write() ──▶ head (memory; reads see it at once)
//                 │ every `flushSpans` spans or `flushIntervalMs`, or flush()
//                 ▼
//               batch sorted by trace id ──▶ one transaction: new resources,
//               scopes, operations + the spans (DataChunk appends, or a CSV
//               bulk load) ──▶ DuckDB (own WAL; flush() checkpoints)
//
// Reads take the head and the batch in flight, then query DuckDB, and merge
// the two, dropping repeated (trace id, span id) pairs. Schema and figures:
// docs/design/storage.md.

import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBPreparedStatement, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { BIGINT, DuckDBInstance, LIST, UBIGINT, UHUGEINT, UINTEGER, UTINYINT, VARCHAR, listValue } from '@duckdb/node-api';
import type { InstrumentationScope, OperationInfo, Resource, Span, SpanKind, TraceQuery, TraceSummary } from '@ariadne/model';
import { isValidSpanId, isValidTraceId } from '@ariadne/model';
import type { StoreStats, TraceStore } from '../types.js';
import type { NormalizedQuery, SummarySpan } from '../query.js';
import { compareSummaries, normalizeQuery, spanMatches, summarizeTrace, summarySpanOf } from '../query.js';
import { attributePattern, escapeText, unescapeText } from './codec.js';
import { Head } from './head.js';
import { AttributeKeys, KeyKind } from './keys.js';
import type { Loader, RowSource } from './loaders.js';
import { YIELD_EVERY, appendRows, loadAppender, loadCsv, yieldToEventLoop } from './loaders.js';
import type { ResourceRow, ScopeRow } from './rows.js';
import {
  Registry,
  SPAN_READ_COLUMNS,
  hex16,
  hex32,
  resourceFromRow,
  resourceKey,
  resourceRowKey,
  scopeFromRow,
  scopeKey,
  scopeRowKey,
  spanFromRow,
  spanRow,
  traceIdValue,
} from './rows.js';
import { prepareSchema } from './schema.js';

export interface EmbeddedStoreOptions {
  /** Directory holding the database (created if missing). */
  dir: string;
  /** Load the head into DuckDB once it holds this many spans. Default 50,000. */
  flushSpans?: number;
  /** ...or when it is this old. Default 1000 ms. */
  flushIntervalMs?: number;
  /** write() waits for a flush beyond this many buffered spans, and fails if that flush fails. Default 500,000. */
  maxBufferedSpans?: number;
  /** How batches reach DuckDB (see loaders.ts). Default 'appender'. */
  loader?: Loader;
  /** DuckDB worker threads. Default: the machine's parallelism. */
  threads?: number;
  /** DuckDB memory limit, e.g. '2GB'. Default: DuckDB's (80% of RAM). */
  memoryLimit?: string;
  /** Where background problems (a failed flush) are reported. Default: console.warn. */
  log?: (msg: string) => void;
}

const DB_FILE = 'ariadne.duckdb';
const U32_MAX = 2 ** 32 - 1;
const U64_MAX = 2n ** 64n - 1n;
/** Up to this many traces, summary rows are fetched by point selects (see summaryRows). */
const POINT_SELECTS_MAX = 64;
const DECODED_CACHE_MAX = 10_000;
const IDLE_CONNECTIONS = 4;
const GC_INTERVAL_MS = 10 * 60_000;
// Unordered: spans are sorted in JS after merging with memory (ORDER BY here cost ~1 ms).
const TRACE_SQL = `SELECT ${SPAN_READ_COLUMNS} FROM spans WHERE trace_id = $1`;

export class EmbeddedStore implements TraceStore {
  private head = new Head();
  /** The batch being loaded; still served from memory until its transaction commits. */
  private flushing: Head | undefined;
  /** Serializes everything that writes to DuckDB (flushes, deletes, checkpoints). */
  private tail: Promise<unknown> = Promise.resolve();
  /** A flush queued but not started: later callers share it, it takes the head when it starts. */
  private scheduled: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private closing: Promise<void> | undefined;
  private readonly reads = new Set<Promise<unknown>>();
  private readonly idle: DuckDBConnection[] = [];
  private readonly statements = new WeakMap<DuckDBConnection, Map<string, DuckDBPreparedStatement>>();
  private loadSeq = 0;
  private lastGc = 0;
  /** service -> `name\0kind` -> operation; covers the head too. */
  private ops = new Map<string, Map<string, OperationInfo>>();
  private pendingOpRows: [string, string, number][] = [];
  private readonly keys = new AttributeKeys();
  private readonly counters = { flushes: 0, flushFailures: 0, loadedSpans: 0, loadMillis: 0, csvFallbacks: 0 };
  private readonly resourceCache = new Map<number, Resource>();
  private readonly scopeCache = new Map<number, InstrumentationScope>();
  private readonly opts: Required<Omit<EmbeddedStoreOptions, 'memoryLimit' | 'threads'>>;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly resources: Registry<Resource, ResourceRow>,
    private readonly scopes: Registry<InstrumentationScope, ScopeRow>,
    opts: EmbeddedStoreOptions,
  ) {
    this.opts = {
      dir: opts.dir,
      flushSpans: opts.flushSpans ?? 50_000,
      flushIntervalMs: opts.flushIntervalMs ?? 1000,
      maxBufferedSpans: opts.maxBufferedSpans ?? 500_000,
      loader: opts.loader ?? 'appender',
      log: opts.log ?? ((msg) => console.warn(msg)),
    };
    this.timer = setInterval(() => {
      if (this.head.count > 0) this.flushInBackground();
    }, this.opts.flushIntervalMs);
    this.timer.unref();
  }

  static async open(opts: EmbeddedStoreOptions): Promise<EmbeddedStore> {
    await mkdir(opts.dir, { recursive: true });
    // Load files a crash left behind; their spans are still in the WAL in front of the store.
    for (const f of await readdir(opts.dir)) if (/^load-.*\.csv$/.test(f)) await unlink(join(opts.dir, f)).catch(() => {});
    const config: Record<string, string> = { threads: String(opts.threads ?? availableParallelism()) };
    if (opts.memoryLimit) config.memory_limit = opts.memoryLimit;
    const instance = await DuckDBInstance.create(join(opts.dir, DB_FILE), config);
    const writer = await instance.connect();
    try {
      await prepareSchema(writer);
      const nextId = async (table: string) => Number((await writer.runAndReadAll(`SELECT coalesce(max(id) + 1, 1) FROM ${table}`)).getRows()[0]![0]);
      const resources = new Registry<Resource, ResourceRow>(await nextId('resources'), resourceRowKey, resourceKey);
      const scopes = new Registry<InstrumentationScope, ScopeRow>(await nextId('scopes'), scopeRowKey, scopeKey);
      const store = new EmbeddedStore(instance, writer, resources, scopes, opts);
      await store.loadRegistries();
      await store.loadOperations();
      await store.loadKeys();
      return store;
    } catch (e) {
      writer.closeSync();
      instance.closeSync();
      throw e;
    }
  }

  // --- writes -------------------------------------------------------------------------

  async write(spans: readonly Span[]): Promise<void> {
    this.assertOpen();
    if (spans.length === 0) return;
    for (const s of spans) validateSpan(s);
    if (this.buffered() + spans.length > this.opts.maxBufferedSpans) {
      await this.flushHead().catch(() => {});
      if (this.buffered() + spans.length > this.opts.maxBufferedSpans) {
        throw new Error(`embedded store: ${this.buffered()} spans wait for a flush that is failing; refusing more`);
      }
    }
    this.head.add(spans);
    for (const s of spans) this.noteOperation(s.service, s.name, s.kind);
    if (this.head.count >= this.opts.flushSpans) this.flushInBackground();
  }

  async flush(): Promise<void> {
    this.assertOpen();
    await this.flushAndCheckpoint();
  }

  async deleteBefore(cutoffUnixNano: bigint): Promise<number> {
    this.assertOpen();
    if (cutoffUnixNano <= 0n) return 0;
    return this.serial(async () => {
      const cutoff = cutoffUnixNano > U64_MAX ? U64_MAX : cutoffUnixNano;
      const fromMemory = this.head.removeBefore(cutoff);
      const res = await this.writer.run('DELETE FROM spans WHERE start_ns < $1', [cutoff], [UBIGINT]);
      const fromDb = Number(res.rowsChanged);
      // The clean-up scans every span (~0.5 s at 10M), so it runs at most every
      // GC_INTERVAL_MS; until then services() may list a name whose spans are gone.
      if (fromDb > 0 && Date.now() - this.lastGc >= GC_INTERVAL_MS) {
        await this.collectGarbage();
        this.lastGc = Date.now();
      }
      return fromMemory + fromDb;
    });
  }

  async close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      let failure: unknown;
      await this.flushAndCheckpoint().catch((e) => (failure = e));
      await Promise.allSettled([...this.reads]);
      for (const c of this.idle.splice(0)) c.closeSync();
      this.writer.closeSync();
      this.instance.closeSync();
      if (failure) throw failure;
    })();
    return this.closing;
  }

  /** Counters for metrics and benchmarks (not part of TraceStore). */
  diagnostics(): { bufferedSpans: number; flushes: number; flushFailures: number; loadedSpans: number; loadMillis: number; csvFallbacks: number } {
    return { bufferedSpans: this.buffered(), ...this.counters };
  }

  /** The database file's used and free blocks (free ones are reused before the file grows). */
  async blockCounts(): Promise<{ used: number; free: number }> {
    return this.read(async (c) => {
      const [used, free] = (await c.runAndReadAll('SELECT used_blocks, free_blocks FROM pragma_database_size()')).getRows()[0]!;
      return { used: Number(used), free: Number(free) };
    });
  }

  private buffered(): number {
    return this.head.count + (this.flushing?.count ?? 0);
  }

  private assertOpen(): void {
    if (this.closing) throw new Error('embedded store: closed');
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => {});
    return run;
  }

  private async flushAndCheckpoint(): Promise<void> {
    await this.flushHead();
    await this.serial(async () => {
      // Committed batches are already durable in DuckDB's own WAL; the
      // checkpoint folds them into the main file (compressed).
      try {
        await this.writer.run('CHECKPOINT');
      } catch (e) {
        this.opts.log(`embedded store: checkpoint skipped: ${(e as Error).message}`);
      }
    });
  }

  private flushInBackground(): void {
    this.flushHead().catch((e) => this.opts.log(`embedded store: flush failed, ${this.buffered()} spans kept in memory for the next try: ${(e as Error).message}`));
  }

  /** Loads everything written so far into DuckDB; concurrent callers share a queued flush. */
  private flushHead(): Promise<void> {
    this.scheduled ??= this.serial(async () => {
      this.scheduled = undefined;
      if (this.head.count === 0) return;
      const batch = this.head;
      this.head = new Head();
      this.flushing = batch;
      const t0 = performance.now();
      try {
        const n = await this.load(batch);
        this.counters.flushes++;
        this.counters.loadedSpans += n;
        this.counters.loadMillis += performance.now() - t0;
      } catch (e) {
        this.counters.flushFailures++;
        this.head = Head.merge(batch, this.head);
        throw e;
      } finally {
        this.flushing = undefined;
      }
    });
    return this.scheduled;
  }

  /** Loads one batch in one transaction; returns the rows written. */
  private async load(batch: Head): Promise<number> {
    const spans = await batch.sortedForLoad(YIELD_EVERY, yieldToEventLoop);
    // Resource and scope ids first: their new rows go in before the spans.
    const ids = new Uint32Array(spans.length * 2);
    for (let i = 0; i < spans.length; i++) {
      ids[2 * i] = this.resources.idOf(spans[i]!.resource);
      ids[2 * i + 1] = this.scopes.idOf(spans[i]!.scope);
    }
    for (const s of spans) for (const kv of s.attributes) this.keys.note(KeyKind.SPAN, kv.key);
    for (const r of this.resources.pendingObjects()) for (const kv of r.attributes) this.keys.note(KeyKind.RESOURCE, kv.key);
    const keyRows = this.keys.take();
    const rows: RowSource = { count: spans.length, row: (i) => spanRow(spans[i]!, ids[2 * i]!, ids[2 * i + 1]!) };
    const opRows = this.pendingOpRows;
    this.pendingOpRows = [];
    const c = this.writer;
    const inTransaction = async (loadSpans: () => Promise<void>) => {
      await c.run('BEGIN TRANSACTION');
      try {
        await appendRows(c, 'resources', ['u32', 'text', 'u32', 'text'], this.resources.pendingRows().map((r) => [r.id, r.attrs, r.dropped, r.schemaUrl]));
        await appendRows(
          c,
          'scopes',
          ['u32', 'text', 'text', 'text', 'u32', 'text'],
          this.scopes.pendingRows().map((r) => [r.id, r.name, r.version, r.attrs, r.dropped, r.schemaUrl]),
        );
        await appendRows(c, 'operations', ['text', 'text', 'u8'], opRows);
        await appendRows(c, 'attr_keys', ['text', 'u8'], keyRows);
        await loadSpans();
        await c.run('COMMIT');
      } catch (e) {
        await c.run('ROLLBACK').catch(() => {});
        throw e;
      }
    };
    try {
      if (this.opts.loader === 'csv') {
        try {
          await inTransaction(() => loadCsv(c, rows, join(this.opts.dir, `load-${process.pid}-${this.loadSeq++}.csv`)));
        } catch (e) {
          this.counters.csvFallbacks++;
          this.opts.log(`embedded store: CSV bulk load failed, using the appender for this batch: ${(e as Error).message}`);
          await inTransaction(() => loadAppender(c, rows));
        }
      } else {
        await inTransaction(() => loadAppender(c, rows));
      }
      this.resources.commit();
      this.scopes.commit();
      return rows.count;
    } catch (e) {
      this.resources.rollback();
      this.scopes.rollback();
      this.pendingOpRows.unshift(...opRows);
      this.keys.rollback(keyRows);
      throw e;
    }
  }

  /** After a retention delete: drop operations, resources and scopes no span uses any more. */
  private async collectGarbage(): Promise<void> {
    const c = this.writer;
    await c.run('BEGIN TRANSACTION');
    try {
      await c.run('DELETE FROM operations');
      await c.run('INSERT INTO operations SELECT DISTINCT service, name, kind FROM spans');
      await c.run('DELETE FROM resources WHERE id NOT IN (SELECT DISTINCT resource_id FROM spans)');
      await c.run('DELETE FROM scopes WHERE id NOT IN (SELECT DISTINCT scope_id FROM spans)');
      await c.run('COMMIT');
    } catch (e) {
      await c.run('ROLLBACK').catch(() => {});
      throw e;
    }
    this.resources.forget();
    this.scopes.forget();
    this.resourceCache.clear();
    this.scopeCache.clear();
    await this.loadRegistries();
    await this.loadOperations();
  }

  /** Known resources and scopes, newest first, so a restart does not store them again. */
  private async loadRegistries(): Promise<void> {
    const resources = (await this.writer.runAndReadAll('SELECT id, attrs, dropped, schema_url FROM resources ORDER BY id DESC')).getRows();
    this.resources.preload(resources.map(([id, attrs, dropped, schemaUrl]) => ({ id, attrs, dropped, schemaUrl }) as ResourceRow));
    const scopes = (await this.writer.runAndReadAll('SELECT id, name, version, attrs, dropped, schema_url FROM scopes ORDER BY id DESC')).getRows();
    this.scopes.preload(scopes.map(([id, name, version, attrs, dropped, schemaUrl]) => ({ id, name, version, attrs, dropped, schemaUrl }) as ScopeRow));
  }

  private async loadKeys(): Promise<void> {
    const rows = (await this.writer.runAndReadAll('SELECT kind, key FROM attr_keys')).getRows();
    this.keys.load(rows.map(([kind, key]) => [kind as number, key as string]));
  }

  private async loadOperations(): Promise<void> {
    const rows = (await this.writer.runAndReadAll('SELECT service, name, kind FROM operations')).getRows();
    this.ops = new Map();
    for (const [service, name, kind] of rows) this.addOperation(unescapeText(service as string), unescapeText(name as string), kind as SpanKind);
    this.pendingOpRows = [];
    for (const s of this.head.spans()) this.noteOperation(s.service, s.name, s.kind);
  }

  private addOperation(service: string, name: string, kind: SpanKind): boolean {
    let m = this.ops.get(service);
    if (!m) this.ops.set(service, (m = new Map()));
    const key = name + '\0' + kind;
    if (m.has(key)) return false;
    m.set(key, { name, spanKind: kind });
    return true;
  }

  private noteOperation(service: string, name: string, kind: SpanKind): void {
    if (this.addOperation(service, name, kind)) this.pendingOpRows.push([escapeText(service), escapeText(name), kind]);
  }

  // --- reads ------------------------------------------------------------------------------

  private memory(): Head[] {
    return this.flushing ? [this.flushing, this.head] : [this.head];
  }

  /**
   * Runs a read on a connection of its own (reads run in parallel on DuckDB's
   * threads). Connections are reused, with their prepared statements: a
   * fresh one and a fresh plan cost ~2 ms of a ~4 ms trace lookup.
   */
  private read<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    this.assertOpen();
    const p = (async () => {
      const c = this.idle.pop() ?? (await this.instance.connect());
      try {
        return await fn(c);
      } finally {
        if (this.idle.length < IDLE_CONNECTIONS && !this.closing) this.idle.push(c);
        else c.closeSync();
      }
    })();
    this.reads.add(p);
    p.finally(() => this.reads.delete(p)).catch(() => {});
    return p;
  }

  async getTrace(traceId: string): Promise<Span[]> {
    const id = traceId.toLowerCase();
    if (!isValidTraceId(id)) return [];
    const memory = this.memory().flatMap((h) => h.byTrace.get(id) ?? []);
    const stored = await this.read(async (c) => {
      const rows = (await this.run(c, TRACE_SQL, [traceIdValue(id)], [UHUGEINT])).getRows();
      const resources = await this.lookupResources(c, rows.map((r) => r[10] as number));
      const scopes = await this.lookupScopes(c, rows.map((r) => r[11] as number));
      return rows.map((r) => spanFromRow(id, r, resources.get(r[10] as number)!, scopes.get(r[11] as number)!));
    });
    const seen = new Set<string>();
    const out: Span[] = [];
    for (const s of [...stored, ...memory]) {
      if (seen.has(s.spanId)) continue;
      seen.add(s.spanId);
      out.push(s);
    }
    return out.sort((a, b) =>
      a.startTimeUnixNano !== b.startTimeUnixNano ? (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1) : a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0,
    );
  }

  /** Runs a fixed statement, prepared once per connection. */
  private async run(c: DuckDBConnection, sql: string, values: DuckDBValue[], types: DuckDBType[]) {
    let cache = this.statements.get(c);
    if (!cache) this.statements.set(c, (cache = new Map()));
    let stmt = cache.get(sql);
    if (!stmt) cache.set(sql, (stmt = await c.prepare(sql)));
    stmt.bind(values, types);
    return stmt.runAndReadAll();
  }

  private async lookupResources(c: DuckDBConnection, ids: number[]): Promise<Map<number, Resource>> {
    return this.lookup(c, ids, this.resourceCache, 'SELECT id, attrs, dropped, schema_url FROM resources', (r) => resourceFromRow(r[1] as string, r[2] as number, r[3] as string));
  }

  private async lookupScopes(c: DuckDBConnection, ids: number[]): Promise<Map<number, InstrumentationScope>> {
    return this.lookup(c, ids, this.scopeCache, 'SELECT id, name, version, attrs, dropped, schema_url FROM scopes', (r) =>
      scopeFromRow(r[1] as string, r[2] as string, r[3] as string, r[4] as number, r[5] as string),
    );
  }

  private async lookup<T>(c: DuckDBConnection, ids: number[], cache: Map<number, T>, select: string, decode: (r: DuckDBValue[]) => T): Promise<Map<number, T>> {
    const out = new Map<number, T>();
    const missing: number[] = [];
    for (const id of new Set(ids)) {
      const hit = cache.get(id);
      if (hit) out.set(id, hit);
      else missing.push(id);
    }
    if (missing.length) {
      const rows = (await c.runAndReadAll(`${select} WHERE id IN (SELECT unnest($1))`, [listValue(missing)], [LIST(UINTEGER)])).getRows();
      if (cache.size + rows.length > DECODED_CACHE_MAX) cache.clear();
      for (const r of rows) {
        const v = decode(r);
        cache.set(r[0] as number, v);
        out.set(r[0] as number, v);
      }
      for (const id of missing) if (!out.has(id)) throw new Error(`embedded store: span refers to missing row ${id} (${select.split(' FROM ')[1]})`);
    }
    return out;
  }

  async search(query: TraceQuery): Promise<TraceSummary[]> {
    const q = normalizeQuery(query);
    if (q.empty) return [];
    // Memory first: a batch committing while the database is read is then seen twice at worst, never missed.
    const memory = this.memory();
    const newest = new Map<string, bigint>();
    for (const h of memory) {
      for (const s of h.spans()) {
        if (!spanMatches(s, q)) continue;
        const k = newest.get(s.traceId);
        if (k === undefined || s.startTimeUnixNano > k) newest.set(s.traceId, s.startTimeUnixNano);
      }
    }
    return this.read(async (c) => {
      const found = searchSql(q, this.keys);
      for (const [tid, k] of found ? (await c.runAndReadAll(found.sql, found.values, found.types)).getRows() : []) {
        const id = hex32(tid as bigint);
        const prev = newest.get(id);
        if (prev === undefined || (k as bigint) > prev) newest.set(id, k as bigint);
      }
      const chosen = [...newest]
        .sort((a, b) => (a[1] !== b[1] ? (a[1] > b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
        .slice(0, q.limit)
        .map(([id]) => id);
      const spans = new Map<string, SummarySpan[]>(chosen.map((id) => [id, []]));
      await this.summaryRows(c, chosen, spans);
      for (const h of memory) for (const id of chosen) for (const s of h.byTrace.get(id) ?? []) spans.get(id)!.push(summarySpanOf(s));
      return chosen
        .map((id) => summarizeTrace(id, spans.get(id)!))
        .filter((s): s is TraceSummary => s !== undefined)
        .sort(compareSummaries);
    });
  }

  private async summaryRows(c: DuckDBConnection, ids: string[], into: Map<string, SummarySpan[]>): Promise<void> {
    if (ids.length === 0) return;
    const cols = 'trace_id, span_id, parent_id, service, name, start_ns, duration_ns, end_ns, status_code';
    const values = ids.map(traceIdValue);
    // One point select per trace, so each gets its own zonemap-pruned scan (an
    // IN list is only an "optional" filter and scans everything: at 10M spans,
    // 20 ids take 23 ms this way, 150 ms as IN). Past a few dozen ids one full
    // scan is cheaper than that many pruned ones.
    const rows =
      ids.length <= POINT_SELECTS_MAX
        ? await c.runAndReadAll(ids.map((_, i) => `SELECT ${cols} FROM spans WHERE trace_id = $${i + 1}`).join(' UNION ALL '), values, values.map(() => UHUGEINT))
        : await c.runAndReadAll(`SELECT ${cols} FROM spans WHERE trace_id IN (SELECT unnest($1))`, [listValue(values)], [LIST(UHUGEINT)]);
    for (const r of rows.getRows()) {
      const start = r[5] as bigint;
      const parent = r[2] as bigint;
      into.get(hex32(r[0] as bigint))!.push({
        spanId: hex16(r[1] as bigint),
        parentSpanId: parent === 0n ? '' : hex16(parent),
        service: unescapeText(r[3] as string),
        name: unescapeText(r[4] as string),
        startTimeUnixNano: start,
        endTimeUnixNano: (r[7] as bigint | null) ?? start + (r[6] as bigint),
        statusCode: r[8] as number,
      });
    }
  }

  async services(): Promise<string[]> {
    this.assertOpen();
    return [...this.ops.keys()].sort();
  }

  async operations(service: string): Promise<OperationInfo[]> {
    this.assertOpen();
    return [...(this.ops.get(service)?.values() ?? [])].sort((a, b) => (a.name !== b.name ? (a.name < b.name ? -1 : 1) : a.spanKind - b.spanKind));
  }

  async stats(): Promise<StoreStats> {
    // Between flushes, so a batch is never counted both in memory and in the database.
    const spans = await this.serial(() =>
      this.read(async (c) => this.buffered() + Number((await c.runAndReadAll('SELECT count(*) FROM spans')).getRows()[0]![0])),
    );
    let bytesOnDisk = 0;
    for (const f of await readdir(this.opts.dir)) {
      if (f.startsWith(DB_FILE)) bytesOnDisk += (await stat(join(this.opts.dir, f)).catch(() => ({ size: 0 }))).size;
    }
    return { spans, bytesOnDisk };
  }
}

/**
 * Traces with a span matching every condition: (trace id, start of its newest
 * matching span), newest first; undefined when no stored span can match. All
 * values are bound parameters; the SQL text is built from fixed fragments only.
 */
function searchSql(q: NormalizedQuery, keys: AttributeKeys): { sql: string; values: DuckDBValue[]; types: DuckDBType[] } | undefined {
  const values: DuckDBValue[] = [];
  const types: DuckDBType[] = [];
  const p = (v: DuckDBValue, t: DuckDBType) => {
    values.push(v);
    types.push(t);
    return `$${values.length}`;
  };
  const where: string[] = [];
  if (q.service !== undefined) where.push(`service = ${p(escapeText(q.service), VARCHAR)}`);
  if (q.operation !== undefined) where.push(`name = ${p(escapeText(q.operation), VARCHAR)}`);
  if (q.status !== undefined) where.push(`status_code = ${p(q.status, UTINYINT)}`);
  if (q.startUnixNano !== undefined) where.push(`start_ns >= ${p(q.startUnixNano, UBIGINT)}`);
  if (q.endUnixNano !== undefined) where.push(`start_ns <= ${p(q.endUnixNano, UBIGINT)}`);
  if (q.minDurationNanos !== undefined) where.push(`duration_ns >= ${p(q.minDurationNanos, UBIGINT)}`);
  if (q.maxDurationNanos !== undefined) where.push(`duration_ns <= ${p(q.maxDurationNanos, UBIGINT)}`);
  for (const { key, value } of q.attributes) {
    const onSpans = keys.mayHold(KeyKind.SPAN, key);
    const onResources = keys.mayHold(KeyKind.RESOURCE, key);
    if (!onSpans && !onResources) return undefined;
    const pattern = p(attributePattern(key, value), VARCHAR);
    const either: string[] = [];
    if (onSpans) either.push(`contains(attrs, ${pattern})`);
    if (onResources) either.push(`resource_id IN (SELECT id FROM resources WHERE contains(attrs, ${pattern}))`);
    where.push(`(${either.join(' OR ')})`);
  }
  const sql =
    `SELECT trace_id, max(start_ns) AS newest FROM spans ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ` +
    `GROUP BY trace_id ORDER BY newest DESC, trace_id LIMIT ${p(BigInt(q.limit), BIGINT)}`;
  return { sql, values, types };
}

function u32(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= U32_MAX;
}

function u64(v: bigint): boolean {
  return typeof v === 'bigint' && v >= 0n && v <= U64_MAX;
}

/** Receivers validate at the boundary; this only keeps a bad span from wedging a flush batch. */
function validateSpan(s: Span): void {
  const problem =
    !isValidTraceId(s.traceId) ? 'trace id'
    : !isValidSpanId(s.spanId) ? 'span id'
    : s.parentSpanId !== '' && !isValidSpanId(s.parentSpanId) ? 'parent span id'
    : !u64(s.startTimeUnixNano) || !u64(s.endTimeUnixNano) ? 'timestamps'
    : !u32(s.flags) ? 'flags'
    : !(Number.isInteger(s.kind) && s.kind >= 0 && s.kind <= 255) ? 'kind'
    : !(Number.isInteger(s.status.code) && s.status.code >= 0 && s.status.code <= 255) ? 'status code'
    : !u32(s.droppedAttributesCount) || !u32(s.droppedEventsCount) || !u32(s.droppedLinksCount) ? 'dropped counts'
    : !u32(s.resource.droppedAttributesCount) || !u32(s.scope.droppedAttributesCount) ? 'resource or scope dropped count'
    : s.events.some((e) => typeof e.timeUnixNano !== 'bigint') ? 'event time'
    : undefined;
  if (problem) throw new TypeError(`embedded store: span ${JSON.stringify(s.spanId)} of trace ${JSON.stringify(s.traceId)} has invalid ${problem}; batch refused`);
}
