// Runs every compiled test file with Node's own test runner.
// ARIADNE_TEST_REQUIRE_ALL=1 turns a skipped service-dependent test into a failure
// (see packages/server/src/testing/services.ts).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const dirs = ['packages/model/dist', 'packages/server/dist', 'packages/sdk/dist'].filter((d) => existsSync(d));
const extra = process.argv.slice(2);
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...extra, ...dirs], { stdio: 'inherit' });
process.exit(r.status ?? 1);
