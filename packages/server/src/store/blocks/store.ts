// BlockStore: the TraceStore on Ariadne's own columnar block files.
//
//   write() ──▶ head (columns in memory; every read sees it at once)
//                 │ at `flushSpans` spans, after `flushIntervalMs`, or flush()
//                 ▼
//               frozen head ──encode in slices, compress on the threadpool──▶
//               <seq>-0.blk (temp, fsync, rename, fsync dir)
//                 │ small blocks, in the background (worker thread)
//                 ▼
//               compaction ──▶ <seq>-<level+1>.blk (sources deleted after)
//
// Reads take the head, the heads being flushed and the blocks as they are
// when the read starts, and merge them, each (trace id, span id) once.
// Format and figures: format.ts and docs/design/storage.md.

import { mkdir, readFile, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { OperationInfo, RedMetrics, Span, SpanKind, TraceQuery, TraceSummary } from '@ariadne/model';
import { isValidTraceId } from '@ariadne/model';
import type { RedQuery, StoreStats, TraceStore } from '../types.js';
import type { SummarySpan } from '../query.js';
import { compareSummaries, normalizeQuery, summarizeTrace } from '../query.js';
import { Block, traceIdWords } from './block.js';
import { ByteLru } from './cache.js';
import type { CompressOptions } from './codec.js';
import type { CompactJob, CompactResult } from './compact.js';
import { compactBlocks } from './compact.js';
import { encodeHead } from './encode.js';
import { Codec, Col } from './format.js';
import { BLOCK_RE, blockName, markName, parseBlockName, parseMark, syncDir, writeAtomic, writeMark } from './files.js';
import { Head } from './head.js';
import { stageOtlpProto } from './otlp-head.js';
import { validateTraceRequestProto } from '../../receive/otlp/validate-proto.js';
import type { FlushJob } from './flush-worker.js';
import { JobWorker } from './workers.js';
import { redMetricsOf } from './red.js';
import { blockSummarySpans, searchBlock } from './search.js';
import { TopTraces } from './top.js';

export interface BlockStoreOptions {
  /** Directory holding the block files (created if missing). */
  dir: string;
  /**
   * Flush the head once it holds this many spans. Default 1,048,576, the
   * compaction target: under load the flushes write full-size blocks, so a
   * span is encoded once instead of once more per compaction level (which
   * cost as much again as the whole ingest path at 131,072).
   */
  flushSpans?: number;
  /** ...or once its first span is this old. Default 10,000 ms. */
  flushIntervalMs?: number;
  /** write() waits for a flush once this many spans are unflushed, and fails if that flush fails. Default 2 × flushSpans. */
  maxBufferedSpans?: number;
  /** Rows a page aims at: smaller pages make trace-by-id decode less, larger ones compress better. Default 4,096. */
  pageRows?: number;
  /** Chunk compression. Default brotli quality 2 (measured: q3's size at about 60% of its CPU, deflate 6's at a third). */
  compression?: { codec: 'deflate' | 'brotli' | 'none'; level?: number };
  /** Bytes of inflated chunks and decoded columns kept in memory. Default 384 MiB (the scan columns of 10M spans). */
  cacheBytes?: number;
  /** Where flushes encode and compress: a worker thread (default; the event loop only copies the head's columns to it) or inline on the event loop, in slices. */
  flushIn?: 'worker' | 'inline';
  /** Where compaction runs: a worker thread (default), inline on the event loop in slices, or not at all. */
  compaction?: 'worker' | 'inline' | 'off';
  /** Compaction merges small blocks into blocks of up to this many spans. Default 1,048,576. */
  compactSpans?: number;
  /** ...once this many small ones are waiting. Default 4. */
  compactMinBlocks?: number;
  /** close() flushes the head first (the TraceStore contract). Default true; false leaves unflushed spans to the WAL. */
  flushOnClose?: boolean;
  /** Where background problems (a failed flush or compaction) are reported. Default console.warn. */
  log?: (msg: string) => void;
}

type Resolved = Required<Omit<BlockStoreOptions, 'compression'>> & { compression: CompressOptions };

const DEFAULT_LEVEL: Record<'deflate' | 'brotli' | 'none', number> = { deflate: 6, brotli: 2, none: 0 };
const CODEC: Record<'deflate' | 'brotli' | 'none', Codec> = { deflate: Codec.DEFLATE, brotli: Codec.BROTLI, none: Codec.NONE };
const U32_MAX = 2 ** 32 - 1;
const U64_MAX = 2n ** 64n - 1n;
/** the longest the encoder holds the event loop before yielding */
const SLICE_MS = 4;

function pauser(): () => Promise<void> | undefined {
  let last = performance.now();
  return () => {
    if (performance.now() - last < SLICE_MS) return undefined;
    return new Promise((resolve) =>
      setImmediate(() => {
        last = performance.now();
        resolve();
      }),
    );
  };
}

export interface BlockStoreDiagnostics {
  bufferedSpans: number;
  blocks: number;
  flushes: number;
  flushFailures: number;
  flushedSpans: number;
  flushMillis: number;
  compactions: number;
  compactionFailures: number;
  cacheBytes: number;
}

export class BlockStore implements TraceStore {
  private head: Head;
  /** heads being written (or waiting to be retried), oldest first; still served from memory */
  private flushing: Head[] = [];
  private blocks: Block[] = [];
  private readonly cache: ByteLru;
  private seq: number;
  private keySeq = 0;
  /** serializes flushes, block installs and retention */
  private tail: Promise<unknown> = Promise.resolve();
  private scheduled: Promise<void> | undefined;
  private compacting: Promise<void> | undefined;
  private compactAgain = false;
  private readonly flushWorker = new JobWorker<FlushJob, string[]>(new URL('./flush-worker.js', import.meta.url));
  private readonly compactWorker = new JobWorker<CompactJob, CompactResult>(new URL('./compact-worker.js', import.meta.url));
  private readonly timer: NodeJS.Timeout;
  private closing: Promise<void> | undefined;
  /** the highest LSN tagged on a write whose head, and every older one, is in blocks */
  private durable = 0n;
  private readonly counters = { flushes: 0, flushFailures: 0, flushedSpans: 0, flushMillis: 0, compactions: 0, compactionFailures: 0 };
  private readonly opts: Resolved;

  private constructor(opts: Resolved, seq: number) {
    this.opts = opts;
    this.head = this.newHead();
    this.cache = new ByteLru(opts.cacheBytes);
    this.seq = seq;
    this.timer = setInterval(() => {
      if (this.head.live > 0 && performance.now() - this.head.firstWriteAt >= this.opts.flushIntervalMs) this.flushInBackground();
    }, Math.max(10, Math.min(1000, this.opts.flushIntervalMs / 4)));
    this.timer.unref();
  }

  static async open(options: BlockStoreOptions): Promise<BlockStore> {
    const flushSpans = options.flushSpans ?? 1 << 20;
    const codec = options.compression?.codec ?? 'brotli';
    const opts: Resolved = {
      dir: options.dir,
      flushSpans,
      flushIntervalMs: options.flushIntervalMs ?? 10_000,
      maxBufferedSpans: options.maxBufferedSpans ?? flushSpans * 2,
      pageRows: options.pageRows ?? 4096,
      compression: { codec: CODEC[codec], level: options.compression?.level ?? DEFAULT_LEVEL[codec] },
      cacheBytes: options.cacheBytes ?? 384 << 20,
      flushIn: options.flushIn ?? 'worker',
      compaction: options.compaction ?? 'worker',
      compactSpans: options.compactSpans ?? 1 << 20,
      compactMinBlocks: options.compactMinBlocks ?? 4,
      flushOnClose: options.flushOnClose ?? true,
      log: options.log ?? ((msg) => console.warn(msg)),
    };
    await mkdir(opts.dir, { recursive: true });
    const names = await readdir(opts.dir);
    // A temp file is a write a crash interrupted: its spans are still in the WAL.
    for (const f of names) if (f.endsWith('.tmp')) await unlink(join(opts.dir, f)).catch(() => {});
    const blockNames = names.filter((f) => BLOCK_RE.test(f)).sort();
    let seq = 0;
    for (const n of blockNames) seq = Math.max(seq, parseBlockName(n)!.seq);
    const store = new BlockStore(opts, seq + 1);
    try {
      const opened: Block[] = [];
      for (const n of blockNames) opened.push(await Block.open(join(opts.dir, n), n, store.cache, store.nextKey()));
      // A compaction that crashed after writing its output but before deleting its sources.
      const replaced = new Set(opened.flatMap((b) => b.meta.replaces));
      for (const b of opened) {
        if (replaced.has(b.name)) {
          b.retire();
          await unlink(b.path).catch(() => {});
          await unlink(join(opts.dir, markName(b.name))).catch(() => {});
        } else {
          store.blocks.push(b);
        }
      }
      for (const b of store.blocks) {
        const text = await readFile(join(opts.dir, markName(b.name)), 'utf8').catch(() => undefined);
        const mark = text === undefined ? undefined : parseMark(text);
        if (mark) b.setDeletedBefore(mark.deletedBefore, mark.hiddenRows);
      }
      if (replaced.size) await syncDir(opts.dir);
    } catch (e) {
      for (const b of store.blocks) b.retire();
      clearInterval(store.timer);
      throw e;
    }
    store.scheduleCompaction();
    return store;
  }

  /** A head with room for a flush's worth of spans, so its columns never grow. */
  private newHead(): Head {
    return new Head(Math.min(this.opts.flushSpans, 1 << 20) + 1024);
  }

  private nextKey(): string {
    return `k${this.keySeq++}`;
  }

  // --- writes ------------------------------------------------------------------------------

  async write(spans: readonly Span[]): Promise<void> {
    this.assertOpen();
    if (spans.length === 0) return;
    for (const s of spans) validateSpan(s);
    await this.backpressure();
    this.head.add(spans);
    if (this.head.rows >= this.opts.flushSpans) this.flushInBackground();
  }

  /**
   * write() for an OTLP protobuf ExportTraceServiceRequest, decoded straight
   * into the head (otlp-head.ts): the valid spans are added, the invalid ones
   * left out as decodeTraceRequestProto leaves them; returns how many were
   * valid. Undecodable bytes reject with a SyntaxError and add nothing.
   * `validatedSpans`: the caller ran validateTraceRequestProto on these very
   * bytes and it counted this many valid spans (the walk relies on it).
   */
  async writeOtlpProto(bytes: Uint8Array, validatedSpans?: number, lsn?: bigint): Promise<{ spans: number }> {
    this.assertOpen();
    let spans = validatedSpans;
    if (spans === undefined) {
      const v = validateTraceRequestProto(bytes);
      if (!v.ok) throw new SyntaxError(`cannot decode OTLP protobuf: ${v.error}`);
      spans = v.spans;
    }
    if (spans === 0) return { spans: 0 };
    await this.backpressure();
    const st = this.head.staging;
    st.reset();
    stageOtlpProto(this.head, bytes, st);
    this.head.commit(st);
    if (lsn !== undefined && lsn > this.head.maxLsn) this.head.maxLsn = lsn;
    if (this.head.rows >= this.opts.flushSpans) this.flushInBackground();
    return { spans };
  }

  /** Waits for a flush when too many spans are unflushed. Only a failing flush refuses the batch. */
  private async backpressure(): Promise<void> {
    if (this.buffered() < this.opts.maxBufferedSpans) return;
    try {
      await this.flushHead();
    } catch (e) {
      throw new Error(`block store: ${this.buffered()} spans wait for a flush that is failing; refusing more (${(e as Error).message})`);
    }
    this.assertOpen();
  }

  async flush(): Promise<void> {
    this.assertOpen();
    await this.flushHead();
  }

  /** See TraceStore.durableLsn: LSNs come with writeOtlpProto; heads flush by size and age on their own. */
  async durableLsn(): Promise<bigint> {
    return this.durable;
  }

  private buffered(): number {
    let n = this.head.live;
    for (const h of this.flushing) n += h.live;
    return n;
  }

  private assertOpen(): void {
    if (this.closing) throw new Error('block store: closed');
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => {});
    return run;
  }

  private flushInBackground(): void {
    this.flushHead().catch((e) => this.opts.log(`block store: flush failed, ${this.buffered()} spans kept in memory for the next try: ${(e as Error).message}`));
  }

  /** Writes every unflushed span to block files; concurrent callers share a queued flush. */
  private flushHead(): Promise<void> {
    this.scheduled ??= this.serial(async () => {
      this.scheduled = undefined;
      if (this.head.rows > 0) {
        this.flushing.push(this.head);
        this.head = this.newHead();
      }
      // oldest first; a head that failed before is retried here
      while (this.flushing.length) {
        const h = this.flushing[0]!;
        const t0 = performance.now();
        let installed: Block[];
        try {
          installed = await this.writeHead(h);
        } catch (e) {
          this.counters.flushFailures++;
          throw e;
        }
        // in one step, so no read or stats() sees the spans twice or not at all
        this.blocks = [...this.blocks, ...installed];
        this.flushing.shift();
        // every older head is in blocks already (oldest first)
        if (h.maxLsn > this.durable) this.durable = h.maxLsn;
        this.counters.flushes++;
        this.counters.flushedSpans += h.live;
        this.counters.flushMillis += performance.now() - t0;
      }
      this.scheduleCompaction();
    });
    return this.scheduled;
  }

  /** Writes a head as block files and opens them (not yet visible to reads). */
  private async writeHead(h: Head): Promise<Block[]> {
    if (h.live === 0) return [];
    const names = Array.from({ length: h.blockCount() }, () => blockName(this.seq++, 0));
    let written: string[];
    if (this.opts.flushIn === 'worker') {
      written = await this.flushWorker.run({ dir: this.opts.dir, head: h.toSnapshot(), names, pageRows: this.opts.pageRows, compression: this.opts.compression });
    } else {
      const encoded = await encodeHead(h, {
        pageRows: this.opts.pageRows,
        compression: this.opts.compression,
        footerCompression: this.opts.compression,
        pause: pauser(),
      });
      written = [];
      for (const [i, e] of encoded.entries()) {
        await writeAtomic(this.opts.dir, names[i]!, e.parts);
        written.push(names[i]!);
      }
    }
    const opened: Block[] = [];
    for (const name of written) opened.push(await Block.open(join(this.opts.dir, name), name, this.cache, this.nextKey()));
    return opened;
  }

  // --- retention -----------------------------------------------------------------------------

  async deleteBefore(cutoffUnixNano: bigint): Promise<number> {
    this.assertOpen();
    if (cutoffUnixNano <= 0n) return 0;
    const cutoff = cutoffUnixNano > U64_MAX ? U64_MAX : cutoffUnixNano;
    return this.serial(async () => {
      let n = this.head.deleteBefore(cutoff);
      for (const h of this.flushing) n += h.deleteBefore(cutoff);
      const keep: Block[] = [];
      const gone: Block[] = [];
      for (const b of this.blocks) {
        const m = b.meta;
        if (b.deletedBefore !== undefined && b.deletedBefore >= cutoff) {
          keep.push(b);
        } else if (m.base + BigInt(m.maxStart) < cutoff) {
          n += b.liveRows;
          // marked too, so a compaction reading it right now does not bring its spans back
          b.setDeletedBefore(cutoff, m.rows);
          gone.push(b);
        } else if (m.base + BigInt(m.minStart) < cutoff) {
          const hidden = await countBefore(b, cutoff);
          n += hidden - b.hiddenRows;
          b.setDeletedBefore(cutoff, hidden);
          await writeMark(this.opts.dir, b.name, { deletedBefore: cutoff, hiddenRows: hidden });
          keep.push(b);
        } else {
          keep.push(b);
        }
      }
      this.blocks = keep;
      for (const b of gone) await this.removeBlock(b);
      if (gone.length) await syncDir(this.opts.dir);
      this.scheduleCompaction();
      return n;
    });
  }

  private async removeBlock(b: Block): Promise<void> {
    b.retire();
    await unlink(b.path).catch(() => {});
    await unlink(join(this.opts.dir, markName(b.name))).catch(() => {});
  }

  // --- compaction ----------------------------------------------------------------------------

  private scheduleCompaction(): void {
    if (this.opts.compaction === 'off' || this.closing) return;
    if (this.compacting) {
      this.compactAgain = true;
      return;
    }
    this.compacting = (async () => {
      try {
        do {
          this.compactAgain = false;
          while (!this.closing && (await this.compactOnce(false)));
        } while (this.compactAgain && !this.closing);
      } catch (e) {
        if (this.closing) return; // abandoned by close(), not failed
        this.counters.compactionFailures++;
        this.opts.log(`block store: compaction failed: ${(e as Error).message}`);
      } finally {
        this.compacting = undefined;
      }
    })();
  }

  /**
   * Compacts until nothing is left to merge, even fewer than compactMinBlocks
   * small blocks (benchmarks, tests, an idle server). Waits for a compaction
   * already running first.
   */
  async compact(): Promise<void> {
    this.assertOpen();
    await this.compacting;
    while (await this.compactOnce(true));
  }

  /**
   * The blocks to merge next: the oldest run of small blocks of one level
   * (lowest level first, so a span is rewritten about log4(n) times, not once
   * per flush), or when forced any small ones; else a block mostly hidden by
   * retention.
   */
  private pickCompaction(force: boolean): Block[] | undefined {
    const target = this.opts.compactSpans;
    const startOf = (b: Block) => b.meta.base + BigInt(b.meta.minStart);
    const small = this.blocks.filter((b) => b.liveRows < target / 2).sort((a, b) => (startOf(a) < startOf(b) ? -1 : 1));
    const levels = [...new Set(small.map((b) => parseBlockName(b.name)!.level))].sort((a, b) => a - b);
    const runOf = (blocks: Block[]) => {
      const run: Block[] = [];
      let total = 0;
      for (const b of blocks) {
        if (run.length && total + b.liveRows > target) break;
        run.push(b);
        total += b.liveRows;
      }
      return { run, total };
    };
    for (const level of levels) {
      const { run, total } = runOf(small.filter((b) => parseBlockName(b.name)!.level === level));
      if (run.length >= this.opts.compactMinBlocks || (run.length >= 2 && total >= target / 2)) return run;
    }
    if (force) {
      const { run } = runOf(small);
      if (run.length >= 2) return run;
    }
    const stale = this.blocks.find((b) => b.hiddenRows * 2 > b.meta.rows);
    return stale ? [stale] : undefined;
  }

  private async compactOnce(force: boolean): Promise<boolean> {
    const sources = this.pickCompaction(force);
    if (!sources) return false;
    const level = Math.max(...sources.map((b) => parseBlockName(b.name)!.level)) + 1;
    const job: CompactJob = {
      dir: this.opts.dir,
      sources: sources.map((b) => (b.deletedBefore === undefined ? { name: b.name } : { name: b.name, deletedBefore: b.deletedBefore.toString() })),
      outputs: [blockName(this.seq++, level), blockName(this.seq++, level), blockName(this.seq++, level)],
      pageRows: this.opts.pageRows,
      compression: this.opts.compression,
      footerCompression: this.opts.compression,
    };
    for (const b of sources) b.acquire();
    let result: CompactResult;
    try {
      result = this.opts.compaction === 'worker' ? await this.compactWorker.run(job) : await compactBlocks(job, pauser());
    } finally {
      for (const b of sources) b.release();
    }
    await this.serial(async () => {
      const outputs: Block[] = [];
      for (const name of result.written) {
        const b = await Block.open(join(this.opts.dir, name), name, this.cache, this.nextKey());
        // retention that ran while the worker was busy
        let cutoff: bigint | undefined;
        for (const s of sources) if (s.deletedBefore !== undefined && (cutoff === undefined || s.deletedBefore > cutoff)) cutoff = s.deletedBefore;
        if (cutoff !== undefined && job.sources.some((s) => s.deletedBefore !== cutoff!.toString())) {
          const hidden = await countBefore(b, cutoff);
          if (hidden > 0) {
            b.setDeletedBefore(cutoff, hidden);
            await writeMark(this.opts.dir, b.name, { deletedBefore: cutoff, hiddenRows: hidden });
          }
        }
        outputs.push(b);
      }
      const gone = new Set(sources);
      this.blocks = [...this.blocks.filter((b) => !gone.has(b)), ...outputs];
      for (const b of sources) await this.removeBlock(b);
      await syncDir(this.opts.dir);
      this.counters.compactions++;
    });
    return true;
  }

  // --- reads --------------------------------------------------------------------------------

  /** The blocks and heads as they are now, blocks held open until `release`. */
  private snapshot(): { heads: Head[]; blocks: Block[]; release: () => void } {
    this.assertOpen();
    const blocks = this.blocks;
    for (const b of blocks) b.acquire();
    return {
      heads: [...this.flushing, this.head],
      blocks,
      release: () => {
        for (const b of blocks) b.release();
      },
    };
  }

  async getTrace(traceId: string): Promise<Span[]> {
    this.assertOpen();
    const id = traceId.toLowerCase();
    if (!isValidTraceId(id)) return [];
    const words = traceIdWords(id)!;
    const snap = this.snapshot();
    const found: Span[] = [];
    try {
      for (const b of snap.blocks) {
        const t = b.findTrace(words);
        if (t >= 0) found.push(...(await b.traceSpans(t)));
      }
    } finally {
      snap.release();
    }
    for (const h of snap.heads) found.push(...h.getTrace(id));
    const seen = new Set<string>();
    const out: Span[] = [];
    for (const s of found) {
      if (seen.has(s.spanId)) continue;
      seen.add(s.spanId);
      out.push(s);
    }
    return out.sort((a, b) =>
      a.startTimeUnixNano !== b.startTimeUnixNano ? (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1) : a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0,
    );
  }

  async search(query: TraceQuery): Promise<TraceSummary[]> {
    this.assertOpen();
    const q = normalizeQuery(query);
    if (q.empty) return [];
    const snap = this.snapshot();
    try {
      const top = new TopTraces(q.limit);
      for (const h of snap.heads) h.search(q, (id, newest) => top.offer(id, newest));
      // newest blocks first: once `top` is full, older ones are mostly skipped
      const blocks = [...snap.blocks].sort((a, b) => {
        const x = a.meta.base + BigInt(a.meta.maxStart);
        const y = b.meta.base + BigInt(b.meta.maxStart);
        return x > y ? -1 : x < y ? 1 : 0;
      });
      for (const b of blocks) await searchBlock(b, q, top);
      const chosen = top.result();
      const summaries: TraceSummary[] = [];
      for (const id of chosen) {
        const spans: SummarySpan[] = [];
        const words = traceIdWords(id)!;
        for (const b of snap.blocks) {
          const t = b.findTrace(words);
          if (t >= 0) spans.push(...(await blockSummarySpans(b, t)));
        }
        for (const h of snap.heads) spans.push(...h.summarySpans(id));
        const s = summarizeTrace(id, spans);
        if (s) summaries.push(s);
      }
      return summaries.sort(compareSummaries);
    } finally {
      snap.release();
    }
  }

  async services(): Promise<string[]> {
    return [...this.operationMap().keys()].sort();
  }

  async operations(service: string): Promise<OperationInfo[]> {
    const ops = this.operationMap().get(service);
    if (!ops) return [];
    return [...ops]
      .map((k) => ({ name: k.slice(0, k.lastIndexOf('\0')), spanKind: Number(k.slice(k.lastIndexOf('\0') + 1)) as SpanKind }))
      .sort((a, b) => (a.name !== b.name ? (a.name < b.name ? -1 : 1) : a.spanKind - b.spanKind));
  }

  /** service -> `name\0kind` over every block (operations whose spans retention hid are left out) and head. */
  private operationMap(): Map<string, Set<string>> {
    this.assertOpen();
    const out = new Map<string, Set<string>>();
    const add = (service: string, name: string, kind: number) => {
      let s = out.get(service);
      if (!s) out.set(service, (s = new Set()));
      s.add(name + '\0' + kind);
    };
    for (const b of this.blocks) {
      const m = b.meta;
      for (const o of m.ops) if (o.maxStart >= b.watermark) add(m.strings[o.service]!, m.strings[o.name]!, o.kind);
    }
    for (const h of [...this.flushing, this.head]) {
      for (const [svc, ops] of h.ops) for (const op of ops) add(h.strings.values[svc]!, h.strings.values[Math.floor(op / 256)]!, op % 256);
    }
    return out;
  }

  /**
   * RED metrics (rate, errors, duration quantiles) per service or operation
   * over a time range, from per-block aggregates where a block lies wholly in
   * the range and from its rows where it does not. See red.ts for the
   * quantile error bound.
   */
  async red(query: RedQuery): Promise<RedMetrics[]> {
    const snap = this.snapshot();
    try {
      return await redMetricsOf(snap.blocks, snap.heads, query);
    } finally {
      snap.release();
    }
  }

  async stats(): Promise<StoreStats> {
    this.assertOpen();
    let spans = this.buffered();
    let bytesOnDisk = 0;
    for (const b of this.blocks) {
      spans += b.liveRows;
      bytesOnDisk += b.size;
    }
    return { spans, bytesOnDisk };
  }

  /** Bytes on disk by column over every block ('footer': trace table, dictionaries, page directory, stats), for benchmarks. */
  columnBytes(): Record<string, number> {
    const names = Object.fromEntries(Object.entries(Col).map(([k, v]) => [v, k.toLowerCase()]));
    const out: Record<string, number> = {};
    const add = (k: string, n: number) => (out[k] = (out[k] ?? 0) + n);
    for (const b of this.blocks) {
      const m = b.meta;
      let pages = 0;
      for (const p of m.pages) {
        pages += p.length;
        for (const c of p.chunks) {
          const attr = c.col - Col.ATTR_BASE;
          add(attr >= 0 ? `attr ${m.attrColumns[attr]!.keys.map((k) => m.strings[k]).join(',').slice(0, 60)}` : names[c.col]!, c.length);
        }
      }
      add('footer', b.size - pages - 44);
    }
    return out;
  }

  /** Random trace ids of the stored blocks (benchmarks). */
  sampleTraceIds(n: number): string[] {
    const out: string[] = [];
    for (let i = 0; i < n && this.blocks.length; i++) {
      const b = this.blocks[(Math.random() * this.blocks.length) | 0]!;
      if (b.traces) out.push(b.traceIdOf((Math.random() * b.traces) | 0));
    }
    return out;
  }

  /** Forgets every inflated chunk and decoded column (benchmarks: the next reads are cold). */
  dropCaches(): void {
    this.cache.clear();
  }

  /** Counters for metrics and benchmarks (not part of TraceStore). */
  diagnostics(): BlockStoreDiagnostics {
    return { bufferedSpans: this.buffered(), blocks: this.blocks.length, ...this.counters, cacheBytes: this.cache.bytes };
  }

  async close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      // A compaction under way is abandoned, not awaited: its sources stay
      // until its output is installed, and open() settles whatever it left
      // (an output without deleted sources, a temp file). Shutting down costs
      // the head's flush, not a merge of a million spans.
      if (this.opts.compaction === 'worker') await this.compactWorker.terminate();
      let failure: unknown;
      if (this.opts.flushOnClose) await this.flushHeadForClose().catch((e) => (failure = e));
      await this.tail.catch(() => {});
      await this.compacting?.catch(() => {});
      await this.flushWorker.terminate();
      await this.compactWorker.terminate();
      for (const b of this.blocks) b.retire();
      if (failure) throw failure;
    })();
    return this.closing;
  }

  private flushHeadForClose(): Promise<void> {
    return this.flushHead();
  }
}

