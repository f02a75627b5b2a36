// Two ways to move a batch of span rows into DuckDB inside the caller's
// transaction:
//
//   csv       JS writes the batch as one CSV file; DuckDB's parallel reader
//             parses and inserts it on its own threads. The event loop only
//             builds text (~3 µs/span). The default.
//   appender  JS fills DataChunks of 2048 rows and appends them. Every value
//             crosses into native code on the event loop, and the commit
//             happens there too. Used when a CSV load fails, and as an option.
//
// Measured numbers for both: docs/design/storage.md.

import { open, unlink } from 'node:fs/promises';
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import { DuckDBDataChunk, VARCHAR } from '@duckdb/node-api';
import { SPAN_COLUMNS } from './schema.js';
import type { SpanRow } from './rows.js';

export type Loader = 'csv' | 'appender';

const COLUMN_NAMES = SPAN_COLUMNS.map((c) => c.name).join(', ');

function q(s: string): string {
  return '"' + (s.includes('"') ? s.replaceAll('"', '""') : s) + '"';
}

function csvLine(r: SpanRow): string {
  return (
    r.traceId + ',0x' + r.spanId + ',' + (r.parentSpanId ? '0x' + r.parentSpanId : '0') + ',' + q(r.service) + ',' + q(r.name) + ',' +
    r.kind + ',' + r.start + ',' + r.duration + ',' + (r.end ?? '') + ',' + r.statusCode + ',' + r.flags + ',' + r.resourceId + ',' +
    r.scopeId + ',' + q(r.attrs) + ',' + q(r.extra) + ',' + q(r.events) + ',' + q(r.links) + ',' + r.droppedAttrs + ',' +
    r.droppedEvents + ',' + r.droppedLinks
  );
}

// The CSV carries trace ids as hex text (DuckDB cannot cast 32 hex digits to
// UHUGEINT directly); span ids as 0x-prefixed hex, which UBIGINT parses.
const CSV_COLUMNS = SPAN_COLUMNS.map((c) => `'${c.name}': '${c.name === 'trace_id' ? 'VARCHAR' : c.sql.replace(' NOT NULL', '')}'`).join(', ');
const TRACE_ID_FROM_HEX = `((('0x' || substr(trace_id, 1, 16))::UBIGINT::UHUGEINT) << 64) | ('0x' || substr(trace_id, 17, 16))::UBIGINT::UHUGEINT`;

export async function loadCsv(c: DuckDBConnection, rows: readonly SpanRow[], path: string): Promise<void> {
  let longest = 0;
  const fh = await open(path, 'w');
  try {
    // Written in parts: one string for a large batch could pass V8's string limit.
    const PART = 8192;
    for (let i = 0; i < rows.length; i += PART) {
      const lines: string[] = [];
      for (let j = i; j < Math.min(i + PART, rows.length); j++) {
        const line = csvLine(rows[j]!);
        if (line.length > longest) longest = line.length;
        lines.push(line);
      }
      await fh.write(lines.join('\n') + '\n');
    }
  } finally {
    await fh.close();
  }
  try {
    // Sized for the longest line of this batch (UTF-8 takes at most 3 bytes per UTF-16 unit).
    const maxLine = Math.max(2 << 20, longest * 3 + 1024);
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

const CHUNK_ROWS = 2048;

export async function loadAppender(c: DuckDBConnection, rows: readonly SpanRow[]): Promise<void> {
  const appender = await c.createAppender('spans');
  const chunk = DuckDBDataChunk.create(SPAN_COLUMNS.map((col) => col.type));
  await closing(appender, async () => {
    for (let off = 0; off < rows.length; off += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, rows.length - off);
      const cols: unknown[][] = SPAN_COLUMNS.map(() => new Array(n));
      for (let i = 0; i < n; i++) {
        const r = rows[off + i]!;
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
      // Let the event loop breathe between chunks.
      await new Promise<void>((resolve) => setImmediate(resolve));
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
