// Tests that need a system service (the Ariadne server, Redis) call
// `needService` first: it prints `SKIP <reason>` and skips when the service is
// missing, or fails when ARIADNE_TEST_REQUIRE_ALL=1 (as CI sets it).
// (The same few lines as packages/server/src/testing/services.ts; the SDK
// never imports server code.)

import type { TestContext } from 'node:test';

export function needService(t: TestContext, available: boolean, reason: string): boolean {
  if (available) return true;
  if (process.env.ARIADNE_TEST_REQUIRE_ALL === '1') {
    throw new Error(`required service missing (ARIADNE_TEST_REQUIRE_ALL=1): ${reason}`);
  }
  console.log(`SKIP ${reason}`);
  t.skip(reason);
  return false;
}
