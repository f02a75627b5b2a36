// The TraceQL syntax tree: plain data (no closures, no compiled regexes), so
// a query can be logged, compared in tests and sent across threads.

/** Where an attribute is looked up: `span.x`, `resource.x`, or `.x` (span first, then resource). */
export type AttributeScope = 'span' | 'resource' | 'unscoped';

/** Per-span intrinsics, and the per-trace ones (`rootName`, `rootServiceName`, `traceDuration`). */
export type Intrinsic = 'name' | 'status' | 'statusMessage' | 'kind' | 'duration' | 'rootName' | 'rootServiceName' | 'traceDuration';

export type Field = { type: 'intrinsic'; name: Intrinsic } | { type: 'attribute'; scope: AttributeScope; key: string };

export type StatusValue = 'error' | 'ok' | 'unset';
export type KindValue = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/** A literal. Integers and durations stay exact (bigint); durations are nanoseconds. */
export type Static =
  | { type: 'string'; value: string }
  | { type: 'int'; value: bigint }
  | { type: 'float'; value: number }
  | { type: 'duration'; nanos: bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'status'; value: StatusValue }
  | { type: 'kind'; value: KindValue }
  | { type: 'nil' };

export type CompareOp = '=' | '!=' | '>' | '>=' | '<' | '<=' | '=~' | '!~';

/** A condition on one span, the inside of `{ ... }`. */
export type Condition =
  | { type: 'and' | 'or'; left: Condition; right: Condition }
  | { type: 'not'; operand: Condition }
  /** `field op value`; a literal written on the left is moved right (`500 < .x` is `.x > 500`). */
  | { type: 'compare'; field: Field; op: CompareOp; value: Static }
  /** `{}` and `{ true }` */
  | { type: 'const'; value: boolean };

/**
 * Between spansets: `&&` (the trace has both; the spans of both), `||` (either),
 * and the structural operators, which keep right-hand spans: `>` children of a
 * left span, `>>` descendants, `<` parents, `<<` ancestors, `~` siblings.
 */
export type SpansetOp = '&&' | '||' | '>' | '>>' | '<' | '<<' | '~';

export type AggregateFn = 'count' | 'avg' | 'min' | 'max' | 'sum';

export type PipelineStage =
  /** `| { ... }` or any spanset expression: evaluated on the spans that reached it */
  | { type: 'spanset'; expr: SpansetExpr }
  /** `| count() > 2`, `| avg(duration) > 1s`: keeps the spanset or drops it */
  | { type: 'aggregate'; fn: AggregateFn; field?: Field; op: '=' | '!=' | '>' | '>=' | '<' | '<='; value: Static }
  /** `| select(...)`: accepted; it chooses what to show of a span, not which traces match */
  | { type: 'select'; fields: Field[] };

export type SpansetExpr =
  | { type: 'filter'; condition: Condition }
  | { type: 'spansetOp'; op: SpansetOp; left: SpansetExpr; right: SpansetExpr }
  | { type: 'pipeline'; input: SpansetExpr; stages: PipelineStage[] };

export interface TraceQLQuery {
  /** the text it was parsed from */
  source: string;
  root: SpansetExpr;
}
