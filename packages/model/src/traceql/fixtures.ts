// Test helpers (not exported by the package): spans written as short specs,
// and fast-check generators of TraceQL trees and of small traces whose
// values collide often enough for conditions to match.

import fc from 'fast-check';
import type { AnyValue, KeyValue, Resource, Span } from '../span.js';
import { emptyScope, serviceOf } from '../span.js';
import type { AggregateFn, CompareOp, Condition, Field, PipelineStage, SpansetExpr, SpansetOp, Static } from './ast.js';

export const T0 = 1_700_000_000_000_000_000n;
export const MS = 1_000_000n;

export interface SpanSpec {
  id: string;
  parent?: string;
  service?: string;
  name?: string;
  kind?: number;
  /** ms after T0 */
  start?: number;
  /** ms */
  duration?: number;
  status?: number;
  message?: string;
  attrs?: Record<string, AnyValue>;
  resourceAttrs?: Record<string, AnyValue>;
}

const kvs = (r: Record<string, AnyValue> = {}): KeyValue[] => Object.entries(r).map(([key, value]) => ({ key, value }));

/** A 16-hex span id from a short readable one. */
export const spanId = (id: string) => [...id.padEnd(8, '_').slice(0, 8)].map((c) => (c.charCodeAt(0) & 0xff).toString(16).padStart(2, '0')).join('');

export function span(s: SpanSpec): Span {
  const resource: Resource = { attributes: kvs({ 'service.name': { stringValue: s.service ?? 'svc' }, ...s.resourceAttrs }), droppedAttributesCount: 0, schemaUrl: '' };
  const start = T0 + BigInt(Math.round((s.start ?? 0) * 1e6));
  return {
    traceId: 'ab'.repeat(16),
    spanId: spanId(s.id),
    parentSpanId: s.parent ? spanId(s.parent) : '',
    traceState: '',
    flags: 1,
    name: s.name ?? s.id,
    kind: (s.kind ?? 1) as Span['kind'],
    startTimeUnixNano: start,
    endTimeUnixNano: start + BigInt(Math.round((s.duration ?? 1) * 1e6)),
    attributes: kvs(s.attrs),
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: (s.status ?? 0) as Span['status']['code'], message: s.message ?? '' },
    resource,
    scope: emptyScope(),
    service: serviceOf(resource),
  };
}

export const str = (v: string): AnyValue => ({ stringValue: v });
export const int = (v: number | bigint): AnyValue => ({ intValue: String(v) });
export const dbl = (v: number): AnyValue => ({ doubleValue: v });
export const bool = (v: boolean): AnyValue => ({ boolValue: v });

/** fc.record without null-prototype objects, which deepEqual tells apart from the parser's. */
const rec = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> => fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;

// --- trees --------------------------------------------------------------------------------

export interface Leaves {
  compare: fc.Arbitrary<Condition & { type: 'compare' }>;
  aggregate: fc.Arbitrary<PipelineStage>;
  select: fc.Arbitrary<PipelineStage>;
}

/** Spanset trees (filters, spanset operators, pipelines) over the given leaves. */
export function spansetTree(leaves: Leaves, depth = 3): fc.Arbitrary<SpansetExpr> {
  const { condition } = fc.letrec<{ condition: Condition }>((tie) => ({
    condition: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaves.compare,
      fc.boolean().map((value): Condition => ({ type: 'const', value })),
      rec({ type: fc.constantFrom('and' as const, 'or' as const), left: tie('condition'), right: tie('condition') }),
      rec({ type: fc.constant('not' as const), operand: tie('condition') }),
    ),
  }));
  const filter = condition.map((c): SpansetExpr => ({ type: 'filter', condition: c }));
  const ops: SpansetOp[] = ['&&', '||', '>', '>>', '<', '<<', '~'];
  const build = (d: number): fc.Arbitrary<SpansetExpr> => {
    if (d <= 0) return filter;
    const sub = build(d - 1);
    const stage = fc.oneof(sub.map((expr): PipelineStage => ({ type: 'spanset', expr })), leaves.aggregate, leaves.select);
    return fc.oneof(
      { weight: 3, arbitrary: filter },
      { weight: 2, arbitrary: rec({ type: fc.constant('spansetOp' as const), op: fc.constantFrom(...ops), left: sub, right: sub }) },
      { weight: 1, arbitrary: rec({ type: fc.constant('pipeline' as const), input: sub, stages: fc.array(stage, { minLength: 1, maxLength: 2 }) }) },
    );
  };
  return build(depth);
}

