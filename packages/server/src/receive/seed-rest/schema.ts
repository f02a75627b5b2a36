// Request bodies and query parameters of the seed API, validated at the
// boundary (zod). Every failure names the field or parameter at fault.

import { z } from 'zod';
import { SpanKind, isValidSpanId, isValidTraceId, parseDuration, type Nanos } from '@ariadne/model';
import { SEED_STATUS_INPUTS, millisToNanosExact } from './convert.js';

/** 100 days: durations stay exact as Nanos numbers (2^53 ns is 104 days). */
const MAX_DURATION_MS = 100 * 86_400_000;
/** Epoch ms before 2286; with a duration it stays within uint64 nanoseconds. */
const MAX_START_MS = 1e13;
const MAX_NAME = 1024;

const required = (what: string) => (i: { input: unknown }) => (i.input === undefined ? 'is required' : `must be ${what}`);

const name = z.string({ error: required('a string') }).min(1, { error: 'must not be empty' }).max(MAX_NAME, { error: `must be at most ${MAX_NAME} characters` });

const traceId = z
  .string({ error: required('a string') })
  .transform((s) => s.toLowerCase())
  .refine(isValidTraceId, { error: 'must be 32 hex characters, not all zero (a trace id this API returned)' });

const spanId = z
  .string({ error: required('a string') })
  .transform((s) => s.toLowerCase())
  .refine(isValidSpanId, { error: 'must be 16 hex characters, not all zero (a span id this API returned)' });

const millis = (max: number, what: string) =>
  z
    .number({ error: required(`a number of milliseconds (${what})`) })
    .min(0, { error: 'must not be negative' })
    .max(max, { error: `must be at most ${max}` })
    .transform(millisToNanosExact);

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const tags = z
  .record(z.string(), z.union([scalar, z.array(scalar)], { error: 'must be a string, number, boolean or an array of those' }), {
    error: 'must be an object of tag names to values',
  })
  .optional();

const status = z.enum(SEED_STATUS_INPUTS, { error: `must be one of ${SEED_STATUS_INPUTS.join(', ')}` }).optional();

const KINDS = { unspecified: SpanKind.UNSPECIFIED, internal: SpanKind.INTERNAL, server: SpanKind.SERVER, client: SpanKind.CLIENT, producer: SpanKind.PRODUCER, consumer: SpanKind.CONSUMER } as const;
const kind = z
  .enum(Object.keys(KINDS) as [keyof typeof KINDS], { error: `must be one of ${Object.keys(KINDS).join(', ')}` })
  .transform((k) => KINDS[k])
  .optional();

const statusMessage = z.string({ error: 'must be a string' }).max(4096, { error: 'must be at most 4096 characters' }).optional();

/** POST /traces/start: opens the root (or, with a context, an entry) span of a trace. */
export const startBody = z.strictObject({
  serviceName: name,
  operationName: name,
  tags,
  kind,
  startTime: millis(MAX_START_MS, 'since the epoch').optional(),
  traceId: traceId.optional(),
  parentSpanId: spanId.optional(),
});

/** POST /traces/span: with `duration`, a finished span; without, an open one. */
export const spanBody = z.strictObject({
  traceId: traceId.optional(),
  parentSpanId: spanId.optional(),
  serviceName: name,
  operationName: name,
  tags,
  kind,
  duration: millis(MAX_DURATION_MS, 'how long the span took').optional(),
  startTime: millis(MAX_START_MS, 'since the epoch').optional(),
  status,
  statusMessage,
});

/** POST /traces/span/finish */
export const finishBody = z.strictObject({
  spanId,
  traceId: traceId.optional(),
  status,
  statusMessage,
  tags,
});

/** A duration parameter: plain milliseconds as the seed writes them (`1000`), or with a unit (`1.5s`). */
const durationParam = z.string().transform((s, ctx): Nanos => {
  if (/^\d{1,15}(?:\.\d{1,9})?$/.test(s)) return Number(millisToNanosExact(Number(s))) as Nanos;
  const d = parseDuration(s);
  if (d === undefined) {
    ctx.addIssue({ code: 'custom', message: `must be milliseconds (500) or a duration with a unit (500ms, 1.5s), not '${s.slice(0, 50)}'` });
    return z.NEVER;
  }
  return d;
});

const TRACE_STATUS = { active: 'active', completed: 'completed', success: 'completed', failed: 'failed', error: 'failed' } as const;

/** GET /traces/query */
export const queryParams = z.strictObject({
  serviceName: name.optional(),
  operationName: name.optional(),
  minDuration: durationParam.optional(),
  status: z
    .enum(Object.keys(TRACE_STATUS) as [keyof typeof TRACE_STATUS], { error: 'must be active, completed or failed' })
    .transform((s) => TRACE_STATUS[s])
    .optional(),
  limit: z
    .string()
    .regex(/^\d{1,5}$/, { error: 'must be an integer from 1 to 1000' })
    .transform(Number)
    .pipe(z.number().min(1, { error: 'must be an integer from 1 to 1000' }).max(1000, { error: 'must be an integer from 1 to 1000' }))
    .default(20),
});

/** GET /stats */
export const statsParams = z.strictObject({
  window: z
    .string()
    .transform((s, ctx): Nanos => {
      const d = parseDuration(s);
      if (d === undefined || d <= 0) {
        ctx.addIssue({ code: 'custom', message: `must be a duration like 15m, 1h or 7d, not '${s.slice(0, 50)}'` });
        return z.NEVER;
      }
      return d;
    })
    .optional(),
});

export type Invalid = { ok: false; name: string; message: string };
export type Valid<T> = { ok: true; value: T };

/**
 * Runs a schema over a body (`field`) or query parameters (`param`); on
 * failure, names the first field at fault: `field 'duration' must not be negative`.
 */
export function validate<S extends z.ZodObject>(schema: S, input: unknown, what: 'field' | 'parameter'): Valid<z.output<S>> | Invalid {
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const known = Object.keys(schema.shape).join(', ');
    return { ok: false, name: issue.keys[0]!, message: `'${issue.keys[0]}' is not a ${what} of this request (known: ${known})` };
  }
  if (issue.path.length === 0) return { ok: false, name: 'body', message: 'the body must be a JSON object' };
  const name = issue.path.map(String).join('.');
  return { ok: false, name, message: `${what} '${name}' ${issue.message}` };
}
