// The embedded store's on-disk schema (format v1) and its version check.
// Rationale and measurements: docs/design/storage.md.

import type { DuckDBConnection, DuckDBType } from '@duckdb/node-api';
import { UBIGINT, UHUGEINT, UINTEGER, UTINYINT, VARCHAR } from '@duckdb/node-api';

/** Bumped on any incompatible change; older formats stay readable or are migrated on open. */
export const FORMAT_VERSION = 1;

/**
 * One row per stored span copy. Rows are appended in flush batches, each batch
 * ordered by trace id then start, so a trace's spans are contiguous (cheap
 * point lookups through zonemaps, trace_id RLE-compresses) while batches stay
 * in arrival order (start_ns zonemaps prune time ranges).
 */
export const SPAN_COLUMNS: readonly { name: string; sql: string; type: DuckDBType }[] = [
  { name: 'trace_id', sql: 'UHUGEINT NOT NULL', type: UHUGEINT },
  { name: 'span_id', sql: 'UBIGINT NOT NULL', type: UBIGINT },
  /** 0 for a root span (valid span ids are never all zero). */
  { name: 'parent_id', sql: 'UBIGINT NOT NULL', type: UBIGINT },
  /** escapeText(span.service) */
  { name: 'service', sql: 'VARCHAR NOT NULL', type: VARCHAR },
  /** escapeText(span.name) */
  { name: 'name', sql: 'VARCHAR NOT NULL', type: VARCHAR },
  { name: 'kind', sql: 'UTINYINT NOT NULL', type: UTINYINT },
  { name: 'start_ns', sql: 'UBIGINT NOT NULL', type: UBIGINT },
  /** end - start, or 0 when the end precedes the start (then end_ns holds it). */
  { name: 'duration_ns', sql: 'UBIGINT NOT NULL', type: UBIGINT },
  { name: 'end_ns', sql: 'UBIGINT', type: UBIGINT },
  { name: 'status_code', sql: 'UTINYINT NOT NULL', type: UTINYINT },
  { name: 'flags', sql: 'UINTEGER NOT NULL', type: UINTEGER },
  { name: 'resource_id', sql: 'UINTEGER NOT NULL', type: UINTEGER },
  { name: 'scope_id', sql: 'UINTEGER NOT NULL', type: UINTEGER },
  /** encodeAttributes(span.attributes): stored value and search haystack at once. */
  { name: 'attrs', sql: 'VARCHAR NOT NULL', type: VARCHAR },
  /** escapeText(traceState) FS escapeText(status.message): rarely set, never searched. */
  { name: 'extra', sql: 'VARCHAR NOT NULL', type: VARCHAR },
  { name: 'events', sql: 'VARCHAR NOT NULL', type: VARCHAR },
  { name: 'links', sql: 'VARCHAR NOT NULL', type: VARCHAR },
  { name: 'dropped_attrs', sql: 'UINTEGER NOT NULL', type: UINTEGER },
  { name: 'dropped_events', sql: 'UINTEGER NOT NULL', type: UINTEGER },
  { name: 'dropped_links', sql: 'UINTEGER NOT NULL', type: UINTEGER },
];

const DDL = [
  `CREATE TABLE IF NOT EXISTS meta (key VARCHAR NOT NULL, value VARCHAR NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS spans (${SPAN_COLUMNS.map((c) => `${c.name} ${c.sql}`).join(', ')})`,
  // Resources and scopes are shared by many spans: stored once, referenced by id.
  // attrs uses the same encoding as spans.attrs, so resource attributes are searchable.
  `CREATE TABLE IF NOT EXISTS resources (id UINTEGER NOT NULL, attrs VARCHAR NOT NULL, dropped UINTEGER NOT NULL, schema_url VARCHAR NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS scopes (id UINTEGER NOT NULL, name VARCHAR NOT NULL, version VARCHAR NOT NULL, attrs VARCHAR NOT NULL, dropped UINTEGER NOT NULL, schema_url VARCHAR NOT NULL)`,
  // Jaeger's operation_names: services() and operations() never scan spans.
  `CREATE TABLE IF NOT EXISTS operations (service VARCHAR NOT NULL, name VARCHAR NOT NULL, kind UTINYINT NOT NULL)`,
  // Attribute keys present on spans (kind 0) and resources (kind 1); see keys.ts.
  `CREATE TABLE IF NOT EXISTS attr_keys (key VARCHAR NOT NULL, kind UTINYINT NOT NULL)`,
];

/** Creates the tables of a new database, or checks the format of an existing one. */
export async function prepareSchema(c: DuckDBConnection): Promise<void> {
  const exists = (await c.runAndReadAll(`SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'`)).getRows()[0]![0] !== 0n;
  if (exists) {
    const rows = (await c.runAndReadAll(`SELECT value FROM meta WHERE key = 'format'`)).getRows();
    const format = Number(rows[0]?.[0] ?? NaN);
    if (format !== FORMAT_VERSION) {
      throw new Error(
        format > FORMAT_VERSION
          ? `embedded store: data is format ${format}, written by a newer Ariadne; this version reads format ${FORMAT_VERSION}`
          : `embedded store: unknown data format ${JSON.stringify(rows[0]?.[0] ?? null)}`,
      );
    }
    // Databases from before attr_keys existed: add it, marked "keys unknown, always scan".
    const hasKeys = (await c.runAndReadAll(`SELECT count(*) FROM information_schema.tables WHERE table_name = 'attr_keys'`)).getRows()[0]![0] !== 0n;
    if (!hasKeys) {
      await c.run('BEGIN TRANSACTION');
      await c.run(DDL.find((d) => d.includes(' attr_keys '))!);
      await c.run(`INSERT INTO attr_keys VALUES ('', 10), ('', 11)`);
      await c.run('COMMIT');
    }
    return;
  }
  await c.run('BEGIN TRANSACTION');
  for (const stmt of DDL) await c.run(stmt);
  await c.run(`INSERT INTO meta VALUES ('format', $1)`, [String(FORMAT_VERSION)], [VARCHAR]);
  await c.run('COMMIT');
}
