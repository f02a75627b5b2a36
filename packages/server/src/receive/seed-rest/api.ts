// Seed 004's REST API, same request and response shapes, over ordinary
// spans: a span made here goes through the Ingester (store + WAL) like an
// OTLP span, and every trace in the store reads back through these routes.
//
//   POST /traces/start ─────────┐ open span ──► OpenSpans (memory, bounded)
//   POST /traces/span (no dur.) ┘                  │ finish / timeout / eviction
//   POST /traces/span (duration) ──────────────────┴──► Ingester ──► store + WAL
//   GET  /traces/... , /stats  ◄── store.getTrace / search  +  open spans
//
// See README.md beside this file for ids, units and the open-span rules.

import { randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { Gauge, Counter } from 'prom-client';
import type { z } from 'zod';
import type { KeyValue, Resource, Span, TraceQuery } from '@ariadne/model';
import { MAX_SEARCH_LIMIT, SpanKind, StatusCode, analyzeTrace, buildTree, isValidTraceId } from '@ariadne/model';
import type { Ingester, IngestOutcome } from '../../pipeline/ingest.js';
import { walRecordOfSpans } from '../../pipeline/ingest.js';
import type { Metrics } from '../../metrics.js';
import type { TraceStore } from '../../store/types.js';
import { normalizeQuery, spanMatches, summarizeTrace, summarySpanOf } from '../../store/query.js';
import type { OpenSpan, OpenSpansOptions, UnfinishedReason } from './open-spans.js';
import { OpenSpans } from './open-spans.js';
import { incomingContext } from './propagation.js';
import { finishBody, queryParams, spanBody, startBody, statsParams, validate, type Invalid } from './schema.js';
import {
  nanosToMillis,
  rootOf,
  seedStatusOf,
  statusCodeOf,
  tagsToAttributes,
  toSeedSpan,
  toSeedSummary,
  traceDurationNanos,
  traceStatusOf,
  unixNanosToMillis,
  type SeedSpanStatus,
  type SeedTraceSummaryJson,
} from './convert.js';
import { computeStats, type SeedStatsJson } from './stats.js';

const RECEIVER = 'seed_rest';
const SCOPE = { name: '@ariadne/seed-rest', version: '1', attributes: [], droppedAttributesCount: 0, schemaUrl: '' };
/** Marks a span written because it was never finished; the value is why (timeout, evicted, shutdown). */
export const UNFINISHED_ATTRIBUTE = 'ariadne.unfinished';
const RECENTLY_FINISHED = 10_000;

export interface SeedRestOptions extends OpenSpansOptions {
  ingester: Ingester;
  store: TraceStore;
  metrics: Metrics;
  /** largest request body; default 64 KiB */
  maxBodyBytes?: number;
  /** /stats reads at most this many (newest) traces; default 10,000 */
  statsMaxTraces?: number;
  /** /stats reads this many finished traces whole for per-service self time; default 100 */
  statsSampleTraces?: number;
  /** how often open spans are checked for the timeout; default min(10 s, timeout / 2) */
  sweepIntervalMs?: number;
  log?: (msg: string) => void;
  /** unix ns; injectable for tests */
  now?: () => bigint;
}

export interface SeedRest {
  app: Hono;
  open: OpenSpans;
  /** Writes the spans still open as unfinished (reason 'shutdown'); call before closing the ingester. */
  close(): Promise<void>;
}

/** Wall-clock unix nanoseconds, advancing with the monotonic clock between readings of the wall clock. */
function nanoClock(): () => bigint {
  const anchor = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  return () => anchor + process.hrtime.bigint();
}

function randomHex(bytes: number): string {
  for (;;) {
    const id = randomBytes(bytes).toString('hex');
    if (!/^0+$/.test(id)) return id;
  }
}

export function seedRestApi(opts: SeedRestOptions): SeedRest {
  const { ingester, store, metrics } = opts;
  const log = opts.log ?? (() => {});
  const now = opts.now ?? nanoClock();
  const open = new OpenSpans(opts);
  const maxBodyBytes = opts.maxBodyBytes ?? 64 * 1024;
  const statsMaxTraces = opts.statsMaxTraces ?? MAX_SEARCH_LIMIT;
  const statsSampleTraces = opts.statsSampleTraces ?? 100;

  const r = { registers: [metrics.registry] };
  new Gauge({ name: 'ariadne_seed_open_spans', help: 'Spans opened through the seed REST API and not finished yet', ...r, collect() { this.set(open.size); } });
  new Gauge({ name: 'ariadne_seed_active_traces', help: 'Traces with a span open through the seed REST API', ...r, collect() { this.set(open.activeTraces); } });
  const unfinished = new Counter({ name: 'ariadne_seed_unfinished_spans_total', help: 'Open seed REST spans written unfinished, by reason (timeout, evicted, shutdown)', labelNames: ['reason'], ...r });

  // --- writing ------------------------------------------------------------------------

  const resources = new Map<string, Resource>();
  const resourceOf = (service: string): Resource => {
    let res = resources.get(service);
    if (!res) {
      if (resources.size >= 1000) resources.clear();
      res = { attributes: [{ key: 'service.name', value: { stringValue: service } }], droppedAttributesCount: 0, schemaUrl: '' };
      resources.set(service, res);
    }
    return res;
  };

  const newSpanId = (): string => {
    for (;;) {
      const id = randomHex(8);
      if (!open.has(id)) return id;
    }
  };

  const makeSpan = (f: {
    traceId: string;
    spanId: string;
    parentSpanId: string;
    service: string;
    name: string;
    kind: SpanKind;
    start: bigint;
    end: bigint;
    attributes: KeyValue[];
    status: StatusCode;
    statusMessage: string;
  }): Span => ({
    traceId: f.traceId,
    spanId: f.spanId,
    parentSpanId: f.parentSpanId,
    traceState: '',
    flags: 1,
    name: f.name,
    kind: f.kind,
    startTimeUnixNano: f.start,
    endTimeUnixNano: f.end,
    attributes: f.attributes,
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: f.status, message: f.statusMessage },
    resource: resourceOf(f.service),
    scope: SCOPE,
    service: f.service,
  });

  const write = (spans: Span[]): Promise<IngestOutcome> => {
    metrics.spansReceived.inc({ receiver: RECEIVER }, spans.length);
    return ingester.ingest(RECEIVER, spans, walRecordOfSpans(spans));
  };

  // Spans finished here lately, so that finishing one again (a retry, or seed 004's own example,
  // which finishes a span it recorded with a duration) is a no-op rather than a 404.
  const finished = new Map<string, { traceId: string; duration: number; status: SeedSpanStatus }>();
  const remember = (span: Span) => {
    if (finished.size >= RECENTLY_FINISHED) finished.delete(finished.keys().next().value!);
    finished.set(span.spanId, { traceId: span.traceId, duration: nanosToMillis(span.endTimeUnixNano - span.startTimeUnixNano), status: seedStatusOf(span, false) });
  };

  const pending = new Set<Promise<unknown>>();
  /** Writes spans that were never finished: ended now, marked with why. */
  const writeUnfinished = (list: OpenSpan[], reason: UnfinishedReason): Promise<void> => {
    if (!list.length) return Promise.resolve();
    const t = now();
    const spans = list.map((o) => ({
      ...o.span,
      endTimeUnixNano: t > o.span.startTimeUnixNano ? t : o.span.startTimeUnixNano,
      attributes: [...o.span.attributes, { key: UNFINISHED_ATTRIBUTE, value: { stringValue: reason } }],
    }));
    unfinished.inc({ reason }, spans.length);
    const p = write(spans).then((out) => {
      if (!out.ok) log(`seed REST: ${spans.length} unfinished spans (${reason}) could not be written: ${out.message}`);
    });
    pending.add(p);
    void p.finally(() => pending.delete(p));
    return p;
  };

  const sweepMs = opts.sweepIntervalMs ?? Math.max(10, Math.min(10_000, open.timeoutMs / 2));
  const sweeper = setInterval(() => void writeUnfinished(open.expire(), 'timeout'), sweepMs);
  sweeper.unref();

  // --- reading ------------------------------------------------------------------------

  /** Stored spans plus the open ones (ending now, for the moment), deduplicated by span id. */
  const loadTrace = async (traceId: string): Promise<{ spans: Span[]; openIds: Set<string> }> => {
    // Open spans first: one finishing meanwhile then shows up twice at worst, and the stored copy wins.
    const opened = open.ofTrace(traceId);
    const stored = await store.getTrace(traceId);
    const t = now();
    const seen = new Set(stored.map((s) => s.spanId));
    const openIds = new Set<string>();
    const spans = [...stored];
    for (const o of opened) {
      if (seen.has(o.span.spanId)) continue;
      openIds.add(o.span.spanId);
      spans.push({ ...o.span, endTimeUnixNano: t > o.span.startTimeUnixNano ? t : o.span.startTimeUnixNano });
    }
    spans.sort((a, b) => (a.startTimeUnixNano !== b.startTimeUnixNano ? (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1) : a.spanId < b.spanId ? -1 : 1));
    return { spans, openIds };
  };

  // --- responses ----------------------------------------------------------------------

  const fieldError = (c: Context, v: Invalid | { name: string; message: string }, reason: 'invalid_span' | 'decode_error' = 'invalid_span') => {
    metrics.requestsRefused.inc({ receiver: RECEIVER, reason });
    return c.json({ error: v.message, field: v.name }, 400);
  };
  const paramError = (c: Context, v: Invalid) => c.json({ error: v.message, param: v.name }, 400);
  const unavailable = (c: Context, out: Extract<IngestOutcome, { ok: false }>) => {
    c.header('Retry-After', '1');
    return c.json({ error: out.message }, 503);
  };

  const readBody = async (c: Context): Promise<{ ok: true; value: unknown; bytes: number } | { ok: false; message: string }> => {
    const text = await c.req.text();
    try {
      return { ok: true, value: JSON.parse(text), bytes: Buffer.byteLength(text) };
    } catch (e) {
      return { ok: false, message: `the body must be JSON: ${(e as Error).message}` };
    }
  };

  const traceIdParam = (c: Context): { ok: true; id: string } | { ok: false; res: Response } => {
    const id = c.req.param('traceId')!.toLowerCase();
    if (isValidTraceId(id)) return { ok: true, id };
    return { ok: false, res: c.json({ error: `parameter 'traceId' must be 32 hex characters, not all zero (a trace id this API returned)`, param: 'traceId' }, 400) };
  };

  const notFound = (c: Context, traceId: string) => c.json({ error: `trace ${traceId} not found` }, 404);

  const queryObject = (c: Context) => Object.fromEntries(new URL(c.req.url).searchParams);

  // --- routes -------------------------------------------------------------------------

  const app = new Hono();
  const limit = bodyLimit({
    maxSize: maxBodyBytes,
    onError: (c) => {
      metrics.requestsRefused.inc({ receiver: RECEIVER, reason: 'too_large' });
      return c.json({ error: `the body exceeds ${maxBodyBytes} bytes`, field: 'body' }, 413);
    },
  });

  app.post('/traces/start', limit, async (c) => {
    const body = await readBody(c);
    if (!body.ok) return fieldError(c, { name: 'body', message: body.message }, 'decode_error');
    const v = validate(startBody, body.value, 'field');
    if (!v.ok) return fieldError(c, v);
    const ctx = incomingContext((h) => c.req.header(h));
    if (!ctx.ok) return fieldError(c, { name: ctx.field, message: ctx.message });
    const b = v.value;
    const traceId = b.traceId ?? ctx.context?.traceId ?? randomHex(16);
    const parentSpanId = b.parentSpanId ?? (ctx.context?.traceId === traceId ? ctx.context.parentSpanId : undefined) ?? '';
    const spanId = newSpanId();
    const start = b.startTime ?? now();
    const span = makeSpan({
      traceId,
      spanId,
      parentSpanId,
      service: b.serviceName,
      name: b.operationName,
      kind: b.kind ?? SpanKind.SERVER,
      start,
      end: start,
      attributes: tagsToAttributes(b.tags),
      status: StatusCode.UNSET,
      statusMessage: '',
    });
    void writeUnfinished(open.open(span, body.bytes).evicted, 'evicted');
    c.header('traceparent', `00-${traceId}-${spanId}-01`);
    return c.json({ traceId, spanId });
  });

  app.post('/traces/span', limit, async (c) => {
    const body = await readBody(c);
    if (!body.ok) return fieldError(c, { name: 'body', message: body.message }, 'decode_error');
    const v = validate(spanBody, body.value, 'field');
    if (!v.ok) return fieldError(c, v);
    const ctx = incomingContext((h) => c.req.header(h));
    if (!ctx.ok) return fieldError(c, { name: ctx.field, message: ctx.message });
    const b = v.value;
    const traceId = b.traceId ?? ctx.context?.traceId;
    if (!traceId) return fieldError(c, { name: 'traceId', message: `field 'traceId' is required (in the body, or as an X-Trace-ID or traceparent header)` });
    const parentSpanId = b.parentSpanId ?? (ctx.context?.traceId === traceId ? ctx.context.parentSpanId : undefined) ?? '';
    const spanId = newSpanId();
    const fields = {
      traceId,
      spanId,
      parentSpanId,
      service: b.serviceName,
      name: b.operationName,
      kind: b.kind ?? SpanKind.SERVER,
      attributes: tagsToAttributes(b.tags),
      status: statusCodeOf(b.status),
      statusMessage: b.statusMessage ?? '',
    };
    if (b.duration === undefined) {
      const start = b.startTime ?? now();
      void writeUnfinished(open.open(makeSpan({ ...fields, start, end: start }), body.bytes).evicted, 'evicted');
      return c.json({ spanId });
    }
    let start = b.startTime;
    if (start === undefined) {
      // Reported after the fact: it ended now. A child of a span open here cannot have begun before it.
      const t = now();
      start = t > b.duration ? t - b.duration : 0n;
      const parent = parentSpanId ? open.get(parentSpanId)?.span : undefined;
      if (parent && parent.traceId === traceId && start < parent.startTimeUnixNano) start = parent.startTimeUnixNano;
    }
    const span = makeSpan({ ...fields, start, end: start + b.duration });
    const out = await write([span]);
    if (!out.ok) return unavailable(c, out);
    remember(span);
    return c.json({ spanId });
  });

  app.post('/traces/span/finish', limit, async (c) => {
    const body = await readBody(c);
    if (!body.ok) return fieldError(c, { name: 'body', message: body.message }, 'decode_error');
    const v = validate(finishBody, body.value, 'field');
    if (!v.ok) return fieldError(c, v);
    const b = v.value;
    const o = open.get(b.spanId);
    const done = o ? undefined : finished.get(b.spanId);
    if (done && (b.traceId === undefined || done.traceId === b.traceId)) return c.json({ spanId: b.spanId, ...done, alreadyFinished: true });
    if (!o || (b.traceId !== undefined && o.span.traceId !== b.traceId)) {
      return c.json({ error: `no open span ${b.spanId}${b.traceId ? ` in trace ${b.traceId}` : ''}: it was not started here, is already finished, or was open longer than ${open.timeoutMs / 1000}s` }, 404);
    }
    open.take(b.spanId);
    const t = now();
    const s = o.span;
    const tags = tagsToAttributes(b.tags);
    const replaced = new Set(tags.map((kv) => kv.key));
    const span: Span = {
      ...s,
      endTimeUnixNano: t > s.startTimeUnixNano ? t : s.startTimeUnixNano,
      status: b.status !== undefined ? { code: statusCodeOf(b.status), message: b.statusMessage ?? '' } : s.status,
      attributes: tags.length ? [...s.attributes.filter((kv) => !replaced.has(kv.key)), ...tags] : s.attributes,
    };
    const out = await write([span]);
    if (!out.ok) {
      open.restore(o);
      return unavailable(c, out);
    }
    remember(span);
    return c.json({ traceId: s.traceId, spanId: s.spanId, duration: nanosToMillis(span.endTimeUnixNano - span.startTimeUnixNano), status: seedStatusOf(span, false) });
  });

  // Before /traces/:traceId, which would otherwise take 'query' for an id.
  app.get('/traces/query', async (c) => {
    const v = validate(queryParams, queryObject(c), 'parameter');
    if (!v.ok) return paramError(c, v);
    return c.json(await queryTraces(v.value));
  });

  app.get('/traces/:traceId', async (c) => {
    const id = traceIdParam(c);
    if (!id.ok) return id.res;
    const { spans, openIds } = await loadTrace(id.id);
    if (!spans.length) return notFound(c, id.id);
    const root = rootOf(spans)!;
    return c.json({
      traceId: id.id,
      rootSpan: toSeedSpan(root, openIds.has(root.spanId)),
      spans: spans.filter((s) => s !== root).map((s) => toSeedSpan(s, openIds.has(s.spanId))),
      serviceCalls: spans.length,
      duration: nanosToMillis(traceDurationNanos(spans)),
      status: traceStatusOf(spans, openIds.size > 0),
    });
  });

  app.get('/traces/:traceId/visualize', async (c) => {
    const id = traceIdParam(c);
    if (!id.ok) return id.res;
    const { spans, openIds } = await loadTrace(id.id);
    if (!spans.length) return notFound(c, id.id);
    const root = rootOf(spans)!;
    const roots = buildTree(spans);
    const main = roots.find((n) => n.span === root) ?? roots[0]!;
    const head = JSON.stringify({ traceId: id.id, duration: nanosToMillis(traceDurationNanos(spans)), serviceCalls: spans.length }).slice(0, -1);
    const tree = nestedJson(main, openIds);
    const orphans = roots.filter((n) => n !== main).map((n) => nestedJson(n, openIds));
    // Built as text: a deep trace would overflow JSON.stringify's recursion.
    return c.body(`${head},"tree":${tree},"orphans":[${orphans.join(',')}]}`, 200, { 'content-type': 'application/json; charset=UTF-8' });
  });

  app.get('/traces/:traceId/analyze', async (c) => {
    const id = traceIdParam(c);
    if (!id.ok) return id.res;
    const { spans } = await loadTrace(id.id);
    if (!spans.length) return notFound(c, id.id);
    const a = analyzeTrace(spans);
    const label = (service: string, operation: string) => `${service}:${operation}`;
    const onPath: string[] = [];
    const seen = new Set<string>();
    for (const seg of a.criticalPath) {
      if (seen.has(seg.spanId)) continue;
      seen.add(seg.spanId);
      onPath.push(label(seg.service, seg.operation));
    }
    return c.json({
      traceId: id.id,
      totalDuration: nanosToMillis(a.totalDurationNanos),
      serviceCalls: spans.length,
      bottlenecks: a.bottlenecks.map((b) => ({ span: label(b.service, b.operation), spanId: b.spanId, duration: nanosToMillis(b.selfTimeNanos), percentage: b.percentage })),
      serviceBreakdown: Object.fromEntries(Object.entries(a.serviceBreakdown).map(([svc, ns]) => [svc, nanosToMillis(ns)])),
      criticalPath: onPath,
    });
  });

  const statsInFlight = new Map<string, Promise<SeedStatsJson>>();
  app.get('/stats', async (c) => {
    const v = validate(statsParams, queryObject(c), 'parameter');
    if (!v.ok) return paramError(c, v);
    const key = String(v.value.window ?? '');
    let p = statsInFlight.get(key);
    if (!p) {
      p = computeStats(store, open, now(), {
        ...(v.value.window !== undefined ? { windowNanos: v.value.window } : {}),
        maxTraces: statsMaxTraces,
        sampleTraces: statsSampleTraces,
        slowest: 5,
      });
      statsInFlight.set(key, p);
      void p.finally(() => statsInFlight.delete(key)).catch(() => {});
    }
    return c.json(await p);
  });

  // --- GET /traces/query --------------------------------------------------------------

  /**
   * Traces matching the store's search semantics (service, operation and
   * minDuration hold on one span), merged with the traces open here, then
   * filtered by trace status; newest first.
   */
  async function queryTraces(p: z.output<typeof queryParams>): Promise<SeedTraceSummaryJson[]> {
    const active = new Set(open.traceIds());
    const q: TraceQuery = {
      limit: Math.min(MAX_SEARCH_LIMIT, p.status === 'completed' ? p.limit * 10 : p.limit + active.size),
    };
    if (p.serviceName !== undefined) q.service = p.serviceName;
    if (p.operationName !== undefined) q.operation = p.operationName;
    if (p.minDuration !== undefined) q.minDurationNanos = p.minDuration;
    if (p.status === 'failed') q.status = 'error';
    const stored = await store.search(q);
    type Candidate = { traceId: string; start: bigint; summary?: (typeof stored)[number]; active: boolean };
    const candidates: Candidate[] = [];
    const inStore = new Set<string>();
    for (const s of stored) {
      inStore.add(s.traceId);
      candidates.push({ traceId: s.traceId, start: s.startTimeUnixNano, summary: s, active: active.has(s.traceId) });
    }
    if (p.status === undefined || p.status === 'active') {
      const nq = normalizeQuery({ ...q, status: undefined });
      const t = now();
      for (const traceId of active) {
        if (inStore.has(traceId)) continue;
        const spans = open.ofTrace(traceId).map((o) => ({ ...o.span, endTimeUnixNano: t > o.span.startTimeUnixNano ? t : o.span.startTimeUnixNano }));
        if (!spans.some((s) => spanMatches(s, nq))) continue;
        let start = spans[0]!.startTimeUnixNano;
        for (const s of spans) if (s.startTimeUnixNano < start) start = s.startTimeUnixNano;
        candidates.push({ traceId, start, active: true });
      }
    }
    const page = candidates
      .filter((x) =>
        p.status === undefined ? true
        : p.status === 'active' ? x.active
        : !x.active && (p.status === 'failed' ? x.summary!.errorCount > 0 : x.summary!.errorCount === 0),
      )
      .sort((a, b) => (a.start !== b.start ? (a.start > b.start ? -1 : 1) : a.traceId < b.traceId ? -1 : 1))
      .slice(0, p.limit);
    const rows = await Promise.all(
      page.map(async (x) => {
        if (!x.active) return toSeedSummary(x.summary!, false);
        // An active trace: summarize its stored and open spans together.
        const { spans, openIds } = await loadTrace(x.traceId);
        const summary = summarizeTrace(x.traceId, spans.map(summarySpanOf));
        return summary && toSeedSummary(summary, openIds.size > 0);
      }),
    );
    return rows.filter((r): r is SeedTraceSummaryJson => r !== undefined);
  }

  return {
    app,
    open,
    async close() {
      clearInterval(sweeper);
      await writeUnfinished(open.drain(), 'shutdown');
      await Promise.all([...pending]);
    },
  };
}

/** The seed's nested tree of one subtree as JSON text, built without recursion. */
function nestedJson(top: ReturnType<typeof buildTree>[number], openIds: ReadonlySet<string>): string {
  type Frame = { node: typeof top; next: number };
  const out: string[] = [];
  const head = (n: typeof top) => {
    const s = n.span;
    const fields = {
      spanId: s.spanId,
      serviceName: s.service,
      operationName: s.name,
      startTime: unixNanosToMillis(s.startTimeUnixNano),
      duration: nanosToMillis(s.endTimeUnixNano > s.startTimeUnixNano ? s.endTimeUnixNano - s.startTimeUnixNano : 0n),
      status: seedStatusOf(s, openIds.has(s.spanId)),
    };
    return JSON.stringify(fields).slice(0, -1) + ',"children":[';
  };
  const stack: Frame[] = [{ node: top, next: 0 }];
  out.push(head(top));
  while (stack.length) {
    const f = stack[stack.length - 1]!;
    if (f.next < f.node.children.length) {
      const child = f.node.children[f.next++]!;
      if (f.next > 1) out.push(',');
      out.push(head(child));
      stack.push({ node: child, next: 0 });
    } else {
      out.push(']}');
      stack.pop();
    }
  }
  return out.join('');
}