const int64 = fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n);
const numeric: fc.Arbitrary<Static> = fc.oneof(
  int64.map((value): Static => ({ type: 'int', value })),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((value): Static => ({ type: 'float', value })),
  fc.bigInt(-(2n ** 63n - 1n), 2n ** 63n - 1n).map((nanos): Static => ({ type: 'duration', nanos })),
);
const anyKey = fc.string({ unit: 'binary', minLength: 1, maxLength: 12 });
const anyAttribute: fc.Arbitrary<Field> = rec({ type: fc.constant('attribute' as const), scope: fc.constantFrom('span' as const, 'resource' as const, 'unscoped' as const), key: anyKey });
const patterns = fc.constantFrom('GET.*', '(?i)post', '[a-z]+\\d{2,3}', 'a|b|', '\\bx\\b', '', '(?:x(y)?)*');

/** Any well-typed comparison the parser accepts, with awkward strings, keys and numbers. */
export const anyCompare: fc.Arbitrary<Condition & { type: 'compare' }> = fc.oneof(
  rec({
    field: fc.constantFrom<Field>(...(['name', 'statusMessage', 'rootName', 'rootServiceName'] as const).map((name) => ({ type: 'intrinsic' as const, name }))),
    op: fc.constantFrom<CompareOp>('=', '!=', '<', '<=', '>', '>='),
    value: fc.string({ unit: 'binary' }).map((value): Static => ({ type: 'string', value })),
  }),
  rec({ field: anyAttribute, op: fc.constantFrom<CompareOp>('=~', '!~'), value: patterns.map((value): Static => ({ type: 'string', value })) }),
  rec({ field: anyAttribute, op: fc.constantFrom<CompareOp>('=', '!=', '<', '>='), value: fc.oneof(numeric, fc.string({ unit: 'binary' }).map((value): Static => ({ type: 'string', value }))) }),
  rec({ field: anyAttribute, op: fc.constantFrom<CompareOp>('=', '!='), value: fc.constantFrom<Static>({ type: 'nil' }, { type: 'bool', value: true }, { type: 'bool', value: false }) }),
  rec({ field: fc.constantFrom<Field>({ type: 'intrinsic', name: 'duration' }, { type: 'intrinsic', name: 'traceDuration' }), op: fc.constantFrom<CompareOp>('=', '!=', '>', '<='), value: numeric }),
  rec({ field: fc.constant<Field>({ type: 'intrinsic', name: 'status' }), op: fc.constantFrom<CompareOp>('=', '!='), value: fc.constantFrom('error', 'ok', 'unset').map((value): Static => ({ type: 'status', value: value as 'ok' })) }),
  rec({
    field: fc.constant<Field>({ type: 'intrinsic', name: 'kind' }),
    op: fc.constantFrom<CompareOp>('=', '!='),
    value: fc.constantFrom('server', 'client', 'internal', 'producer', 'consumer', 'unspecified').map((value): Static => ({ type: 'kind', value: value as 'server' })),
  }),
).map((c) => ({ type: 'compare' as const, ...c }));

const aggregateOps = ['=', '!=', '>', '>=', '<', '<='] as const;
export const anyAggregate: fc.Arbitrary<PipelineStage> = fc.oneof(
  rec({ type: fc.constant('aggregate' as const), fn: fc.constant<AggregateFn>('count'), op: fc.constantFrom(...aggregateOps), value: int64.map((value): Static => ({ type: 'int', value })) }),
  rec({
    type: fc.constant('aggregate' as const),
    fn: fc.constantFrom<AggregateFn>('avg', 'min', 'max', 'sum'),
    field: fc.oneof(fc.constant<Field>({ type: 'intrinsic', name: 'duration' }), anyAttribute),
    op: fc.constantFrom(...aggregateOps),
    value: numeric,
  }),
);
export const anySelect: fc.Arbitrary<PipelineStage> = fc.array(fc.oneof(anyAttribute, fc.constant<Field>({ type: 'intrinsic', name: 'name' })), { minLength: 1, maxLength: 3 }).map((fields) => ({ type: 'select', fields }));

// --- small worlds: traces and queries over few values, so that they meet -------------------------

const KEYS = ['k', 'service.name', 'code'];
const smallValue: fc.Arbitrary<AnyValue> = fc.oneof(
  fc.constantFrom('a', 'b', '500', 'true').map(str),
  fc.constantFrom(500, 7, -1).map(int),
  fc.constantFrom(500, 1.5, 7).map(dbl),
  fc.boolean().map(bool),
  fc.constant<AnyValue>({ arrayValue: { values: [str('a')] } }),
);
const smallAttrs = fc.dictionary(fc.constantFrom(...KEYS), smallValue, { maxKeys: 2 });

