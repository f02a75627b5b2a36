// What seed 000's full-chain.sh reads off one trace, over ordinary spans:
// events by type and by service, decorator-tracked functions, a timeline of
// the first events and the highlight totals; plus the status an async await
// reported. Event types use Raceway's names:
//
//   span event ariadne.state  ──► StateChange (write, atomic_write, atomic_rmw)
//                                 VariableAccess (read, atomic_read)
//   ariadne.async             ──► AsyncSpawn / AsyncAwait
//   ariadne.lock              ──► LockAcquire / LockRelease
//   raceway.<Kind>            ──► <Kind> (FunctionCall, HttpRequest, ...)
//   exception                 ──► Error       any other span event ──► SpanEvent
//   span with code.function   ──► FunctionCall (a call tracked by @ariadne/sdk's traced)
//
// Decorator-tracked: spans from traced (code.function / ariadne.args), and
// Raceway FunctionCall events named like a decorator names them (a dotted
// module path or a `:return` suffix), as full-chain.sh tells them apart.

import type { KeyValue, Span, SpanEvent } from '@ariadne/model';
import { ASYNC_EVENT, CausalAttr, LOCK_EVENT, STATE_EVENT, attributeText, findAttribute, stringAttribute, type AsyncPair } from '@ariadne/model';

export interface TimelineEntry {
  timeUnixNano: bigint;
  service: string;
  type: string;
  detail: string;
  traceId: string;
  spanId: string;
  threadId: string | null;
}

export interface DecoratedFunctions {
  /** Decorator-tracked calls (spans and events). */
  total: number;
  services: { service: string; calls: number; functions: string[] }[];
}

export interface TraceActivity {
  services: string[];
  spanCount: number;
  /** Events of every type (traced calls count as FunctionCall events). */
  totalEvents: number;
  /** Type → count, most frequent first. */
  eventTypes: Record<string, number>;
  eventsByService: { service: string; total: number; types: Record<string, number> }[];
  decorated: DecoratedFunctions;
  /** The first events by time. */
  timeline: TimelineEntry[];
  highlights: {
    functionCalls: number;
    asyncSpawned: number;
    asyncCompleted: number;
    stateChanges: number;
    variableAccesses: number;
    locksAcquired: number;
    decoratedCalls: number;
  };
}

interface Item {
  time: bigint;
  seq: number;
  span: Span;
  type: string;
  detail: string;
  threadId: string | null;
  /** Function name when decorator-tracked. */
  decorated?: string;
}

const attr = (attrs: readonly KeyValue[], key: string): string | undefined => stringAttribute(attrs, key);
const MAX_DETAIL = 120;
const clip = (s: string) => (s.length > MAX_DETAIL ? `${s.slice(0, MAX_DETAIL - 1)}…` : s);

function isDecoratedName(name: string): boolean {
  return name.includes('.') || name.endsWith(':return');
}

function eventItem(span: Span, ev: SpanEvent, seq: number): Item {
  const a = ev.attributes;
  const threadId = attr(a, CausalAttr.threadId) ?? attr(span.attributes, CausalAttr.threadId) ?? null;
  const item: Item = { time: ev.timeUnixNano, seq, span, type: 'SpanEvent', detail: ev.name, threadId };
  switch (ev.name) {
    case STATE_EVENT: {
      const access = attr(a, CausalAttr.access) ?? 'write';
      item.type = access === 'read' || access === 'atomic_read' ? 'VariableAccess' : 'StateChange';
      const value = attr(a, CausalAttr.newValue);
      item.detail = `${attr(a, CausalAttr.variable) ?? '?'} ${access}${value !== undefined ? ` = ${value}` : ''}`;
      break;
    }
    case ASYNC_EVENT: {
      const op = attr(a, CausalAttr.asyncOp);
      item.type = op === 'await' ? 'AsyncAwait' : 'AsyncSpawn';
      item.detail = `${op ?? 'spawn'}:${attr(a, CausalAttr.taskId) ?? '?'}`;
      break;
    }
    case LOCK_EVENT: {
      const op = attr(a, CausalAttr.lockOp);
      item.type = op === 'release' ? 'LockRelease' : 'LockAcquire';
      const type = attr(a, CausalAttr.lockType);
      item.detail = `${attr(a, CausalAttr.lockId) ?? '?'}${type ? ` (${type})` : ''}`;
      break;
    }
    case 'exception': {
      item.type = 'Error';
      const type = attr(a, 'exception.type');
      const msg = attr(a, 'exception.message') ?? '';
      item.detail = type ? `${type}: ${msg}` : msg;
      break;
    }
    default:
      if (ev.name.startsWith('raceway.')) {
        item.type = ev.name.slice('raceway.'.length);
        item.detail = racewayDetail(item.type, a);
        if (item.type === 'FunctionCall') {
          const fn = attr(a, 'raceway.function_name') ?? '';
          if (isDecoratedName(fn)) item.decorated = fn.split(':')[0]!;
        }
      }
  }
  item.detail = clip(item.detail);
  return item;
}

