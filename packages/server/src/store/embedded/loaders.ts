// Two ways to move a batch of span rows into DuckDB inside the caller's
// transaction:
//
//   appender  JS fills DataChunks of 2048 rows and appends them, flushing
//             the appender after each chunk so no single step holds the event
//             loop for long (~2 ms a chunk). The default: fastest measured here.
//   csv       JS writes the batch as one CSV file and DuckDB's parallel reader
//             parses and inserts it on its own threads. The same main-thread
//             cost per row on this 2-core machine, lower throughput; might pay
//             off with many cores. A batch that fails this way is retried
//             through the appender.
//
// Measured numbers for both: docs/design/storage.md.

import { open, unlink } from 'node:fs/promises';
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import { DuckDBDataChunk, VARCHAR } from '@duckdb/node-api';
import { SPAN_COLUMNS } from './schema.js';
import type { SpanRow } from './rows.js';

export type Loader = 'csv' | 'appender';

/** Rows of encoding work between two turns of the event loop, so a flush never stalls requests for long. */
export const YIELD_EVERY = 512;

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const COLUMN_NAMES = SPAN_COLUMNS.map((c) => c.name).join(', ');

/**
 * CSV text written straight into a Buffer as UTF-8: no per-line strings to
 * join and no second copy when writing. Spilled to the file every 16 MB.
 */
class CsvBuffer {
  private buf = Buffer.allocUnsafe(1 << 20);
  private n = 0;
  private lineStart = 0;
  /** Longest line so far, in bytes. */
  longest = 0;

  private ensure(bytes: number): void {
    if (this.n + bytes <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + bytes));
    this.buf.copy(bigger, 0, 0, this.n);
    this.buf = bigger;
  }

  /** Text known to be ASCII without quotes or commas (ids, numbers). */
  ascii(s: string): void {
    this.ensure(s.length);
    this.n += this.buf.write(s, this.n, 'latin1');
  }

  quoted(s: string): void {
    const t = s.includes('"') ? s.replaceAll('"', '""') : s;
    this.ensure(t.length * 3 + 2);
    this.buf[this.n++] = 34;
    this.n += this.buf.write(t, this.n, 'utf8');
    this.buf[this.n++] = 34;
  }

  endLine(): void {
    this.ensure(1);
    this.buf[this.n++] = 10;
    if (this.n - this.lineStart > this.longest) this.longest = this.n - this.lineStart;
    this.lineStart = this.n;
  }

  get size(): number {
    return this.n;
  }

  take(): Buffer {
    const out = this.buf.subarray(0, this.n);
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.n = this.lineStart = 0;
    return out;
  }
}

function writeRow(w: CsvBuffer, r: SpanRow): void {
  w.ascii(r.traceId + ',0x' + r.spanId + ',' + (r.parentSpanId ? '0x' + r.parentSpanId : '0') + ',');
  w.quoted(r.service);
  w.ascii(',');
  w.quoted(r.name);
  w.ascii(`,${r.kind},${r.start},${r.duration},${r.end ?? ''},${r.statusCode},${r.flags},${r.resourceId},${r.scopeId},`);
  w.quoted(r.attrs);
  w.ascii(',');
  w.quoted(r.extra);
  w.ascii(',');
  w.quoted(r.events);
  w.ascii(',');
  w.quoted(r.links);
  w.ascii(`,${r.droppedAttrs},${r.droppedEvents},${r.droppedLinks}`);
  w.endLine();
}

// The CSV carries trace ids as hex text (DuckDB cannot cast 32 hex digits to
// UHUGEINT directly); span ids as 0x-prefixed hex, which UBIGINT parses.
const CSV_COLUMNS = SPAN_COLUMNS.map((c) => `'${c.name}': '${c.name === 'trace_id' ? 'VARCHAR' : c.sql.replace(' NOT NULL', '')}'`).join(', ');
const TRACE_ID_FROM_HEX = `((('0x' || substr(trace_id, 1, 16))::UBIGINT::UHUGEINT) << 64) | ('0x' || substr(trace_id, 17, 16))::UBIGINT::UHUGEINT`;

/** Row i of a batch, encoded when the loader gets to it, so encoded rows die young. */
export type RowSource = { count: number; row(i: number): SpanRow };

