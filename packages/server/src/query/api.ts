// Ariadne's own query API under /api/v1 (documented in ./openapi.ts).

import { Hono } from 'hono';
import { isValidTraceId, spanToJson, summaryToJson } from '@ariadne/model';
import type { TraceStore } from '../store/types.js';
import { parseSearchParams } from './params.js';
import { searchTraceQL } from './traceql.js';

export function queryApi(store: TraceStore): Hono {
  const api = new Hono();

  api.get('/traces/:traceId', async (c) => {
    const traceId = c.req.param('traceId');
    if (!isValidTraceId(traceId)) {
      return c.json({ error: `parameter 'traceId' must be 32 lowercase hex characters, not all zero`, param: 'traceId' }, 400);
    }
    const spans = await store.getTrace(traceId);
    if (!spans.length) return c.json({ error: `trace ${traceId} not found` }, 404);
    return c.json({ traceId, spans: spans.map(spanToJson) });
  });

  api.get('/traces', async (c) => {
    const parsed = parseSearchParams(new URL(c.req.url).searchParams);
    if (!parsed.ok) return c.json({ error: parsed.message, param: parsed.param, ...(parsed.offset !== undefined ? { offset: parsed.offset } : {}) }, 400);
    if (parsed.traceql) {
      const { startUnixNano, endUnixNano, limit } = parsed.query;
      const r = await searchTraceQL(store, parsed.traceql, { startUnixNano, endUnixNano, limit });
      return c.json({ traces: r.traces.map(summaryToJson), truncated: r.truncated });
    }
    const traces = await store.search(parsed.query);
    return c.json({ traces: traces.map(summaryToJson) });
  });

  api.get('/services', async (c) => c.json({ services: await store.services() }));

  api.get('/services/:service/operations', async (c) => {
    const operations = await store.operations(c.req.param('service'));
    return c.json({ operations });
  });

  return api;
}
