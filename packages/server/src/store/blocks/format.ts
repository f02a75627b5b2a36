// The block file, format version 1. One file per block, written once
// (temp file, fsync, rename, fsync dir) and never changed:
//
//   header   "ARIADNEB" | u16 version | u16 0
//   pages    column chunks, page after page; each chunk compressed on its own
//            (deflate-raw or brotli, or stored) so a reader inflates only the
//            columns it needs, of the pages it needs
//   footer   compressed BlockMeta (below)
//   trailer  u32 footer offset lo | u32 hi | u32 footer length | u32 raw length
//            | u32 crc32 | u8 codec | 3 × 0 | "ARIADNEB"
//
// Rows are spans sorted by trace id, then start, then span id; a page holds
// whole traces unless one trace alone is larger than a page. Times are ns
// offsets from the block's base (its smallest start); a block never spans
// more than 2^52 ns, so every start offset is exact in a double.
//
// Columns of a page (ids below), one value per row unless told otherwise:
//   SPAN_ID     8 raw bytes
//   PARENT      varint: 0 root, 1 parent id in PARENT_RAW, k+2 the trace's k-th row
//   PARENT_RAW  8 raw bytes per PARENT = 1 row
//   START       first row: varint offset; then zigzag delta from the row before
//   DURATION    zigzag varint of end - start (any size; negative when the end
//               precedes the start)
//   SERVICE, NAME  varint string ids; KIND, STATUS  one byte
//   STATUS_MSG, TRACE_STATE  varint: 0 = '', k+1 = strings[k]
//   FLAGS, RESOURCE, SCOPE, SHAPE  varints (resource, scope, shape: table ids)
//   EXTRA       varint length, then dropped counts (attrs, events, links),
//               events and links; length 0 for the usual span without any
//   ATTR_BASE+i attribute column i: the values of its key(s) in row order,
//               one per attribute of that key in the row's shape (the shape
//               says the value type): a dictionary id (DICT), or the value
//               itself (PLAIN: doubles as scaled integers when the column's
//               exponent says so, hex strings as bytes when its flag says so;
//               MISC: like PLAIN without either, for all the rare keys together)

import { crc32 } from 'node:zlib';
import type { InstrumentationScope, Resource } from '@ariadne/model';
import { ByteReader, ByteWriter } from './bytes.js';
import type { DictValues } from './values.js';
import { PackedDict, readKeyValues, writeKeyValues, writeValue } from './values.js';

export const MAGIC = new TextEncoder().encode('ARIADNEB');
export const HEADER_BYTES = 12;
export const TRAILER_BYTES = 32;

export const Codec = { NONE: 0, DEFLATE: 1, BROTLI: 2 } as const;
export type Codec = (typeof Codec)[keyof typeof Codec];

export const Col = {
  SPAN_ID: 0,
  PARENT: 1,
  PARENT_RAW: 2,
  START: 3,
  DURATION: 4,
  SERVICE: 5,
  NAME: 6,
  KIND: 7,
  STATUS: 8,
  STATUS_MSG: 9,
  TRACE_STATE: 10,
  FLAGS: 11,
  RESOURCE: 12,
  SCOPE: 13,
  SHAPE: 14,
  EXTRA: 15,
  ATTR_BASE: 16,
} as const;

export const AttrMode = { DICT: 0, PLAIN: 1, MISC: 2 } as const;
export type AttrMode = (typeof AttrMode)[keyof typeof AttrMode];

export interface AttrColumn {
  mode: AttrMode;
  /** string ids of the keys it holds: one, or every rare key for MISC */
  keys: number[];
  /** DICT: the values, typed */
  dict: DictValues;
  /** PLAIN: doubles as integers m with m / 10^doubleExp exact (255: raw 8 bytes) */
  doubleExp: number;
  /** PLAIN: strings are mostly lowercase hex, stored as bytes (0 + text for the others) */
  hex: boolean;
  /** DICT: the pages holding each value, so a rare value is found without scanning every page */
  pageIndex?: PageIndex;
}