function racewayDetail(kind: string, a: readonly KeyValue[]): string {
  switch (kind) {
    case 'FunctionCall':
    case 'FunctionReturn':
      return attr(a, 'raceway.function_name') ?? '';
    case 'HttpRequest':
      return `${attr(a, 'raceway.method') ?? ''} ${attr(a, 'raceway.url') ?? ''}`.trim();
    case 'HttpResponse':
      return `status ${attr(a, 'raceway.status') ?? '?'}`;
    case 'DatabaseQuery':
      return attr(a, 'raceway.query') ?? '';
    case 'DatabaseResult':
      return `${attr(a, 'raceway.rows_affected') ?? '?'} rows`;
    case 'Custom':
      return attr(a, 'raceway.name') ?? '';
    default:
      return '';
  }
}

function items(spans: readonly Span[]): Item[] {
  const out: Item[] = [];
  let seq = 0;
  for (const span of spans) {
    const fn = attr(span.attributes, 'code.function');
    if (fn !== undefined || findAttribute(span.attributes, 'ariadne.args') !== undefined) {
      const name = fn ?? span.name;
      out.push({ time: span.startTimeUnixNano, seq: seq++, span, type: 'FunctionCall', detail: clip(name), threadId: attr(span.attributes, CausalAttr.threadId) ?? null, decorated: name });
    }
    for (const ev of span.events) out.push(eventItem(span, ev, seq++));
  }
  return out.sort((x, y) => (x.time < y.time ? -1 : x.time > y.time ? 1 : x.seq - y.seq));
}

const byCount = (m: Map<string, number>): Record<string, number> =>
  Object.fromEntries([...m].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)));

const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

/** The full-chain view of one trace's spans; `timeline` = how many first events to list. */
export function traceActivity(spans: readonly Span[], opts: { timeline?: number } = {}): TraceActivity {
  const list = items(spans);
  const types = new Map<string, number>();
  const perService = new Map<string, Map<string, number>>();
  const decorated = new Map<string, { calls: number; functions: Set<string> }>();
  for (const it of list) {
    bump(types, it.type);
    let s = perService.get(it.span.service);
    if (!s) perService.set(it.span.service, (s = new Map()));
    bump(s, it.type);
    if (it.decorated !== undefined) {
      let d = decorated.get(it.span.service);
      if (!d) decorated.set(it.span.service, (d = { calls: 0, functions: new Set() }));
      d.calls++;
      d.functions.add(it.decorated);
    }
  }
  const n = (t: string) => types.get(t) ?? 0;
  const decoratedCalls = [...decorated.values()].reduce((a, d) => a + d.calls, 0);
  return {
    services: [...new Set(spans.map((s) => s.service))].sort(),
    spanCount: spans.length,
    totalEvents: list.length,
    eventTypes: byCount(types),
    eventsByService: [...perService]
      .sort((x, y) => (x[0] < y[0] ? -1 : 1))
      .map(([service, m]) => ({ service, total: [...m.values()].reduce((a, b) => a + b, 0), types: byCount(m) })),
    decorated: {
      total: decoratedCalls,
      services: [...decorated]
        .sort((x, y) => (x[0] < y[0] ? -1 : 1))
        .map(([service, d]) => ({ service, calls: d.calls, functions: [...d.functions].sort() })),
    },
    timeline: list.slice(0, opts.timeline ?? 30).map((it) => ({
      timeUnixNano: it.time,
      service: it.span.service,
      type: it.type,
      detail: it.detail,
      traceId: it.span.traceId,
      spanId: it.span.spanId,
      threadId: it.threadId,
    })),
    highlights: {
      functionCalls: n('FunctionCall'),
      asyncSpawned: n('AsyncSpawn'),
      asyncCompleted: n('AsyncAwait'),
      stateChanges: n('StateChange'),
      variableAccesses: n('VariableAccess'),
      locksAcquired: n('LockAcquire'),
      decoratedCalls,
    },
  };
}

