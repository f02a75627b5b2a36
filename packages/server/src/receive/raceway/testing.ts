// Raceway batches for tests, shaped the way Raceway's SDKs send them: a
// lost update between two services, and builders for single events.

import { randomUUID } from 'node:crypto';
import { formatTimestamp } from '@ariadne/model';

export type RacewayEvent = Record<string, unknown>;

export interface Ctx {
  service: string;
  instance: string;
  thread: string;
  /** distributed_span_id (16 hex) */
  span: string;
  upstream?: string;
  language?: string;
}

let seq = 0;

/** One Raceway event of a request context at `t` (unix ns). */
export function rwEvent(traceUuid: string, ctx: Ctx, t: bigint, kind: Record<string, unknown>, clock: [string, number][], extra: { lockSet?: string[]; durationNs?: number } = {}): RacewayEvent {
  return {
    id: randomUUID(),
    trace_id: traceUuid,
    parent_id: null,
    timestamp: formatTimestamp(t),
    kind,
    metadata: {
      thread_id: ctx.thread,
      process_id: 4000 + (seq++ % 100),
      service_name: ctx.service,
      environment: 'test',
      tags: { sdk_language: ctx.language ?? 'typescript' },
      duration_ns: extra.durationNs ?? null,
      instance_id: ctx.instance,
      distributed_span_id: ctx.span,
      upstream_span_id: ctx.upstream ?? null,
    },
    causality_vector: clock,
    lock_set: extra.lockSet ?? [],
  };
}

/** Raceway's trace id (a UUID) as Ariadne stores it. */
export const hexOf = (uuid: string) => uuid.replace(/-/g, '');

export interface LostUpdate {
  traceUuid: string;
  traceId: string;
  events: RacewayEvent[];
  api: Ctx;
  ledger: Ctx;
}

/**
 * bank-api calls ledger (which learns bank-api's clock at the call), then
 * both read `variable` (100) and write their own result: the ledger's write
 * loses bank-api's. Three races: read/write twice (warning), write/write
 * (critical).
 */
export function lostUpdateBatch(t0: bigint, variable = 'account_balance'): LostUpdate {
  const traceUuid = randomUUID();
  const api: Ctx = { service: 'bank-api', instance: 'api-1', thread: 'node-main', span: 'a1a1a1a1a1a1a1a1' };
  const ledger: Ctx = { service: 'ledger', instance: 'ledger-7', thread: 'worker-3', span: 'b2b2b2b2b2b2b2b2', upstream: api.span, language: 'python' };
  const A = 'bank-api#api-1';
  const L = 'ledger#ledger-7';
  const ms = (n: number) => t0 + BigInt(n) * 1_000_000n;
  const events = [
    rwEvent(traceUuid, api, ms(0), { HttpRequest: { method: 'POST', url: '/transfer', headers: {}, body: null } }, [[A, 1]]),
    rwEvent(traceUuid, api, ms(1), { FunctionCall: { function_name: 'transfer', module: 'bank', args: { amount: 50 }, file: 'bank.ts', line: 40 } }, [[A, 2]]),
    rwEvent(traceUuid, ledger, ms(2), { HttpRequest: { method: 'POST', url: '/debit', headers: {}, body: null } }, [[A, 1], [L, 1]]),
    rwEvent(traceUuid, api, ms(3), { StateChange: { variable, old_value: null, new_value: 100, location: 'bank.ts:41', access_type: 'Read' } }, [[A, 3]]),
    rwEvent(traceUuid, ledger, ms(4), { StateChange: { variable, old_value: null, new_value: 100, location: 'ledger.py:17', access_type: 'Read' } }, [[A, 1], [L, 2]]),
    rwEvent(traceUuid, api, ms(5), { StateChange: { variable, old_value: 100, new_value: 50, location: 'bank.ts:44', access_type: 'Write' } }, [[A, 4]]),
    rwEvent(traceUuid, ledger, ms(6), { StateChange: { variable, old_value: 100, new_value: 70, location: 'ledger.py:21', access_type: 'Write' } }, [[A, 1], [L, 3]]),
    rwEvent(traceUuid, ledger, ms(7), { HttpResponse: { status: 200, headers: {}, body: null, duration_ms: 5 } }, [[A, 1], [L, 4]]),
    rwEvent(traceUuid, api, ms(8), { HttpResponse: { status: 200, headers: {}, body: null, duration_ms: 8 } }, [[A, 5]]),
  ];
  return { traceUuid, traceId: hexOf(traceUuid), events, api, ledger };
}