/** Per dictionary id: pages[offsets[id] .. offsets[id + 1]) ascending. */
export interface PageIndex {
  offsets: Uint32Array;
  pages: Uint32Array;
}

export interface ChunkRef {
  col: number;
  /** from the start of the file */
  offset: number;
  length: number;
  rawLength: number;
  codec: Codec;
  crc: number;
}

export interface PageMeta {
  firstRow: number;
  rows: number;
  minStart: number;
  maxStart: number;
  /** contiguous byte range of all its chunks in the file */
  offset: number;
  length: number;
  chunks: ChunkRef[];
}

/** Per (service, name, kind): what services(), operations() and RED need without reading pages. */
export interface OpStats {
  service: number;
  name: number;
  kind: number;
  count: number;
  errors: number;
  /** sum of durations (negative ones as 0), ns */
  sumDur: number;
  minStart: number;
  maxStart: number;
  /** duration histogram (red.ts buckets): bucket, count, bucket, count... buckets ascending */
  hist: Uint32Array;
}

export interface BlockMeta {
  version: number;
  base: bigint;
  rows: number;
  minStart: number;
  maxStart: number;
  strings: string[];
  resources: Resource[];
  scopes: InstrumentationScope[];
  /** shape id -> flat [keyStringId, vtype, ...] */
  shapes: Int32Array[];
  attrColumns: AttrColumn[];
  /** 16 bytes per trace, ascending */
  traceIds: Uint8Array;
  /** traces + 1 row offsets */
  traceRows: Uint32Array;
  pages: PageMeta[];
  ops: OpStats[];
  /** names of the blocks whose spans this one holds (compaction), removed at open if still there */
  replaces: string[];
  /** the page size the writer aimed at */
  pageRows: number;
}

export function encodeMeta(m: BlockMeta): Uint8Array {
  const w = new ByteWriter(1 << 16);
  w.uvar(0); // flags, for later use
  w.uvarBig(m.base);
  w.uvar(m.rows);
  w.uvar(m.minStart);
  w.uvar(m.maxStart);
  w.uvar(m.pageRows);
  w.uvar(m.strings.length);
  for (const s of m.strings) w.str(s);
  w.uvar(m.resources.length);
  for (const r of m.resources) {
    writeKeyValues(w, r.attributes);
    w.uvar(r.droppedAttributesCount);
    w.str(r.schemaUrl);
  }
  w.uvar(m.scopes.length);
  for (const s of m.scopes) {
    w.str(s.name);
    w.str(s.version);
    writeKeyValues(w, s.attributes);
    w.uvar(s.droppedAttributesCount);
    w.str(s.schemaUrl);
  }
  w.uvar(m.shapes.length);
  for (const sh of m.shapes) {
    w.uvar(sh.length >> 1);
    for (let i = 0; i < sh.length; i += 2) {
      w.uvar(sh[i]!);
      w.u8(sh[i + 1]!);
    }
  }
  w.uvar(m.attrColumns.length);
  for (const c of m.attrColumns) {
    w.u8(c.mode);
    w.uvar(c.keys.length);
    for (const k of c.keys) w.uvar(k);
    w.uvar(c.dict.length);
    for (let i = 0; i < c.dict.length; i++) writeValue(w, c.dict.value(i));
    w.u8(c.doubleExp);
    w.u8(c.hex ? 1 : 0);
    const pi = c.pageIndex;
    w.u8(pi ? 1 : 0);
    if (pi) {
      for (let id = 0; id < c.dict.length; id++) {
        const a = pi.offsets[id]!;
        const b = pi.offsets[id + 1]!;
        w.uvar(b - a);
        let prev = 0;
        for (let i = a; i < b; i++) {
          w.uvar(pi.pages[i]! - prev);
          prev = pi.pages[i]!;
        }
      }
    }
  }
  const traces = m.traceRows.length - 1;
  w.uvar(traces);
  w.bytes(m.traceIds.subarray(0, traces * 16));
  for (let t = 0; t < traces; t++) w.uvar(m.traceRows[t + 1]! - m.traceRows[t]!);
  w.uvar(m.pages.length);
  for (const p of m.pages) {
    w.uvar(p.rows);
    w.uvar(p.minStart);
    w.uvar(p.maxStart);
    w.uvar(p.offset);
    w.uvar(p.chunks.length);
    let at = p.offset;
    for (const c of p.chunks) {
      w.uvar(c.col);
      w.uvar(c.offset - at);
      w.uvar(c.length);
      w.uvar(c.rawLength);
      w.u8(c.codec);
      w.uvar(c.crc);
      at = c.offset + c.length;
    }
  }
  w.uvar(m.ops.length);
  for (const o of m.ops) {
    w.uvar(o.service);
    w.uvar(o.name);
    w.u8(o.kind);
    w.uvar(o.count);
    w.uvar(o.errors);
    w.f64(o.sumDur);
    w.uvar(o.minStart);
    w.uvar(o.maxStart);
    w.uvar(o.hist.length / 2);
    let prev = 0;
    for (let j = 0; j < o.hist.length; j += 2) {
      w.uvar(o.hist[j]! - prev);
      w.uvar(o.hist[j + 1]!);
      prev = o.hist[j]!;
    }
  }
  w.uvar(m.replaces.length);
  for (const r of m.replaces) w.str(r);
  return w.finish();
}