/** Rows of a block that started before the cutoff. */
async function countBefore(b: Block, cutoff: bigint): Promise<number> {
  const m = b.meta;
  const off = Number(cutoff - m.base);
  let n = 0;
  for (let pi = 0; pi < m.pages.length; pi++) {
    const p = m.pages[pi]!;
    if (p.minStart >= off) continue;
    if (p.maxStart < off) {
      n += p.rows;
      continue;
    }
    const { start } = await b.scanColumns(pi, ['start']);
    for (let i = 0; i < p.rows; i++) if (start![i]! < off) n++;
  }
  return n;
}

function u32(v: number): boolean {
  return (v >>> 0 === v) || (Number.isInteger(v) && v >= 0 && v <= U32_MAX);
}

function u8(v: number): boolean {
  return (v & 255) === v && typeof v === 'number';
}

function u64(v: bigint): boolean {
  return typeof v === 'bigint' && v >= 0n && v <= U64_MAX;
}

/** isValidTraceId / isValidSpanId without a regular expression: this runs for every span written. */
function hexId(s: string, len: number): boolean {
  if (typeof s !== 'string' || s.length !== len) return false;
  let nonZero = false;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c === 48) continue;
    if (!((c > 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
    nonZero = true;
  }
  return nonZero;
}

/** Receivers validate at the boundary; this only keeps a bad span out of a block. */
export function validateSpan(s: Span): void {
  const problem =
    !hexId(s.traceId, 32) ? 'trace id'
    : !hexId(s.spanId, 16) ? 'span id'
    : s.parentSpanId !== '' && !hexId(s.parentSpanId, 16) ? 'parent span id'
    : !u64(s.startTimeUnixNano) || !u64(s.endTimeUnixNano) ? 'timestamps'
    : !u32(s.flags) ? 'flags'
    : !u8(s.kind) ? 'kind'
    : !u8(s.status.code) ? 'status code'
    : !u32(s.droppedAttributesCount) || !u32(s.droppedEventsCount) || !u32(s.droppedLinksCount) ? 'dropped counts'
    : !u32(s.resource.droppedAttributesCount) || !u32(s.scope.droppedAttributesCount) ? 'resource or scope dropped count'
    : (s.events.length !== 0 && s.events.some((e) => typeof e.timeUnixNano !== 'bigint' || !u32(e.droppedAttributesCount))) ||
        (s.links.length !== 0 && s.links.some((l) => !u32(l.flags) || !u32(l.droppedAttributesCount)))
      ? 'event or link'
    : undefined;
  if (problem) throw new TypeError(`block store: span ${JSON.stringify(s.spanId)} of trace ${JSON.stringify(s.traceId)} has invalid ${problem}; batch refused`);
}
