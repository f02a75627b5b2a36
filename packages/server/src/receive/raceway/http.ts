// POST /events: Raceway's event batches, as its SDKs send them, through the
// durable ingest path (convert.ts turns them into spans in the causal
// convention). Answers like Raceway's server, `{success, data, error}`:
//
//   every event usable        200  data "Ingested N events"
//   some events bad           206  data "Ingested N events, M errors"  (good ones stored)
//   none usable / bad JSON    400  error "<why>"
//   + always `errors: [{index, reason}]` (index -1: the batch itself)
//
// Metrics (receiver "raceway") count in spans, as for the other receivers:
// received = spans made + events refused, accepted = spans stored,
// rejected{reason="invalid_span"} = events refused.

import type { Context } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import type { Ingester } from '../../pipeline/ingest.js';
import { walRecordOfSpans } from '../../pipeline/ingest.js';
import type { Metrics } from '../../metrics.js';
import { decodeContent, readRaw } from '../body.js';
import { convertRacewayBatch, type RacewayEventError } from './convert.js';

export interface RacewayHttpDeps {
  ingester: Ingester;
  metrics: Metrics;
  maxBodyBytes: number;
}

export const RACEWAY_RECEIVER = 'raceway';
/** Per-event errors listed in one answer; the counts cover all of them. */
export const MAX_LISTED_ERRORS = 1000;
/** Trace ids listed in one answer. */
const MAX_LISTED_TRACES = 100;

export interface RacewayAnswer {
  success: boolean;
  data: string | null;
  error: string | null;
  /** Bad events by position in `events`, at most MAX_LISTED_ERRORS. */
  errors: RacewayEventError[];
  accepted: number;
  rejected: number;
  /** Spans stored (one per request context). */
  spans: number;
  /** Ariadne trace ids of the stored spans (32 hex; Raceway's UUIDs lose their dashes). */
  traceIds: string[];
}

function isJson(contentType: string | undefined): boolean {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return ct === '' || ct === 'application/json' || (ct.startsWith('application/') && ct.endsWith('+json'));
}

export function racewayHandler(deps: RacewayHttpDeps) {
  const { ingester, metrics, maxBodyBytes } = deps;

  const answer = (status: number, { success, ...a }: Partial<RacewayAnswer> & { success: boolean }, headers: Record<string, string> = {}): Response =>
    new Response(
      // Raceway's fields first, in its order.
      JSON.stringify({ success, data: null, error: null, errors: [], accepted: 0, rejected: 0, spans: 0, traceIds: [], ...a }),
      { status, headers: { 'content-type': 'application/json', ...headers } },
    );
  const refuse = (status: 400 | 413 | 415, reason: string, message: string): Response => {
    metrics.requestsRefused.inc({ receiver: RACEWAY_RECEIVER, reason });
    return answer(status, { success: false, error: message, errors: [{ index: -1, reason: message }] }, status === 413 ? { connection: 'close' } : {});
  };

  return async (c: Context<{ Bindings: HttpBindings }>): Promise<Response> => {
    const req = c.env.incoming;
    if (!isJson(req.headers['content-type'])) {
      req.resume();
      return refuse(415, 'unsupported_media_type', `unsupported Content-Type '${req.headers['content-type'] ?? ''}': send application/json`);
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > maxBodyBytes) {
      req.resume();
      return refuse(413, 'too_large', `request body of ${declared} bytes exceeds the ${maxBodyBytes}-byte limit`);
    }
    const reserve = Number.isFinite(declared) && declared > 0 ? declared : 64 * 1024;
    const refusal = ingester.reserve(reserve);
    if (refusal) {
      metrics.requestsRefused.inc({ receiver: RACEWAY_RECEIVER, reason: refusal.reason });
      req.resume();
      return answer(503, { success: false, error: refusal.message }, { 'retry-after': '1' });
    }
    try {
      const raw = await readRaw(req, maxBodyBytes);
      if (!raw.ok) return refuse(raw.status, raw.status === 413 ? 'too_large' : 'decode_error', raw.message);
      const body = await decodeContent(req.headers['content-encoding'], raw.body, maxBodyBytes);
      if (!body.ok) return refuse(body.status, body.status === 413 ? 'too_large' : body.status === 415 ? 'unsupported_media_type' : 'decode_error', body.message);
      let doc: unknown;
      try {
        doc = JSON.parse(body.body.toString('utf8').replace(/^\uFEFF/, ''));
      } catch (e) {
        return refuse(400, 'decode_error', `invalid JSON: ${(e as Error).message}`);
      }

      const { spans, errors } = convertRacewayBatch(doc);
      const batchError = errors.find((e) => e.index === -1);
      if (batchError) return refuse(400, 'decode_error', batchError.reason);
      const total = (doc as { events: unknown[] }).events.length;
      const bad = errors.length;
      const good = total - bad;
      const listed = errors.slice(0, MAX_LISTED_ERRORS);
      metrics.spansReceived.inc({ receiver: RACEWAY_RECEIVER }, spans.length + bad);
      if (bad) metrics.spansRejected.inc({ receiver: RACEWAY_RECEIVER, reason: 'invalid_span' }, bad);
      if (total > 0 && good === 0) {
        return answer(400, { success: false, error: `none of the ${total} events is usable (first: event ${errors[0]!.index}: ${errors[0]!.reason})`, errors: listed, rejected: bad });
      }

      const out = await ingester.ingest(RACEWAY_RECEIVER, spans, walRecordOfSpans(spans));
      if (!out.ok) return answer(503, { success: false, error: out.message, errors: listed, rejected: bad }, { 'retry-after': '1' });
      const traceIds = [...new Set(spans.map((s) => s.traceId))].slice(0, MAX_LISTED_TRACES);
      const common = { success: true, errors: listed, accepted: good, rejected: bad, spans: spans.length, traceIds };
      if (bad === 0) return answer(200, { ...common, data: `Ingested ${good} events` });
      return answer(206, { ...common, data: `Ingested ${good} events, ${bad} errors` });
    } finally {
      ingester.release(reserve);
    }
  };
}