export function decodeMeta(version: number, raw: Uint8Array): BlockMeta {
  const r = new ByteReader(raw);
  r.uvar(); // flags
  const base = r.uvarBig();
  const rows = r.uvar();
  const minStart = r.uvar();
  const maxStart = r.uvar();
  const pageRows = r.uvar();
  const strings: string[] = new Array(r.uvar());
  for (let i = 0; i < strings.length; i++) strings[i] = r.str();
  const resources: Resource[] = new Array(r.uvar());
  for (let i = 0; i < resources.length; i++) {
    const attributes = readKeyValues(r);
    const droppedAttributesCount = r.uvar();
    resources[i] = { attributes, droppedAttributesCount, schemaUrl: r.str() };
  }
  const scopes: InstrumentationScope[] = new Array(r.uvar());
  for (let i = 0; i < scopes.length; i++) {
    const name = r.str();
    const version = r.str();
    const attributes = readKeyValues(r);
    const droppedAttributesCount = r.uvar();
    scopes[i] = { name, version, attributes, droppedAttributesCount, schemaUrl: r.str() };
  }
  const shapes: Int32Array[] = new Array(r.uvar());
  for (let i = 0; i < shapes.length; i++) {
    const n = r.uvar();
    const flat = new Int32Array(n * 2);
    for (let j = 0; j < n; j++) {
      flat[2 * j] = r.uvar();
      flat[2 * j + 1] = r.u8();
    }
    shapes[i] = flat;
  }
  const attrColumns: AttrColumn[] = new Array(r.uvar());
  for (let i = 0; i < attrColumns.length; i++) {
    const mode = r.u8() as AttrMode;
    const keys: number[] = new Array(r.uvar());
    for (let j = 0; j < keys.length; j++) keys[j] = r.uvar();
    const dict = PackedDict.read(r, r.uvar());
    const doubleExp = r.u8();
    const hex = r.u8() === 1;
    let pageIndex: PageIndex | undefined;
    if (r.u8() === 1) {
      const offsets = new Uint32Array(dict.length + 1);
      const pages: number[] = [];
      for (let id = 0; id < dict.length; id++) {
        const n = r.uvar();
        let prev = 0;
        for (let j = 0; j < n; j++) pages.push((prev += r.uvar()));
        offsets[id + 1] = pages.length;
      }
      pageIndex = { offsets, pages: Uint32Array.from(pages) };
    }
    attrColumns[i] = { mode, keys, dict, doubleExp, hex, ...(pageIndex ? { pageIndex } : {}) };
  }
  const traces = r.uvar();
  const traceIds = r.bytes(traces * 16).slice();
  const traceRows = new Uint32Array(traces + 1);
  for (let t = 0; t < traces; t++) traceRows[t + 1] = traceRows[t]! + r.uvar();
  const pages: PageMeta[] = new Array(r.uvar());
  let firstRow = 0;
  for (let i = 0; i < pages.length; i++) {
    const rowsInPage = r.uvar();
    const pMin = r.uvar();
    const pMax = r.uvar();
    const offset = r.uvar();
    const chunks: ChunkRef[] = new Array(r.uvar());
    let at = offset;
    for (let j = 0; j < chunks.length; j++) {
      const col = r.uvar();
      const off = at + r.uvar();
      const length = r.uvar();
      const rawLength = r.uvar();
      const codec = r.u8() as Codec;
      const crc = r.uvar();
      chunks[j] = { col, offset: off, length, rawLength, codec, crc };
      at = off + length;
    }
    pages[i] = { firstRow, rows: rowsInPage, minStart: pMin, maxStart: pMax, offset, length: at - offset, chunks };
    firstRow += rowsInPage;
  }
  const ops: OpStats[] = new Array(r.uvar());
  for (let i = 0; i < ops.length; i++) {
    const service = r.uvar();
    const name = r.uvar();
    const kind = r.u8();
    const count = r.uvar();
    const errors = r.uvar();
    const sumDur = r.f64();
    const oMin = r.uvar();
    const oMax = r.uvar();
    const hist = new Uint32Array(r.uvar() * 2);
    let prev = 0;
    for (let j = 0; j < hist.length; j += 2) {
      hist[j] = prev += r.uvar();
      hist[j + 1] = r.uvar();
    }
    ops[i] = { service, name, kind, count, errors, sumDur, minStart: oMin, maxStart: oMax, hist };
  }
  const replaces: string[] = new Array(r.uvar());
  for (let i = 0; i < replaces.length; i++) replaces[i] = r.str();
  return { version, base, rows, minStart, maxStart, strings, resources, scopes, shapes, attrColumns, traceIds, traceRows, pages, ops, replaces, pageRows };
}