export async function loadCsv(c: DuckDBConnection, rows: RowSource, path: string): Promise<void> {
  const w = new CsvBuffer();
  const fh = await open(path, 'w');
  try {
    for (let i = 0; i < rows.count; i++) {
      writeRow(w, rows.row(i));
      if (w.size >= 16 << 20) await fh.write(w.take());
      else if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop();
    }
    if (w.size) await fh.write(w.take());
  } finally {
    await fh.close();
  }
  const longest = w.longest;
  try {
    // Sized for the longest line of this batch.
    const maxLine = Math.max(2 << 20, longest + 1024);
    const buffer = Math.max(32 << 20, maxLine * 2);
    await c.run(
      `INSERT INTO spans (${COLUMN_NAMES}) SELECT ${TRACE_ID_FROM_HEX}, * EXCLUDE (trace_id) FROM read_csv($1, header = false, ` +
        `delim = ',', quote = '"', escape = '"', new_line = '\\n', allow_quoted_nulls = false, auto_detect = false, ` +
        `strict_mode = true, max_line_size = ${maxLine}, buffer_size = ${buffer}, columns = {${CSV_COLUMNS}})`,
      [path],
      [VARCHAR],
    );
  } finally {
    await unlink(path).catch(() => {});
  }
}

const CHUNK_ROWS = 2048; // DuckDB's vector size: the most a DataChunk holds

export async function loadAppender(c: DuckDBConnection, rows: RowSource): Promise<void> {
  const appender = await c.createAppender('spans');
  const chunk = DuckDBDataChunk.create(SPAN_COLUMNS.map((col) => col.type));
  await closing(appender, async () => {
    for (let off = 0; off < rows.count; off += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, rows.count - off);
      const cols: unknown[][] = SPAN_COLUMNS.map(() => new Array(n));
      for (let i = 0; i < n; i++) {
        const r = rows.row(off + i);
        cols[0]![i] = BigInt('0x' + r.traceId);
        cols[1]![i] = BigInt('0x' + r.spanId);
        cols[2]![i] = r.parentSpanId ? BigInt('0x' + r.parentSpanId) : 0n;
        cols[3]![i] = r.service;
        cols[4]![i] = r.name;
        cols[5]![i] = r.kind;
        cols[6]![i] = r.start;
        cols[7]![i] = r.duration;
        cols[8]![i] = r.end;
        cols[9]![i] = r.statusCode;
        cols[10]![i] = r.flags;
        cols[11]![i] = r.resourceId;
        cols[12]![i] = r.scopeId;
        cols[13]![i] = r.attrs;
        cols[14]![i] = r.extra;
        cols[15]![i] = r.events;
        cols[16]![i] = r.links;
        cols[17]![i] = r.droppedAttrs;
        cols[18]![i] = r.droppedEvents;
        cols[19]![i] = r.droppedLinks;
      }
      chunk.reset();
      chunk.rowCount = n;
      chunk.setColumns(cols as Parameters<DuckDBDataChunk['setColumns']>[0]);
      appender.appendDataChunk(chunk);
      // Inside the caller's transaction this moves rows to its local storage, not commits.
      appender.flushSync();
      await yieldToEventLoop();
    }
  });
}

/** Appends a few rows (resources, scopes, operations) through the row API; `types` per column. */
export async function appendRows(c: DuckDBConnection, table: string, types: readonly ('text' | 'u32' | 'u8')[], rows: readonly (readonly (string | number)[])[]): Promise<void> {
  if (rows.length === 0) return;
  const appender = await c.createAppender(table);
  await closing(appender, () => {
    for (const row of rows) {
      row.forEach((v, i) => {
        if (types[i] === 'text') appender.appendVarchar(v as string);
        else if (types[i] === 'u8') appender.appendUTinyInt(v as number);
        else appender.appendUInteger(v as number);
      });
      appender.endRow();
    }
  });
}

/** Runs `fill`, then flushes and closes the appender; a close error never hides the first one. */
async function closing(appender: DuckDBAppender, fill: () => void | Promise<void>): Promise<void> {
  let ok = false;
  try {
    await fill();
    appender.flushSync();
    ok = true;
  } finally {
    try {
      appender.closeSync();
    } catch (e) {
      if (ok) throw e;
    }
  }
}