// ---- what an await reported ----

export interface AsyncReport {
  /** Status the await reported (status_code, http.response.status_code, ...), as text. */
  status: string | null;
  /** Duration the emitter measured itself (duration_ms), in ms. */
  reportedDurationMs: number | null;
}

const STATUS_KEYS = ['raceway.status_code', 'raceway.status', 'http.response.status_code', 'http.status_code', 'ariadne.status', 'status_code'];
const DURATION_KEYS = ['raceway.duration_ms', 'ariadne.duration_ms', 'duration_ms'];

function fromAttributes(attrs: readonly KeyValue[]): AsyncReport {
  let status: string | null = null;
  let dur: number | null = null;
  for (const k of STATUS_KEYS) {
    const v = findAttribute(attrs, k);
    if (v !== undefined) {
      status = attributeText(v);
      break;
    }
  }
  for (const k of DURATION_KEYS) {
    const v = findAttribute(attrs, k);
    const x = v === undefined ? NaN : Number(attributeText(v));
    if (Number.isFinite(x)) {
      dur = x;
      break;
    }
  }
  // Raceway SDKs may nest what the caller passed in one JSON field.
  if (status === null || dur === null) {
    for (const { value } of attrs) {
      const t = value.stringValue;
      if (t === undefined || t.length > 4096 || !t.startsWith('{')) continue;
      try {
        const o = JSON.parse(t) as Record<string, unknown>;
        if (status === null && (typeof o['status_code'] === 'number' || typeof o['status_code'] === 'string')) status = String(o['status_code']);
        if (dur === null && typeof o['duration_ms'] === 'number' && Number.isFinite(o['duration_ms'])) dur = o['duration_ms'];
      } catch {
        /* not JSON */
      }
    }
  }
  return { status, reportedDurationMs: dur };
}

/** For each pair, what its await event (else its spawn event) reported. */
export function asyncReports(spans: readonly Span[], pairs: readonly AsyncPair[]): AsyncReport[] {
  const byKey = new Map<string, readonly KeyValue[]>();
  for (const s of spans) {
    for (const ev of s.events) {
      if (ev.name !== ASYNC_EVENT) continue;
      byKey.set(`${s.traceId}/${s.spanId}/${ev.timeUnixNano}/${attr(ev.attributes, CausalAttr.asyncOp)}/${attr(ev.attributes, CausalAttr.taskId)}`, ev.attributes);
    }
  }
  return pairs.map((p) => {
    const a = p.await && byKey.get(`${p.traceId}/${p.await.spanId}/${p.await.timeUnixNano}/await/${p.taskId}`);
    const r = a ? fromAttributes(a) : { status: null, reportedDurationMs: null };
    if (r.status === null && r.reportedDurationMs === null && p.spawn) {
      const s = byKey.get(`${p.traceId}/${p.spawn.spanId}/${p.spawn.timeUnixNano}/spawn/${p.taskId}`);
      if (s) return fromAttributes(s);
    }
    return r;
  });
}