export function writeHeader(version: number): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  h.set(MAGIC, 0);
  h[8] = version & 255;
  h[9] = version >> 8;
  return h;
}

export function writeTrailer(footerOffset: number, footerLength: number, rawLength: number, crc: number, codec: Codec): Uint8Array {
  const t = new Uint8Array(TRAILER_BYTES);
  const v = new DataView(t.buffer);
  v.setUint32(0, footerOffset % 2 ** 32, true);
  v.setUint32(4, Math.floor(footerOffset / 2 ** 32), true);
  v.setUint32(8, footerLength, true);
  v.setUint32(12, rawLength, true);
  v.setUint32(16, crc, true);
  t[20] = codec;
  t.set(MAGIC, 24);
  return t;
}

export interface Trailer {
  footerOffset: number;
  footerLength: number;
  rawLength: number;
  crc: number;
  codec: Codec;
}

function hasMagic(b: Uint8Array, at: number): boolean {
  for (let i = 0; i < MAGIC.length; i++) if (b[at + i] !== MAGIC[i]) return false;
  return true;
}

/** The format version in a header, or an error naming the file's problem. */
export function readHeader(h: Uint8Array): number {
  if (h.length < HEADER_BYTES || !hasMagic(h, 0)) throw new Error('not an Ariadne block (bad magic)');
  return h[8]! | (h[9]! << 8);
}

export function readTrailer(t: Uint8Array): Trailer {
  if (t.length < TRAILER_BYTES || !hasMagic(t, 24)) throw new Error('block trailer missing (incomplete file?)');
  const v = new DataView(t.buffer, t.byteOffset, t.byteLength);
  return {
    footerOffset: v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32,
    footerLength: v.getUint32(8, true),
    rawLength: v.getUint32(12, true),
    crc: v.getUint32(16, true),
    codec: t[20]! as Codec,
  };
}

export function checksum(b: Uint8Array): number {
  return crc32(b) >>> 0;
}
