import { test } from 'node:test';
import assert from 'node:assert/strict';
import { propagation } from '@opentelemetry/api';
import { runSdkBench } from './bench.js';

test('runSdkBench reports every figure (small run; the numbers themselves come from `ariadne bench sdk`)', async () => {
  const r = await runSdkBench({ iterations: 2000 });
  for (const key of ['decoratorRatio', 'spanNanos', 'referenceSpanNanos', 'methodSpanNanos', 'methodRatio', 'causalEventNanos', 'referenceEventNanos', 'causalEventRatio', 'causalEventWithLocationNanos'] as const) {
    assert.ok(Number.isFinite(r[key]) && r[key] > 0, `${key} = ${r[key]}`);
  }
  // Loose sanity bounds only: CI machines are noisy.
  assert.ok(r.decoratorRatio < 5, `decoratorRatio ${r.decoratorRatio}`);
  assert.ok(r.causalEventNanos < 50_000, `causalEventNanos ${r.causalEventNanos}`);
  assert.ok(r.iterations >= 2000);
  assert.equal(propagation.fields().length, 0, 'the bench cleans up the globals it installed');
});
