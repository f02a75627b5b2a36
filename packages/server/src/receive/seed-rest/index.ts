// Seed 004's REST API (/traces/..., /stats) over ordinary spans.

export type { SeedRest, SeedRestOptions } from './api.js';
export { seedRestApi, UNFINISHED_ATTRIBUTE } from './api.js';
export type { OpenSpan, OpenSpansOptions, UnfinishedReason } from './open-spans.js';
export { OpenSpans } from './open-spans.js';
export { parseTraceparent, incomingContext } from './propagation.js';
export { millisToNanosExact } from './convert.js';
