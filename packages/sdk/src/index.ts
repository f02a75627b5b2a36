// @ariadne/sdk: OpenTelemetry for TypeScript services, plus Ariadne's causal
// events and vector clocks. The public surface, in one screen.

export { init, DEFAULT_ENDPOINT, DEFAULT_EVENT_COUNT_LIMIT } from './init.js';
export type { AriadneSdk, InitOptions, InstrumentationOptions } from './init.js';

export { traced } from './traced.js';
export type { TracedDecorator, TracedOptions } from './traced.js';

export { track, EVENT_ASYNC, EVENT_LOCK, EVENT_STATE } from './track.js';
export type { Access, AsyncOp, LockHandle, LockOp, StateChange, TrackOptions, WithLockOptions } from './track.js';

export { inject, extract, withExtracted, createPropagator } from './propagation.js';
export type { PropagatorName, PropagatorOptions } from './propagation.js';

export {
  AriadneClockPropagator,
  ARIADNE_CLOCK_HEADER,
  RACEWAY_CLOCK_HEADER,
  decodeClockHeader,
  encodeClockHeader,
  mergeClock,
} from './clock-propagator.js';
export type { AriadneClockPropagatorOptions, ClockPayload } from './clock-propagator.js';

export { clockLeq, happenedBefore, parseClock, MAX_CLOCK_COMPONENTS } from './clock.js';
export type { ClockEntries } from './clock.js';

export { StrictW3CTraceContextPropagator, isValidTraceState, MAX_TRACESTATE_MEMBERS } from './w3c.js';

export { configureCapture, isSensitiveKey, REDACTED, TRUNCATION_MARK, DEFAULT_REDACT_KEYS, DEFAULT_REDACT_EXACT_KEYS } from './serialize.js';
export type { CaptureConfig } from './serialize.js';

export { runSdkBench } from './bench.js';
export type { SdkBenchOptions, SdkBenchResult } from './bench.js';

export { SDK_NAME, SDK_VERSION } from './version.js';
