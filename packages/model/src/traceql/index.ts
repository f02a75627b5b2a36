// TraceQL (a subset of Grafana Tempo's query language): parse, evaluate on a
// trace, and derive what a store can pre-filter. See docs/traceql.md.

export type {
  AttributeScope,
  Intrinsic,
  Field,
  StatusValue,
  KindValue,
  Static,
  CompareOp,
  Condition,
  SpansetOp,
  AggregateFn,
  PipelineStage,
  SpansetExpr,
  TraceQLQuery,
} from './ast.js';
export { TraceQLError, MAX_QUERY_LENGTH } from './lexer.js';
export { parseTraceQL } from './parser.js';
export { formatTraceQL } from './format.js';
export type { TraceQLWindow } from './evaluate.js';
export { evaluateTraceQL } from './evaluate.js';
export type { TraceQLPushdown } from './pushdown.js';
export { traceQLPushdown, MAX_ALTERNATIVES } from './pushdown.js';
export type { SafeRegex } from './regex.js';
export { compileSafeRegex, RegexSyntaxError, MAX_PATTERN_LENGTH } from './regex.js';
