/// <reference types="node" />
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Span } from '../span.js';
import { StatusCode } from '../span.js';
import { outliers } from './outliers.js';
import { mkTrace } from './fixtures.js';

/**
 * 100 traces, the 10 slowest selected. 9 of the selected hit db shard 7
 * (3 of the 90 others do); 8 of them ran on host h-bad (9 of the others did);
 * every trace has a unique request id; everyone calls the cache.
 */
function dataset(): { selection: Span[][]; baseline: Span[][] } {
  const selection: Span[][] = [];
  const baseline: Span[][] = [];
  for (let t = 0; t < 100; t++) {
    const selected = t < 10;
    const shard = selected ? (t < 9 ? 7 : 1) : t < 13 ? 7 : t % 7 === 0 ? 0 : t % 7;
    const host = selected ? (t < 8 ? 'h-bad' : 'h-good') : t < 19 ? 'h-bad' : 'h-good';
    const trace = mkTrace([
      { traceId: t.toString(16).padStart(32, '0'), id: `r${t}`, name: 'GET /', service: 'api', start: 0, end: selected ? 900 : 100, attrs: { 'request.id': `req-${t}` }, resource: { 'host.name': host } },
      { traceId: t.toString(16).padStart(32, '0'), id: `q${t}`, parent: `r${t}`, service: 'db', name: 'query', start: 1, end: 50, attrs: { 'db.shard': shard, trace_id: `x${t}` } },
      { traceId: t.toString(16).padStart(32, '0'), id: `c${t}`, parent: `r${t}`, service: 'cache', name: 'get', start: 51, end: 60 },
    ]);
    (selected ? selection : baseline).push(trace);
  }
  return { selection, baseline };
}

test('over-represented values rank by the difference of fractions; ids are skipped', () => {
  const { selection, baseline } = dataset();
  const r = outliers(selection, baseline);
  const top = r.dimensions.map((d) => [d.scope, d.key, d.value, d.selectionCount, d.baselineCount, Math.round(d.difference * 1000) / 1000]);
  assert.deepEqual(top, [
    ['span', 'db.shard', '7', 9, 3, 0.867],
    ['resource', 'host.name', 'h-bad', 8, 9, 0.7],
  ]);
  assert.deepEqual(r.skippedKeys, [{ scope: 'span', key: 'request.id', distinctValues: 100 }]);
  assert.equal(r.selectionTraces, 10);
  assert.equal(r.baselineTraces, 90);
  // The default ignore list drops trace id keys before counting.
  assert.ok(!r.dimensions.some((d) => d.key === 'trace_id'));
});

test('an error status over-represented in the selection shows as an intrinsic dimension', () => {
  const { selection, baseline } = dataset();
  for (const trace of selection.slice(0, 5)) trace[1]!.status = { code: StatusCode.ERROR, message: 'timeout' };
  const r = outliers(selection, baseline, { limit: 5 });
  const status = r.dimensions.find((d) => d.scope === 'intrinsic' && d.key === 'status' && d.value === 'error');
  assert.deepEqual(status && [status.selectionFraction, status.baselineFraction], [0.5, 0]);
});

test('options: minDifference, maxDistinctValues, ignoreKeys', () => {
  const { selection, baseline } = dataset();
  assert.equal(outliers(selection, baseline, { minDifference: 0.75 }).dimensions.length, 1);
  const noShards = outliers(selection, baseline, { maxDistinctValues: 5 });
  assert.ok(noShards.skippedKeys.some((k) => k.key === 'db.shard'));
  const ignored = outliers(selection, baseline, { ignoreKeys: ['db.shard'] });
  assert.equal(ignored.dimensions[0]!.key, 'host.name');
});

test('empty inputs', () => {
  assert.deepEqual(outliers([], []), { dimensions: [], skippedKeys: [], selectionTraces: 0, baselineTraces: 0 });
});
