// Causal analysis: vector clocks, causal events, happens-before, data races
// and the causal report. Design: docs/design/races.md.

export type { ClockEntry, VectorClock, ClockOrder, ClockHeader } from './clock.js';
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
} from './clock.js';
export type { CausalKind, AccessKind, LockOp, AsyncOp, HeldLock, CausalEvent, RawCausalEvent, SpanInfo, SpanTopology } from './events.js';
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
} from './events.js';
export type { CausalOrder, CausalOrderOptions, EventRelation } from './happens-before.js';
export { buildCausalOrder } from './happens-before.js';
export type { RaceSeverity, RaceAccess, Race, RaceReport, RaceOptions } from './races.js';
export {
  DEFAULT_MAX_RACES_PER_VARIABLE,
  DEFAULT_MAX_RACES,
  accessesConflict,
  raceSeverity,
  locksProtect,
  detectRaces,
  detectRacesBruteForce,
  raceReportToJson,
} from './races.js';
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
} from './report.js';
export { buildAuditTrails, serviceBreakdown, asyncPairs, lockContention, buildCausalReport, causalReportToJson } from './report.js';
export type { SimulationOptions, SimulatedHistory } from './simulate.js';
export { simulateHistory, historyToSpans } from './simulate.js';
export type { RaceBenchOptions, RaceBenchResult } from './bench.js';
export { benchRaces } from './bench.js';
