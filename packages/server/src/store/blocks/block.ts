// Reading one block file: the footer is parsed once at open and kept (trace
// id table, page directory, dictionaries, per-operation stats); page chunks
// are read and inflated on demand through the shared LRU. Rows come back as
// whole Spans (trace by id, compaction) or as decoded columns for scans
// (search, RED).

import type { FileHandle } from 'node:fs/promises';
import { readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { AnyValue, KeyValue, Span, SpanEvent, SpanLink } from '@ariadne/model';
import { ByteReader, hexVal, isWellFormed, toHex } from './bytes.js';
import type { ByteLru } from './cache.js';
import { decompress, decompressSync } from './codec.js';
import type { AttrColumn, BlockMeta, ChunkRef } from './format.js';
import { AttrMode, Col, HEADER_BYTES, TRAILER_BYTES, checksum, readHeader, readTrailer } from './format.js';
import type { TextProbe } from './values.js';
import { VType, readIntText, readKeyValues, readPayload, valueMatches } from './values.js';
import { blockFormat } from './versioned.js';

const POW10 = [1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8];
// Inflating a page-sized chunk takes well under a millisecond; a threadpool hop costs more than that on a busy machine.
const SYNC_INFLATE_MAX = 1 << 20;
const SYNC_READ_MAX = 1 << 20;

/** A row as read from a page, before its parent is resolved within the trace. */
interface RowData {
  row: number;
  spanId: string;
  /** 0 root, 1 raw (parentRaw), k+2 the trace's k-th row */
  parentTag: number;
  parentRaw: string;
  start: bigint;
  end: bigint;
  service: number;
  name: number;
  kind: number;
  status: number;
  statusMsg: number;
  traceState: number;
  flags: number;
  resource: number;
  scope: number;
  attributes: KeyValue[];
  extra: Uint8Array | undefined;
}

/** Dictionary ids: 16 bits wide while the dictionary allows. */
export type Ids = Uint16Array | Uint32Array;

/** Decoded columns of one page, for scans. */
export interface ScanColumns {
  start?: Float64Array;
  dur?: Float64Array;
  /** rows (within the page) whose duration does not fit a double exactly */
  bigDur?: Map<number, bigint>;
  service?: Ids;
  name?: Ids;
  kind?: Uint8Array;
  status?: Uint8Array;
  shape?: Ids;
  resource?: Ids;
  root?: Uint8Array;
}

export type ScanColumn = keyof ScanColumns;

export class Block {
  readonly meta: BlockMeta;
  /** trace ids as 4 big-endian words each, for binary search */
  private readonly words: Uint32Array;
  private stringIndex: Map<string, number> | undefined;
  /** attribute key string id -> column */
  readonly columnOfKey = new Map<number, number>();
  /** retention: spans that started before this are deleted (hidden until the block is rewritten) */
  deletedBefore: bigint | undefined;
  /** deletedBefore as an offset from base, for scans; -Infinity when none */
  watermark = -Infinity;
  /** rows hidden by the watermark */
  hiddenRows = 0;
  private refs = 0;
  private retired = false;
  private closed = false;
  /** per attribute column: text -> matching dictionary ids, built on first use */
  private readonly dictText = new Map<number, Map<string, Int32Array>>();
  /** per page: a PageCursor's place every MARK_EVERY rows, recorded as scans pass (see Scanner) */
  readonly cursorMarks = new Map<number, (Float64Array | undefined)[]>();

  private constructor(
    readonly name: string,
    readonly path: string,
    readonly size: number,
    private readonly fh: FileHandle,
    meta: BlockMeta,
    private readonly cache: ByteLru,
    /** cache key prefix, unique per opened block */
    private readonly key: string,
  ) {
    this.meta = meta;
    const n = meta.traceRows.length - 1;
    this.words = new Uint32Array(n * 4);
    const v = new DataView(meta.traceIds.buffer, meta.traceIds.byteOffset, meta.traceIds.byteLength);
    for (let i = 0; i < n * 4; i++) this.words[i] = v.getUint32(i * 4, false);
    // the words say the same: keep one copy
    meta.traceIds = new Uint8Array(0);
    meta.attrColumns.forEach((c, i) => {
      for (const k of c.keys) this.columnOfKey.set(k, i);
    });
  }

  static async open(path: string, name: string, cache: ByteLru, key: string): Promise<Block> {
    const fh = await open(path, 'r');
    try {
      const size = (await fh.stat()).size;
      if (size < HEADER_BYTES + TRAILER_BYTES) throw new Error('file too short');
      const header = new Uint8Array(HEADER_BYTES);
      await fh.read(header, 0, HEADER_BYTES, 0);
      const version = readHeader(header);
      const format = blockFormat(version);
      const trailerBytes = new Uint8Array(TRAILER_BYTES);
      await fh.read(trailerBytes, 0, TRAILER_BYTES, size - TRAILER_BYTES);
      const trailer = readTrailer(trailerBytes);
      if (trailer.footerOffset + trailer.footerLength + TRAILER_BYTES !== size) throw new Error('footer does not end where the trailer starts');
      const footer = new Uint8Array(trailer.footerLength);
      await fh.read(footer, 0, footer.length, trailer.footerOffset);
      if (checksum(footer) !== trailer.crc) throw new Error('footer checksum mismatch');
      const meta = format.decodeMeta(version, decompressSync(footer, trailer.codec, trailer.rawLength));
      return new Block(name, path, size, fh, meta, cache, key);
    } catch (e) {
      await fh.close();
      throw new Error(`block ${name}: ${(e as Error).message}`);
    }
  }

  /** Opened around a footer already in memory (just written by this process). */
  static async fromMeta(path: string, name: string, size: number, meta: BlockMeta, cache: ByteLru, key: string): Promise<Block> {
    const fh = await open(path, 'r');
    return new Block(name, path, size, fh, meta, cache, key);
  }

  get traces(): number {
    return this.meta.traceRows.length - 1;
  }

  get liveRows(): number {
    return this.meta.rows - this.hiddenRows;
  }

  /** Hides spans that started before the cutoff; returns how many more rows that hides. */
  setDeletedBefore(cutoff: bigint, hiddenRows: number): void {
    this.deletedBefore = cutoff;
    this.watermark = Number(cutoff - this.meta.base);
    this.hiddenRows = hiddenRows;
  }

  acquire(): void {
    this.refs++;
  }

  release(): void {
    this.refs--;
    if (this.retired && this.refs === 0) void this.closeNow();
  }

  /** No new reads; the file handle closes when the last read in flight ends. */
  retire(): void {
    this.retired = true;
    this.cache.dropPrefix(this.key);
    if (this.refs === 0) void this.closeNow();
  }

  private async closeNow(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close().catch(() => {});
  }

  stringId(s: string): number | undefined {
    if (!this.stringIndex) {
      this.stringIndex = new Map();
      const strs = this.meta.strings;
      for (let i = strs.length - 1; i >= 0; i--) this.stringIndex.set(strs[i]!, i);
    }
    return this.stringIndex.get(s);
  }

  /** The ordinal of a trace given as 16 bytes, or -1. */
  findTrace(id: Uint32Array): number {
    const w = this.words;
    let lo = 0;
    let hi = this.traces - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = mid * 4;
      let c = 0;
      for (let i = 0; i < 4 && c === 0; i++) c = w[at + i]! < id[i]! ? -1 : w[at + i]! > id[i]! ? 1 : 0;
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  traceIdOf(t: number): string {
    const w = this.words;
    const at = t * 4;
    return hex8(w[at]!) + hex8(w[at + 1]!) + hex8(w[at + 2]!) + hex8(w[at + 3]!);
  }

  /** The page holding a row. */
  pageOf(row: number): number {
    const pages = this.meta.pages;
    let lo = 0;
    let hi = pages.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (pages[mid]!.firstRow <= row) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  // --- chunks -----------------------------------------------------------------------

  /** Inflated chunks of a page (columns it lacks are absent); `keep`: cache them (callers that cache a decoded form do not). */
  async chunks(page: number, cols: readonly number[], keep = true): Promise<Map<number, Uint8Array>> {
    const p = this.meta.pages[page]!;
    const out = new Map<number, Uint8Array>();
    const missing: ChunkRef[] = [];
    for (const col of cols) {
      const c = p.chunks.find((x) => x.col === col);
      if (!c) continue;
      const hit = this.cache.get<Uint8Array>(`${this.key}/${page}/c${col}`);
      if (hit) out.set(col, hit);
      else missing.push(c);
    }
    if (missing.length === 0) return out;
    // one read for the whole page when most of it is wanted, else one per chunk
    let raws: Uint8Array[];
    const wanted = missing.reduce((n, c) => n + c.length, 0);
    if (wanted * 2 >= p.length) {
      const buf = await this.read(p.offset, p.length);
      raws = missing.map((c) => buf.subarray(c.offset - p.offset, c.offset - p.offset + c.length));
    } else {
      raws = await Promise.all(missing.map((c) => this.read(c.offset, c.length)));
    }
    await Promise.all(
      missing.map(async (c, i) => {
        const raw = raws[i]!;
        if (checksum(raw) !== c.crc) throw new Error(`block ${this.name}: checksum mismatch in page ${page} column ${c.col}`);
        const data = c.rawLength <= SYNC_INFLATE_MAX ? decompressSync(raw, c.codec, c.rawLength) : await decompress(raw, c.codec, c.rawLength);
        if (keep) this.cache.set(`${this.key}/${page}/c${c.col}`, data, data.length + 64);
        out.set(c.col, data);
      }),
    );
    return out;
  }

  private async read(offset: number, length: number): Promise<Uint8Array> {
    if (this.closed) throw new Error(`block ${this.name}: closed`);
    const buf = new Uint8Array(length);
    let done = 0;
    // A page is a few hundred KB, usually in the page cache: reading it in
    // place takes microseconds, while a threadpool hop can take milliseconds
    // on a busy machine. Large reads (a whole column of a big block) go async.
    if (length <= SYNC_READ_MAX) {
      while (done < length) {
        const n = readSync(this.fh.fd, buf, done, length - done, offset + done);
        if (n === 0) throw new Error(`block ${this.name}: unexpected end of file`);
        done += n;
      }
      return buf;
    }
    while (done < length) {
      const { bytesRead } = await this.fh.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) throw new Error(`block ${this.name}: unexpected end of file`);
      done += bytesRead;
    }
    return buf;
  }

  // --- whole spans ---------------------------------------------------------------------

  /** Every span of trace ordinal t that the watermark leaves. */
  async traceSpans(t: number): Promise<Span[]> {
    const a = this.meta.traceRows[t]!;
    const b = this.meta.traceRows[t + 1]!;
    const scanner = new Scanner(this);
    const rows = await scanner.rows(a, b);
    return this.toSpans(this.traceIdOf(t), rows);
  }

  /** Spans of every trace, in block order, a batch of whole traces at a time (compaction). */
  async *allSpans(batchRows = 8192): AsyncGenerator<Span[]> {
    const scanner = new Scanner(this);
    const tr = this.meta.traceRows;
    let t = 0;
    while (t < this.traces) {
      const first = t;
      while (t < this.traces && tr[t]! - tr[first]! < batchRows) t++;
      const rows = await scanner.rows(tr[first]!, tr[t]!);
      const out: Span[] = [];
      let at = 0;
      for (let k = first; k < t; k++) {
        const n = tr[k + 1]! - tr[k]!;
        out.push(...this.toSpans(this.traceIdOf(k), rows.slice(at, at + n)));
        at += n;
      }
      yield out;
    }
  }

  private toSpans(traceId: string, rows: RowData[]): Span[] {
    const m = this.meta;
    const cutoff = this.deletedBefore;
    const out: Span[] = [];
    for (const d of rows) {
      if (cutoff !== undefined && d.start < cutoff) continue;
      const extra = d.extra ? decodeExtra(d.extra, d.start) : undefined;
      out.push({
        traceId,
        spanId: d.spanId,
        parentSpanId: d.parentTag === 0 ? '' : d.parentTag === 1 ? d.parentRaw : rows[d.parentTag - 2]!.spanId,
        traceState: d.traceState === 0 ? '' : m.strings[d.traceState - 1]!,
        flags: d.flags,
        name: m.strings[d.name]!,
        kind: d.kind as Span['kind'],
        startTimeUnixNano: d.start,
        endTimeUnixNano: d.end,
        attributes: d.attributes,
        droppedAttributesCount: extra?.droppedAttributes ?? 0,
        events: extra?.events ?? [],
        droppedEventsCount: extra?.droppedEvents ?? 0,
        links: extra?.links ?? [],
        droppedLinksCount: extra?.droppedLinks ?? 0,
        status: { code: d.status as Span['status']['code'], message: d.statusMsg === 0 ? '' : m.strings[d.statusMsg - 1]! },
        resource: m.resources[d.resource]!,
        scope: m.scopes[d.scope]!,
        service: m.strings[d.service]!,
      });
    }
    return out;
  }

  // --- scan columns ----------------------------------------------------------------------

  /** Decoded scan columns of a page, from the cache when it has them. */
  async scanColumns(page: number, want: readonly ScanColumn[]): Promise<ScanColumns> {
    const out: ScanColumns = {};
    const need: ScanColumn[] = [];
    for (const w of want) {
      const hit = this.cache.get<ScanColumns[ScanColumn]>(`${this.key}/${page}/s${w}`);
      if (hit) (out as Record<string, unknown>)[w] = hit;
      else need.push(w);
    }
    if (out.dur) out.bigDur = this.cache.get<Map<number, bigint>>(`${this.key}/${page}/sbig`) ?? new Map();
    if (need.length === 0) return out;
    const cols = new Set<number>();
    for (const w of need) cols.add(SCAN_SOURCE[w]);
    const chunks = await this.chunks(page, [...cols], false);
    const p = this.meta.pages[page]!;
    const n = p.rows;
    for (const w of need) {
      const raw = chunks.get(SCAN_SOURCE[w]);
      let value: Float64Array | Ids | Uint8Array;
      switch (w) {
        case 'start': {
          const a = new Float64Array(n);
          if (raw) {
            const r = new ByteReader(raw);
            let acc = r.uvar();
            a[0] = acc;
            for (let i = 1; i < n; i++) a[i] = acc += r.svar();
          }
          value = a;
          break;
        }
        case 'dur': {
          const a = new Float64Array(n);
          const big = new Map<number, bigint>();
          if (raw) {
            const r = new ByteReader(raw);
            for (let i = 0; i < n; i++) {
              if (r.varLenHere() <= 7) a[i] = r.svar();
              else {
                const d = r.svarBig();
                a[i] = Number(d);
                if (d >= 2n ** 53n || d <= -(2n ** 53n)) big.set(i, d);
              }
            }
          }
          value = a;
          out.bigDur = big;
          this.cache.set(`${this.key}/${page}/sbig`, big, 64 + big.size * 64);
          break;
        }
        case 'kind':
        case 'status':
          value = raw ?? new Uint8Array(n);
          this.cache.set(`${this.key}/${page}/s${w}`, value, value.byteLength + 64);
          break;
        case 'root': {
          const a = new Uint8Array(n);
          if (raw) {
            const r = new ByteReader(raw);
            for (let i = 0; i < n; i++) a[i] = r.uvar() === 0 ? 1 : 0;
          }
          value = a;
          break;
        }
        default: {
          const limit = w === 'service' || w === 'name' ? this.meta.strings.length : w === 'shape' ? this.meta.shapes.length : this.meta.resources.length;
          const a = limit <= 65536 ? new Uint16Array(n) : new Uint32Array(n);
          if (raw) {
            const r = new ByteReader(raw);
            for (let i = 0; i < n; i++) a[i] = r.uvar();
          }
          value = a;
        }
      }
      (out as Record<string, unknown>)[w] = value;
      if (w !== 'kind' && w !== 'status') this.cache.set(`${this.key}/${page}/s${w}`, value, value.byteLength + 64);
    }
    return out;
  }

  /**
   * Rows of a page with an attribute `key = text` (the span's own attributes
   * only; resource attributes are the caller's). Undefined when the block has
   * no such key.
   */
  async attributeRows(page: number, keyId: number, probe: TextProbe): Promise<Uint8Array | undefined> {
    const colIdx = this.columnOfKey.get(keyId);
    if (colIdx === undefined) return undefined;
    const column = this.meta.attrColumns[colIdx]!;
    const n = this.meta.pages[page]!.rows;
    const { shape } = await this.scanColumns(page, ['shape']);
    const col = Col.ATTR_BASE + colIdx;
    const mask = new Uint8Array(n);
    if (column.mode === AttrMode.DICT) {
      const accepted = this.acceptedIds(colIdx, probe);
      if (accepted.length === 0) return mask;
      const entries = await this.dictEntries(page, colIdx, shape!);
      const { ids, rowOf } = entries;
      if (accepted.length === 1) {
        const want = accepted[0]!;
        if (rowOf) {
          for (let e = 0; e < ids.length; e++) if (ids[e] === want) mask[rowOf[e]!] = 1;
        } else for (let e = 0; e < ids.length; e++) if (ids[e] === want) mask[e] = 1;
      } else {
        const set = new Set(accepted);
        for (let e = 0; e < ids.length; e++) if (set.has(ids[e]!)) mask[rowOf ? rowOf[e]! : e] = 1;
      }
      return mask;
    }
    const raw = (await this.chunks(page, [col])).get(col);
    if (!raw) return mask;
    // PLAIN / MISC: walk the entries in row order, testing only this key's
    const r = new ByteReader(raw);
    const shapes = this.meta.shapes;
    const targetUtf8 = column.mode === AttrMode.PLAIN && isWellFormed(probe.text) ? new TextEncoder().encode(probe.text) : undefined;
    for (let row = 0; row < n; row++) {
      const flat = shapes[shape![row]!]!;
      for (let s = 0; s < flat.length; s += 2) {
        const k = flat[s]!;
        if (this.columnOfKey.get(k) !== colIdx) continue;
        const vt = flat[s + 1]!;
        if (k !== keyId) {
          skipPlain(r, vt, column);
          continue;
        }
        if (vt === VType.STRING && targetUtf8 && !column.hex && r.buf[r.pos]! % 2 === 0) {
          if (matchUtf8(r, targetUtf8)) mask[row] = 1;
          continue;
        }
        if (valueMatches(readPlain(r, vt, column), probe)) mask[row] = 1;
      }
    }
    return mask;
  }

  /** Dictionary ids of a DICT column whose value's text is the probe's. */
  acceptedIds(colIdx: number, probe: TextProbe): Int32Array {
    const column = this.meta.attrColumns[colIdx]!;
    let byText = this.dictText.get(colIdx);
    if (!byText) this.dictText.set(colIdx, (byText = new Map()));
    let ids = byText.get(probe.text);
    if (!ids) {
      const found: number[] = [];
      found.push(...column.dict.matching(probe));
      ids = Int32Array.from(found);
      if (byText.size > 1024) byText.clear();
      byText.set(probe.text, ids);
    }
    return ids;
  }

  /** A DICT column of a page as (value id, row) per entry; rowOf is absent when entry i is row i. */
  private async dictEntries(page: number, colIdx: number, shape: Ids): Promise<{ ids: Ids; rowOf: Uint32Array | undefined }> {
    const key = `${this.key}/${page}/a${colIdx}`;
    const hit = this.cache.get<{ ids: Ids; rowOf: Uint32Array | undefined }>(key);
    if (hit) return hit;
    const col = Col.ATTR_BASE + colIdx;
    const raw = (await this.chunks(page, [col], false)).get(col);
    const n = shape.length;
    // entries per shape for this column
    const perShape = new Map<number, number>();
    let total = 0;
    let oneEach = true;
    for (let row = 0; row < n; row++) {
      const s = shape[row]!;
      let c = perShape.get(s);
      if (c === undefined) {
        c = 0;
        const flat = this.meta.shapes[s]!;
        for (let i = 0; i < flat.length; i += 2) if (this.columnOfKey.get(flat[i]!) === colIdx) c++;
        perShape.set(s, c);
      }
      if (c !== 1) oneEach = false;
      total += c;
    }
    const ids = this.meta.attrColumns[colIdx]!.dict.length <= 65536 ? new Uint16Array(total) : new Uint32Array(total);
    const rowOf = oneEach ? undefined : new Uint32Array(total);
    if (raw) {
      const r = new ByteReader(raw);
      if (oneEach) for (let e = 0; e < total; e++) ids[e] = r.uvar();
      else {
        let e = 0;
        for (let row = 0; row < n; row++) {
          const c = perShape.get(shape[row]!)!;
          for (let j = 0; j < c; j++) {
            ids[e] = r.uvar();
            rowOf![e++] = row;
          }
        }
      }
    }
    const v = { ids, rowOf };
    this.cache.set(key, v, ids.byteLength + (rowOf?.byteLength ?? 0) + 64);
    return v;
  }

  /** Span ids of a page (8 raw bytes a row). */
  async spanIds(page: number): Promise<Uint8Array> {
    return (await this.chunks(page, [Col.SPAN_ID])).get(Col.SPAN_ID) ?? new Uint8Array(0);
  }
}

/** The chunk each scan column is decoded from. */
const SCAN_SOURCE: Record<ScanColumn, number> = {
  start: Col.START,
  dur: Col.DURATION,
  bigDur: Col.DURATION,
  service: Col.SERVICE,
  name: Col.NAME,
  kind: Col.KIND,
  status: Col.STATUS,
  shape: Col.SHAPE,
  resource: Col.RESOURCE,
  root: Col.PARENT,
};

/** Compares the UTF-8 string entry at the reader with `target`, moving past it. */
function matchUtf8(r: ByteReader, target: Uint8Array): boolean {
  const n = r.uvar() / 2;
  const at = r.pos;
  r.pos += n;
  if (n !== target.length) return false;
  const b = r.buf;
  for (let i = 0; i < n; i++) if (b[at + i] !== target[i]) return false;
  return true;
}

export function readPlain(r: ByteReader, vt: number, c: AttrColumn): AnyValue {
  switch (vt) {
    case VType.EMPTY:
      return {};
    case VType.STRING: {
      if (c.hex) {
        const n = r.uvar();
        return { stringValue: n === 0 ? r.str() : r.hex(n) };
      }
      return { stringValue: r.str() };
    }
    case VType.BOOL:
      return { boolValue: r.u8() === 1 };
    case VType.INT:
      return { intValue: readIntText(r) };
    case VType.INT_TEXT:
      return { intValue: r.str() };
    case VType.BYTES:
      return { bytesValue: r.str() };
    case VType.DOUBLE: {
      if (c.doubleExp === 255) return { doubleValue: r.f64() };
      if (r.buf[r.pos] === 1) {
        r.pos++;
        return { doubleValue: r.f64() };
      }
      const zz = r.uvar() / 2;
      const m = zz % 2 === 0 ? zz / 2 : -(zz + 1) / 2;
      return { doubleValue: m / POW10[c.doubleExp]! };
    }
    default:
      return readPayload(r, vt);
  }
}

export function skipPlain(r: ByteReader, vt: number, c: AttrColumn): void {
  switch (vt) {
    case VType.EMPTY:
      return;
    case VType.STRING:
      if (c.hex) {
        const n = r.uvar();
        if (n === 0) r.skipStr();
        else r.pos += n;
      } else r.skipStr();
      return;
    case VType.BOOL:
      r.pos++;
      return;
    case VType.INT:
      r.pos += r.varLenHere();
      return;
    case VType.INT_TEXT:
    case VType.BYTES:
      r.skipStr();
      return;
    case VType.DOUBLE:
      if (c.doubleExp === 255) r.pos += 8;
      else if (r.buf[r.pos] === 1) r.pos += 9;
      else r.pos += r.varLenHere();
      return;
    default:
      readPayload(r, vt);
  }
}

function readId(r: ByteReader, len: number): string {
  return r.u8() === 1 ? r.hex(len / 2) : r.str();
}

function decodeExtra(b: Uint8Array, start: bigint): { events: SpanEvent[]; links: SpanLink[]; droppedAttributes: number; droppedEvents: number; droppedLinks: number } {
  const r = new ByteReader(b);
  const droppedAttributes = r.uvar();
  const droppedEvents = r.uvar();
  const droppedLinks = r.uvar();
  const events: SpanEvent[] = new Array(r.uvar());
  for (let i = 0; i < events.length; i++) {
    const t = start + (r.varLenHere() <= 7 ? BigInt(r.svar()) : r.svarBig());
    const name = r.str();
    const droppedAttributesCount = r.uvar();
    events[i] = { timeUnixNano: t, name, attributes: readKeyValues(r), droppedAttributesCount };
  }
  const links: SpanLink[] = new Array(r.uvar());
  for (let i = 0; i < links.length; i++) {
    const traceId = readId(r, 32);
    const spanId = readId(r, 16);
    const traceState = r.str();
    const flags = r.uvar();
    const droppedAttributesCount = r.uvar();
    links[i] = { traceId, spanId, traceState, attributes: readKeyValues(r), droppedAttributesCount, flags };
  }
  return { events, links, droppedAttributes, droppedEvents, droppedLinks };
}

/**
 * Rows between the places a scan records. Rows are variable-length, so reading
 * row r of a page means stepping over the rows before it: half a page, ~2,000
 * rows, for a trace in the middle. That was half of a TraceQL search reading
 * candidate traces; from a mark it is at most MARK_EVERY - 1.
 */
const MARK_EVERY = 256;
/** pages per block that keep marks (~4 KB a page); past it they are dropped and recorded again */
const MARKED_PAGES = 512;

/** Walks rows of a block forward, page by page, decoding whole rows. */
class Scanner {
  private page = -1;
  private row = 0;
  private cur: PageCursor | undefined;

  constructor(private readonly block: Block) {}

  async rows(a: number, b: number): Promise<RowData[]> {
    const out: RowData[] = [];
    let row = a;
    while (row < b) {
      const page = this.block.pageOf(row);
      if (page !== this.page || !this.cur || this.row > row) {
        const chunks = await this.block.chunks(page, ALL_FIXED.concat(this.block.meta.attrColumns.map((_, i) => Col.ATTR_BASE + i)));
        this.cur = new PageCursor(this.block, chunks);
        this.page = page;
        this.row = this.block.meta.pages[page]!.firstRow;
      }
      const p = this.block.meta.pages[page]!;
      const end = Math.min(b, p.firstRow + p.rows);
      const marks = this.marksOf(page);
      const k = Math.floor((row - p.firstRow) / MARK_EVERY);
      const mark = marks[k];
      if (mark && this.row < p.firstRow + k * MARK_EVERY) {
        this.cur.restore(mark);
        this.row = p.firstRow + k * MARK_EVERY;
      }
      while (this.row < row) {
        this.markHere(marks, p.firstRow);
        this.cur.skip();
        this.row++;
      }
      while (this.row < end) {
        this.markHere(marks, p.firstRow);
        out.push(this.cur.read(this.row));
        this.row++;
      }
      row = end;
    }
    return out;
  }

  /** Records the cursor's place if its row is on a mark not yet taken. */
  private markHere(marks: (Float64Array | undefined)[], firstRow: number): void {
    const rel = this.row - firstRow;
    if (rel % MARK_EVERY === 0) marks[rel / MARK_EVERY] ??= this.cur!.save();
  }

  private marksOf(page: number): (Float64Array | undefined)[] {
    const all = this.block.cursorMarks;
    let marks = all.get(page);
    if (!marks) {
      if (all.size >= MARKED_PAGES) all.clear();
      all.set(page, (marks = []));
    }
    return marks;
  }
}

const ALL_FIXED: number[] = [
  Col.SPAN_ID,
  Col.PARENT,
  Col.PARENT_RAW,
  Col.START,
  Col.DURATION,
  Col.SERVICE,
  Col.NAME,
  Col.KIND,
  Col.STATUS,
  Col.STATUS_MSG,
  Col.TRACE_STATE,
  Col.FLAGS,
  Col.RESOURCE,
  Col.SCOPE,
  Col.SHAPE,
  Col.EXTRA,
];

const EMPTY = new Uint8Array(0);

/** Sequential reader over every column of one page. */
class PageCursor {
  private readonly spanId: Uint8Array;
  private readonly parent: ByteReader;
  private readonly parentRaw: ByteReader;
  private readonly start: ByteReader;
  private readonly dur: ByteReader;
  private readonly service: ByteReader;
  private readonly name: ByteReader;
  private readonly kind: Uint8Array;
  private readonly status: Uint8Array;
  private readonly statusMsg: ByteReader;
  private readonly traceState: ByteReader;
  private readonly flags: ByteReader;
  private readonly resource: ByteReader;
  private readonly scope: ByteReader;
  private readonly shape: ByteReader;
  private readonly extra: ByteReader;
  private readonly attrs: ByteReader[];
  private i = 0;
  private acc = 0;
  /** every reader with a position, in a fixed order (save/restore) */
  private readonly readers: ByteReader[];

  constructor(
    private readonly block: Block,
    chunks: Map<number, Uint8Array>,
  ) {
    const rd = (c: number) => new ByteReader(chunks.get(c) ?? EMPTY);
    this.spanId = chunks.get(Col.SPAN_ID) ?? EMPTY;
    this.parent = rd(Col.PARENT);
    this.parentRaw = rd(Col.PARENT_RAW);
    this.start = rd(Col.START);
    this.dur = rd(Col.DURATION);
    this.service = rd(Col.SERVICE);
    this.name = rd(Col.NAME);
    this.kind = chunks.get(Col.KIND) ?? EMPTY;
    this.status = chunks.get(Col.STATUS) ?? EMPTY;
    this.statusMsg = rd(Col.STATUS_MSG);
    this.traceState = rd(Col.TRACE_STATE);
    this.flags = rd(Col.FLAGS);
    this.resource = rd(Col.RESOURCE);
    this.scope = rd(Col.SCOPE);
    this.shape = rd(Col.SHAPE);
    this.extra = rd(Col.EXTRA);
    this.attrs = block.meta.attrColumns.map((_, i) => rd(Col.ATTR_BASE + i));
    this.readers = [this.parent, this.parentRaw, this.start, this.dur, this.service, this.name, this.statusMsg, this.traceState, this.flags, this.resource, this.scope, this.shape, this.extra, ...this.attrs];
  }

  /** Where the cursor is: the readers' positions, then the start accumulator and the row (exact in a double). */
  save(): Float64Array {
    const rs = this.readers;
    const out = new Float64Array(rs.length + 2);
    for (let k = 0; k < rs.length; k++) out[k] = rs[k]!.pos;
    out[rs.length] = this.acc;
    out[rs.length + 1] = this.i;
    return out;
  }

  /** Back to a place save() gave, on this page's chunks. */
  restore(m: Float64Array): void {
    const rs = this.readers;
    for (let k = 0; k < rs.length; k++) rs[k]!.pos = m[k]!;
    this.acc = m[rs.length]!;
    this.i = m[rs.length + 1]!;
  }

  private nextStart(): number {
    this.acc = this.i === 0 ? this.start.uvar() : this.acc + this.start.svar();
    return this.acc;
  }

  private skipVar(r: ByteReader): void {
    const b = r.buf;
    while (b[r.pos++]! >= 128);
  }

  skip(): void {
    if (this.parent.uvar() === 1) this.parentRaw.pos += 8;
    this.nextStart();
    this.skipVar(this.dur);
    this.skipVar(this.service);
    this.skipVar(this.name);
    this.skipVar(this.statusMsg);
    this.skipVar(this.traceState);
    this.skipVar(this.flags);
    this.skipVar(this.resource);
    this.skipVar(this.scope);
    const shape = this.shape.uvar();
    const len = this.extra.uvar();
    this.extra.pos += len;
    const m = this.block.meta;
    const flat = m.shapes[shape]!;
    for (let s = 0; s < flat.length; s += 2) {
      const ci = this.block.columnOfKey.get(flat[s]!)!;
      const c = m.attrColumns[ci]!;
      const r = this.attrs[ci]!;
      if (c.mode === AttrMode.DICT) this.skipVar(r);
      else skipPlain(r, flat[s + 1]!, c);
    }
    this.i++;
  }

  read(row: number): RowData {
    const m = this.block.meta;
    const i = this.i;
    const spanId = toHex(this.spanId, i * 8, 8);
    const parentTag = this.parent.uvar();
    const parentRaw = parentTag === 1 ? this.parentRaw.hex(8) : '';
    const off = this.nextStart();
    const start = m.base + BigInt(off);
    const end = start + (this.dur.varLenHere() <= 7 ? BigInt(this.dur.svar()) : this.dur.svarBig());
    const service = this.service.uvar();
    const name = this.name.uvar();
    const statusMsg = this.statusMsg.uvar();
    const traceState = this.traceState.uvar();
    const flags = this.flags.uvar();
    const resource = this.resource.uvar();
    const scope = this.scope.uvar();
    const shape = this.shape.uvar();
    const len = this.extra.uvar();
    const extra = len === 0 ? undefined : this.extra.bytes(len);
    const flat = m.shapes[shape]!;
    const attributes: KeyValue[] = new Array(flat.length >> 1);
    for (let s = 0; s < flat.length; s += 2) {
      const keyId = flat[s]!;
      const ci = this.block.columnOfKey.get(keyId)!;
      const c = m.attrColumns[ci]!;
      const r = this.attrs[ci]!;
      const value = c.mode === AttrMode.DICT ? c.dict.value(r.uvar()) : readPlain(r, flat[s + 1]!, c);
      attributes[s >> 1] = { key: m.strings[keyId]!, value };
    }
    this.i++;
    return {
      row,
      spanId,
      parentTag,
      parentRaw,
      start,
      end,
      service,
      name,
      kind: this.kind[i]!,
      status: this.status[i]!,
      statusMsg,
      traceState,
      flags,
      resource,
      scope,
      attributes,
      extra,
    };
  }
}

function hex8(v: number): string {
  return v.toString(16).padStart(8, '0');
}

/** A trace id as 4 big-endian words, or undefined when it is not 32 lowercase hex. */
export function traceIdWords(id: string): Uint32Array | undefined {
  if (id.length !== 32) return undefined;
  const out = new Uint32Array(4);
  for (let w = 0; w < 4; w++) {
    let v = 0;
    for (let i = 0; i < 8; i++) {
      const c = id.charCodeAt(w * 8 + i);
      if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return undefined;
      v = (v << 4) | hexVal(c);
    }
    out[w] = v >>> 0;
  }
  return out;
}
