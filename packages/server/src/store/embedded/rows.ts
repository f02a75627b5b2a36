// Span <-> row for the spans table, and the id registries of the shared
// resources and scopes. Both loaders (CSV bulk load and DataChunk appender)
// take their values from here, so they write identical rows.

import type { InstrumentationScope, Resource, Span, SpanKind, StatusCode } from '@ariadne/model';
import { decodeAttributes, decodeEvents, decodeLinks, encodeAttributes, encodeEvents, encodeLinks, escapeText, unescapeText } from './codec.js';

const FS = '\x1c';

/** The column values of one span row, in SPAN_COLUMNS order, as text or numbers. */
export interface SpanRow {
  traceId: string;
  spanId: string;
  /** '' for a root */
  parentSpanId: string;
  service: string;
  name: string;
  kind: number;
  start: bigint;
  duration: bigint;
  /** only when the end precedes the start */
  end: bigint | null;
  statusCode: number;
  flags: number;
  resourceId: number;
  scopeId: number;
  attrs: string;
  extra: string;
  events: string;
  links: string;
  droppedAttrs: number;
  droppedEvents: number;
  droppedLinks: number;
}

export function spanRow(s: Span, resourceId: number, scopeId: number): SpanRow {
  const d = s.endTimeUnixNano - s.startTimeUnixNano;
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId,
    service: escapeText(s.service),
    name: escapeText(s.name),
    kind: s.kind,
    start: s.startTimeUnixNano,
    duration: d < 0n ? 0n : d,
    end: d < 0n ? s.endTimeUnixNano : null,
    statusCode: s.status.code,
    flags: s.flags,
    resourceId,
    scopeId,
    attrs: encodeAttributes(s.attributes),
    extra: s.traceState === '' && s.status.message === '' ? '' : escapeText(s.traceState) + FS + escapeText(s.status.message),
    events: encodeEvents(s.events),
    links: encodeLinks(s.links),
    droppedAttrs: s.droppedAttributesCount,
    droppedEvents: s.droppedEventsCount,
    droppedLinks: s.droppedLinksCount,
  };
}

/** Columns read back for a full span, in this order. */
export const SPAN_READ_COLUMNS =
  'span_id, parent_id, service, name, kind, start_ns, duration_ns, end_ns, status_code, flags, resource_id, scope_id, attrs, extra, events, links, dropped_attrs, dropped_events, dropped_links';

export function hex16(v: bigint): string {
  return v.toString(16).padStart(16, '0');
}

export function hex32(v: bigint): string {
  return v.toString(16).padStart(32, '0');
}

export function traceIdValue(traceId: string): bigint {
  return BigInt('0x' + traceId);
}

/** One row of SPAN_READ_COLUMNS back into a Span. */
export function spanFromRow(traceId: string, r: readonly unknown[], resource: Resource, scope: InstrumentationScope): Span {
  const start = r[5] as bigint;
  const end = r[7] as bigint | null;
  const extra = r[13] as string;
  const fs = extra.indexOf(FS);
  const parent = r[1] as bigint;
  return {
    traceId,
    spanId: hex16(r[0] as bigint),
    parentSpanId: parent === 0n ? '' : hex16(parent),
    traceState: fs < 0 ? '' : unescapeText(extra.slice(0, fs)),
    flags: r[9] as number,
    name: unescapeText(r[3] as string),
    kind: r[4] as SpanKind,
    startTimeUnixNano: start,
    endTimeUnixNano: end ?? start + (r[6] as bigint),
    attributes: decodeAttributes(r[12] as string),
    droppedAttributesCount: r[16] as number,
    events: decodeEvents(r[14] as string),
    droppedEventsCount: r[17] as number,
    links: decodeLinks(r[15] as string),
    droppedLinksCount: r[18] as number,
    status: { code: r[8] as StatusCode, message: fs < 0 ? '' : unescapeText(extra.slice(fs + 1)) },
    resource,
    scope,
    service: unescapeText(r[2] as string),
  };
}

// --- shared resources and scopes -------------------------------------------------------

export interface ResourceRow {
  id: number;
  attrs: string;
  dropped: number;
  schemaUrl: string;
}

