// Test support for worker-store.test.ts: a store entry whose store lives in
// memory and misbehaves on request, to see WorkerStore through failures.
//
//   openStore({ fail: 'throw' | 'exit' })   the open itself fails
//   openStore({ discard: true })            write() keeps nothing (bench.ts: the ceiling without a store)
//   getTrace(id) with id =
//     'throw'     rejects with Error('boom in the store')
//     'type'      rejects with a TypeError
//     'exit'      process.exit(3) inside the worker
//     'uncaught'  an exception nobody catches, on the next tick
//     'hang'      never settles
//     'log'       logs through the entry context, then returns []
//     'release'   lets every gated write finish, returns how many there were
//   write(spans) waits for 'release' when a span is named 'gate'

import type { OperationInfo, Span, TraceSummary } from '@ariadne/model';
import type { StoreStats, TraceStore } from '../types.js';
import type { OpenStore, StoreEntryContext } from './protocol.js';

export interface TestingEntryOptions {
  fail?: 'throw' | 'exit';
  discard?: boolean;
}

class MisbehavingStore implements TraceStore {
  private readonly spans: Span[] = [];
  private gated: (() => void)[] = [];

  constructor(
    private readonly context: StoreEntryContext,
    private readonly discard: boolean,
  ) {}

  async write(spans: readonly Span[]): Promise<void> {
    if (this.discard) return;
    if (spans.some((s) => s.name === 'gate')) await new Promise<void>((resolve) => this.gated.push(resolve));
    this.spans.push(...spans);
  }

  async getTrace(traceId: string): Promise<Span[]> {
    switch (traceId) {
      case 'throw':
        throw new Error('boom in the store');
      case 'type':
        throw new TypeError('not a valid thing');
      case 'exit':
        process.exit(3);
        break;
      case 'uncaught':
        setImmediate(() => {
          throw new Error('nobody catches this');
        });
        return new Promise(() => {});
      case 'hang':
        return new Promise(() => {});
      case 'log':
        this.context.log('hello from the worker');
        return [];
      case 'release': {
        const n = this.gated.length;
        for (const go of this.gated.splice(0)) go();
        return [{ name: String(n) } as Span];
      }
    }
    return this.spans.filter((s) => s.traceId === traceId);
  }

  async search(): Promise<TraceSummary[]> {
    return [];
  }

  async services(): Promise<string[]> {
    return [...new Set(this.spans.map((s) => s.service))].sort();
  }

  async operations(): Promise<OperationInfo[]> {
    return [];
  }

  async deleteBefore(): Promise<number> {
    return 0;
  }

  async flush(): Promise<void> {}

  async stats(): Promise<StoreStats> {
    return { spans: this.spans.length, bytesOnDisk: 0 };
  }

  async close(): Promise<void> {}
}

export const openStore: OpenStore<TestingEntryOptions> = async (options, context) => {
  if (options.fail === 'throw') throw new Error('cannot open: simulated');
  if (options.fail === 'exit') process.exit(7);
  return new MisbehavingStore(context, options.discard === true);
};