/** A trace of 1–8 spans with random parents (some missing), services, names, kinds, times and attributes. */
export const smallTrace: fc.Arbitrary<Span[]> = fc
  .array(
    rec({
      parent: fc.nat(10),
      service: fc.constantFrom('a', 'b'),
      name: fc.constantFrom('x', 'y'),
      kind: fc.nat(5),
      start: fc.nat(20),
      duration: fc.constantFrom(0, 0.000001, 0.000005, 1, 1.5, 10),
      status: fc.nat(2),
      attrs: smallAttrs,
      resourceAttrs: fc.dictionary(fc.constantFrom('k', 'code'), smallValue, { maxKeys: 1 }),
    }),
    { minLength: 1, maxLength: 8 },
  )
  .map((specs) =>
    specs.map((s, i) =>
      span({
        id: `s${i}`,
        // a parent among the earlier spans, or none, or one missing from the trace
        ...(s.parent < i ? { parent: `s${s.parent}` } : s.parent === 10 ? { parent: 'gone' } : {}),
        service: s.service,
        name: s.name,
        kind: s.kind,
        start: s.start,
        duration: s.duration,
        status: s.status,
        attrs: s.attrs,
        resourceAttrs: s.resourceAttrs,
      }),
    ),
  );

const smallField: fc.Arbitrary<Field> = fc.oneof(
  rec({ type: fc.constant('attribute' as const), scope: fc.constantFrom('span' as const, 'resource' as const, 'unscoped' as const), key: fc.constantFrom(...KEYS) }),
);
const smallStatic: fc.Arbitrary<Static> = fc.oneof(
  fc.constantFrom('a', 'b', '500', 'true').map((value): Static => ({ type: 'string', value })),
  fc.constantFrom(500n, 7n, -1n).map((value): Static => ({ type: 'int', value })),
  fc.constantFrom(500, 1.5, 7).map((value): Static => ({ type: 'float', value })),
);

/** Comparisons over smallTrace's values: every kind of field, op and literal the pushdown looks at. */
export const smallCompare: fc.Arbitrary<Condition & { type: 'compare' }> = fc
  .oneof(
    rec({ field: smallField, op: fc.constantFrom<CompareOp>('=', '=', '!=', '>'), value: smallStatic }),
    rec({ field: smallField, op: fc.constantFrom<CompareOp>('=', '!='), value: fc.constantFrom<Static>({ type: 'nil' }, { type: 'bool', value: true }, { type: 'bool', value: false }) }),
    rec({ field: smallField, op: fc.constant<CompareOp>('=~'), value: fc.constantFrom('a|5.*', '[ab]').map((value): Static => ({ type: 'string', value })) }),
    rec({ field: fc.constant<Field>({ type: 'intrinsic', name: 'name' }), op: fc.constantFrom<CompareOp>('=', '=', '!=', '=~'), value: fc.constantFrom('x', 'y').map((value): Static => ({ type: 'string', value })) }),
    rec({ field: fc.constant<Field>({ type: 'intrinsic', name: 'rootServiceName' }), op: fc.constant<CompareOp>('='), value: fc.constantFrom('a', 'b').map((value): Static => ({ type: 'string', value })) }),
    rec({ field: fc.constant<Field>({ type: 'intrinsic', name: 'status' }), op: fc.constantFrom<CompareOp>('=', '=', '!='), value: fc.constantFrom('error', 'ok', 'unset').map((value): Static => ({ type: 'status', value: value as 'ok' })) }),
    rec({ field: fc.constant<Field>({ type: 'intrinsic', name: 'kind' }), op: fc.constant<CompareOp>('='), value: fc.constantFrom('server', 'client').map((value): Static => ({ type: 'kind', value: value as 'server' })) }),
    rec({
      field: fc.constant<Field>({ type: 'intrinsic', name: 'duration' }),
      op: fc.constantFrom<CompareOp>('=', '!=', '>', '>=', '<', '<='),
      value: fc.oneof(
        fc.constantFrom(0n, 1n, 1000n, 5000n, 1_000_000n, 1_500_000n, 10_000_000n).map((nanos): Static => ({ type: 'duration', nanos })),
        fc.constantFrom(999.5, 1000, 1_499_999.9).map((value): Static => ({ type: 'float', value })),
        fc.constantFrom(1000n, -3n).map((value): Static => ({ type: 'int', value })),
      ),
    }),
  )
  .map((c) => ({ type: 'compare' as const, ...c }));

export const smallQuery: fc.Arbitrary<SpansetExpr> = spansetTree(
  {
    compare: smallCompare,
    aggregate: fc.oneof(
      rec({ type: fc.constant('aggregate' as const), fn: fc.constant<AggregateFn>('count'), op: fc.constantFrom('>' as const, '=' as const), value: fc.constantFrom(1n, 2n).map((value): Static => ({ type: 'int', value })) }),
      rec({ type: fc.constant('aggregate' as const), fn: fc.constantFrom<AggregateFn>('avg', 'max'), field: fc.constant<Field>({ type: 'intrinsic', name: 'duration' }), op: fc.constant('>' as const), value: fc.constant<Static>({ type: 'duration', nanos: 1_000_000n }) }),
    ),
    select: fc.constant<PipelineStage>({ type: 'select', fields: [{ type: 'intrinsic', name: 'name' }] }),
  },
  2,
);
