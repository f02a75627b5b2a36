// Query parameters of the analysis endpoints under /api/v1, validated at the
// boundary (zod): each failure names the parameter at fault.

import { z } from 'zod';
import { MAX_SEARCH_LIMIT, isValidTraceId, parseDuration, parseTimestamp, type Nanos } from '@ariadne/model';

const MAX_VALUE = 4096;

const text = z.string().min(1, { error: 'must not be empty' }).max(MAX_VALUE, { error: `must be at most ${MAX_VALUE} characters` });

export const duration = z.string().transform((s, ctx): Nanos => {
  const d = parseDuration(s);
  if (d === undefined) {
    ctx.addIssue({ code: 'custom', message: `must be a duration like 250ms, 1.5s or 800us, not '${s.slice(0, 50)}'` });
    return z.NEVER;
  }
  return d;
});

const timestamp = z.string().transform((s, ctx): bigint => {
  const t = parseTimestamp(s);
  if (t === undefined) {
    ctx.addIssue({ code: 'custom', message: `must be RFC 3339 (2024-01-02T03:04:05Z) or unix nanoseconds, not '${s.slice(0, 50)}'` });
    return z.NEVER;
  }
  return t;
});

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, { error: `must be an integer from ${min} to ${max}` })
    .transform(Number)
    .pipe(z.number().min(min, { error: `must be an integer from ${min} to ${max}` }).max(max, { error: `must be an integer from ${min} to ${max}` }));

const fraction = (max: number) =>
  z
    .string()
    .regex(/^\d{1,6}(?:\.\d{1,9})?$/, { error: `must be a number from 0 to ${max}` })
    .transform(Number)
    .pipe(z.number().max(max, { error: `must be a number from 0 to ${max}` }));

export const traceId = z
  .string()
  .transform((s) => s.toLowerCase())
  .refine(isValidTraceId, { error: 'must be 32 hex characters, not all zero' });

/** Time range and scan bound shared by the endpoints reading many traces. */
const window = {
  start: timestamp.optional(),
  end: timestamp.optional(),
  maxTraces: int(1, MAX_SEARCH_LIMIT).optional(),
};

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;

export const slowParams = z.strictObject({
  threshold: duration,
  service: text.optional(),
  limit: int(1, 1000).default(20),
  ...window,
});

export const analysisParams = z.strictObject({
  bottleneckThreshold: fraction(1).optional(),
});

export const redParams = z.strictObject({
  groupBy: z.enum(['service', 'operation'], { error: 'must be service or operation' }).default('service'),
  service: text.optional(),
  operation: text.optional(),
  kind: z
    .string()
    .transform((s, ctx) => {
      const kinds = s.split(',').map((k) => k.trim());
      for (const k of kinds) {
        const i = (KINDS as readonly string[]).indexOf(k);
        if (i < 0) {
          ctx.addIssue({ code: 'custom', message: `must be a comma-separated list of ${KINDS.join(', ')}, not '${k.slice(0, 50)}'` });
          return z.NEVER;
        }
      }
      return kinds.map((k) => (KINDS as readonly string[]).indexOf(k));
    })
    .optional(),
  /** store: every span in the window from the store's own aggregates (default when the store has them); scan: a bounded sample of whole traces */
  source: z.enum(['store', 'scan'], { error: 'must be store or scan' }).optional(),
  /** with source=store: exact quantiles from every row instead of per-block histograms (slower) */
  exact: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  ...window,
});

export const dependencyParams = z.strictObject({ ...window });

export const compareParams = z.strictObject({
  a: traceId,
  b: traceId,
  tolerance: fraction(100).optional(),
  minDelta: duration.optional(),
});

const SELECTIONS = { p50: 0.5, p75: 0.75, p90: 0.9, p95: 0.95, p99: 0.99 } as const;

export const outlierParams = z
  .strictObject({
    service: text.optional(),
    operation: text.optional(),
    selection: z.enum(Object.keys(SELECTIONS) as [keyof typeof SELECTIONS], { error: `must be one of ${Object.keys(SELECTIONS).join(', ')}` }).optional(),
    minDuration: duration.optional(),
    limit: int(1, 100).default(20),
    ...window,
  })
  .refine((p) => p.selection === undefined || p.minDuration === undefined, { error: 'give selection or minDuration, not both', path: ['minDuration'] });

export function quantileOf(selection: keyof typeof SELECTIONS): number {
  return SELECTIONS[selection];
}

export type Checked<T> = { ok: true; value: T } | { ok: false; param: string; message: string };

/** Validates query parameters; on failure names the first one at fault. */
export function checkParams<S extends z.ZodObject>(schema: S, params: URLSearchParams): Checked<z.output<S>> {
  const input: Record<string, string> = {};
  for (const [k, v] of params) {
    if (v.length > MAX_VALUE) return { ok: false, param: k, message: `parameter '${k}' must be at most ${MAX_VALUE} characters` };
    input[k] = v;
  }
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const k = issue.keys[0]!;
    return { ok: false, param: k, message: `'${k}' is not a parameter of this endpoint (known: ${Object.keys(schema.shape).join(', ')})` };
  }
  const name = issue.path.map(String).join('.') || 'query';
  const message = issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
  return { ok: false, param: name, message: `parameter '${name}' ${message}` };
}
