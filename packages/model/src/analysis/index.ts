// The analysis engine: plain functions over spans, shared by the API, the CLI and the UI.
// See docs/design/analysis.md for the algorithms.

export type { SkewAdjustment, SkewReason, SkewResult } from './skew.js';
export { adjustClockSkew } from './skew.js';
export type { CriticalPathSegment } from './critical-path.js';
export { criticalPath } from './critical-path.js';
export type { Bottleneck, SelfTimeResult, SelfTimeOptions } from './self-time.js';
export { selfTimes } from './self-time.js';
export type { TraceAnalysis, TraceAnalysisJson, ServiceCallCount, AnalyzeOptions, AnalyzedTreeOptions } from './analyze.js';
export { analyzeTrace, renderAnalyzedTree, traceAnalysisToJson } from './analyze.js';
export type { RedOptions, RedMetrics, DependencyEdge } from './aggregate.js';
export { redMetrics, RedAggregator, exactQuantiles, dependencyGraph } from './aggregate.js';
export { PEER_ATTRIBUTES } from './calls.js';
export type { ChangeKind, SpanChange, TraceComparison, CompareOptions } from './compare.js';
export { compareTraces, changePath } from './compare.js';
export type { DimensionScope, OutlierDimension, SkippedKey, OutlierResult, OutlierOptions } from './outliers.js';
export { outliers } from './outliers.js';