export interface ScopeRow extends ResourceRow {
  name: string;
  version: string;
}

/** Identity of a stored resource row: equal keys mean equal resources. */
export function resourceKey(r: Omit<ResourceRow, 'id'>): string {
  return r.attrs + FS + r.dropped + FS + r.schemaUrl;
}

export function scopeKey(s: Omit<ScopeRow, 'id'>): string {
  return s.name + FS + s.version + FS + resourceKey(s);
}

export function resourceRowKey(r: Resource): Omit<ResourceRow, 'id'> & { key: string } {
  const row = { attrs: encodeAttributes(r.attributes), dropped: r.droppedAttributesCount, schemaUrl: escapeText(r.schemaUrl) };
  return { ...row, key: resourceKey(row) };
}

export function scopeRowKey(s: InstrumentationScope): Omit<ScopeRow, 'id'> & { key: string } {
  const row = { attrs: encodeAttributes(s.attributes), dropped: s.droppedAttributesCount, schemaUrl: escapeText(s.schemaUrl), name: escapeText(s.name), version: escapeText(s.version) };
  return { ...row, key: scopeKey(row) };
}

export function resourceFromRow(attrs: string, dropped: number, schemaUrl: string): Resource {
  return { attributes: decodeAttributes(attrs), droppedAttributesCount: dropped, schemaUrl: unescapeText(schemaUrl) };
}

export function scopeFromRow(name: string, version: string, attrs: string, dropped: number, schemaUrl: string): InstrumentationScope {
  return { name: unescapeText(name), version: unescapeText(version), ...resourceFromRow(attrs, dropped, schemaUrl) };
}

/**
 * Gives each distinct resource (or scope) a numeric id. Spans of one OTLP
 * request share the resource object, so the object cache makes the common
 * case one WeakMap lookup. Ids handed out during a load stay pending until
 * the load commits; a rolled-back load forgets them so they are inserted
 * again next time. Never reuses an id, so a forgotten one cannot collide.
 */
export class Registry<T extends object, R extends { id: number }> {
  private byObject = new WeakMap<T, number>();
  private byKey = new Map<string, number>();
  private pending: { obj: T; key: string; row: R }[] = [];

  constructor(
    private nextId: number,
    private readonly describe: (obj: T) => Omit<R, 'id'> & { key: string },
    private readonly rowKey: (row: R) => string,
    private readonly maxCached = 100_000,
  ) {}

  idOf(obj: T): number {
    const known = this.byObject.get(obj);
    if (known !== undefined) return known;
    const { key, ...fields } = this.describe(obj);
    let id = this.byKey.get(key);
    if (id === undefined) {
      id = this.nextId++;
      this.byKey.set(key, id);
      this.pending.push({ obj, key, row: { ...fields, id } as unknown as R });
    }
    this.byObject.set(obj, id);
    return id;
  }

  /** Makes stored rows known again after a restart (the most recent `maxCached` of them). */
  preload(rows: Iterable<R>): void {
    for (const row of rows) {
      if (this.byKey.size >= this.maxCached) break;
      this.byKey.set(this.rowKey(row), row.id);
    }
  }

  /** Rows first seen since the last commit. */
  pendingRows(): R[] {
    return this.pending.map((p) => p.row);
  }

  /** The objects behind pendingRows(). */
  pendingObjects(): T[] {
    return this.pending.map((p) => p.obj);
  }

  commit(): void {
    this.pending = [];
    // A client sending a new resource per request must not grow memory without
    // bound: forgetting costs only a duplicate row later.
    if (this.byKey.size > this.maxCached) this.forget();
  }

  rollback(): void {
    for (const p of this.pending) {
      this.byKey.delete(p.key);
      this.byObject.delete(p.obj);
    }
    this.pending = [];
  }

  /** Forgets every known id (after rows were garbage-collected). Keeps pending rows. */
  forget(): void {
    this.byKey = new Map(this.pending.map((p) => [p.key, p.row.id]));
    this.byObject = new WeakMap(this.pending.map((p) => [p.obj, p.row.id]));
  }
}
