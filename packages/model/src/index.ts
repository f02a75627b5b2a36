// @ariadne/model: browser-safe span types, units, ids, trees and analysis.

export type {
  AnyValue,
  KeyValue,
  Status,
  Resource,
  InstrumentationScope,
  SpanEvent,
  SpanLink,
  Span,
} from './span.js';
export { SpanKind, StatusCode, UNKNOWN_SERVICE, emptyResource, emptyScope, serviceOf, spanDurationNanos } from './span.js';
export { isValidTraceId, isValidSpanId, bytesToHex, hexToBytes } from './ids.js';
export type { Nanos, Micros, Millis } from './units.js';
export {
  nanos,
  nanosToMicros,
  nanosToMillis,
  millisToNanos,
  microsToNanos,
  parseDuration,
  formatDuration,
  parseTimestamp,
  formatTimestamp,
} from './units.js';
export type { TraceQuery, TraceSummary, OperationInfo, StatusFilter } from './query.js';
export { DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT } from './query.js';
export { attributeText, plainValue, findAttribute, stringAttribute } from './attributes.js';
export type { SpanJson, TraceSummaryJson } from './json.js';
export { spanToJson, spanFromJson, summaryToJson, summaryFromJson } from './json.js';
export type { SpanNode, RenderOptions } from './tree.js';
export { buildTree, walkTree, renderTree } from './tree.js';
export type {
  SkewAdjustment,
  SkewReason,
  SkewResult,
  CriticalPathSegment,
  Bottleneck,
  SelfTimeResult,
  SelfTimeOptions,
  TraceAnalysis,
  TraceAnalysisJson,
  ServiceCallCount,
  AnalyzeOptions,
  AnalyzedTreeOptions,
  RedOptions,
  RedMetrics,
  DependencyEdge,
  ChangeKind,
  SpanChange,
  TraceComparison,
  CompareOptions,
  DimensionScope,
  OutlierDimension,
  SkippedKey,
  OutlierResult,
  OutlierOptions,
} from './analysis/index.js';
export {
  adjustClockSkew,
  criticalPath,
  selfTimes,
  analyzeTrace,
  renderAnalyzedTree,
  traceAnalysisToJson,
  redMetrics,
  RedAggregator,
  exactQuantiles,
  dependencyGraph,
  PEER_ATTRIBUTES,
  compareTraces,
  changePath,
  outliers,
} from './analysis/index.js';
export type { ClockEntry, VectorClock, ClockOrder, ClockHeader } from './causal/index.js';
export {
  MAX_CLOCK_COMPONENTS,
  CLOCK_HEADER,
  RACEWAY_CLOCK_HEADER,
  EMPTY_CLOCK,
  clockComponent,
  clockFromJson,
  parseClock,
  formatClock,
  clockValue,
  clockSum,
  compareClocks,
  mergeClocks,
  incrementClock,
  encodeClockHeader,
  decodeClockHeader,
} from './causal/index.js';
export type { CausalKind, AccessKind, LockOp, AsyncOp, HeldLock, CausalEvent, RawCausalEvent, SpanInfo, SpanTopology } from './causal/index.js';
export {
  STATE_EVENT,
  LOCK_EVENT,
  ASYNC_EVENT,
  CausalAttr,
  ACCESS_KINDS,
  isWriteAccess,
  isAtomicAccess,
  parseAccessKind,
  isSharedLockType,
  assignLockSets,
  extractCausalEvents,
  spanTopology,
} from './causal/index.js';
export type { CausalOrder, CausalOrderOptions, EventRelation } from './causal/index.js';
export { buildCausalOrder } from './causal/index.js';
export type { RaceSeverity, RaceAccess, Race, RaceReport, RaceOptions } from './causal/index.js';
export {
  DEFAULT_MAX_RACES_PER_VARIABLE,
  DEFAULT_MAX_RACES,
  accessesConflict,
  raceSeverity,
  locksProtect,
  detectRaces,
  detectRacesBruteForce,
  raceReportToJson,
} from './causal/index.js';
export type {
  AuditLink,
  AuditEntry,
  AuditTrail,
  AuditOptions,
  ServiceBreakdown,
  AsyncEnd,
  AsyncOutcome,
  AsyncPair,
  LockContention,
  CausalReport,
} from './causal/index.js';
export { buildAuditTrails, serviceBreakdown, asyncPairs, lockContention, buildCausalReport, causalReportToJson } from './causal/index.js';
export type { SimulationOptions, SimulatedHistory, RaceBenchOptions, RaceBenchResult } from './causal/index.js';
export { simulateHistory, historyToSpans, benchRaces } from './causal/index.js';
export type {
  SpansetExpr as TraceQLSpansetExpr,
  PipelineStage as TraceQLStage,
  Condition as TraceQLCondition,
  Field as TraceQLField,
  Static as TraceQLStatic,
  TraceQLQuery,
  TraceQLWindow,
  TraceQLPushdown,
  SafeRegex,
} from './traceql/index.js';
export { TraceQLError, parseTraceQL, formatTraceQL, evaluateTraceQL, traceQLPushdown, compileSafeRegex, RegexSyntaxError } from './traceql/index.js';
