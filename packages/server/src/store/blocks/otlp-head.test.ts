// The block store's OTLP path (otlp-head.ts) must leave the head exactly as
// Head.add(decodeTraceRequestProto(bytes)) would, batch refusals included,
// on fuzzed wire input, protobufjs-built requests, model spans and the
// benchmark dataset.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Span } from '@ariadne/model';
import { decodeTraceRequestProto } from '../../receive/otlp/decode-proto.js';
import { encodeTraceRequestProto } from '../../receive/otlp/encode.js';
import { referenceEncode } from '../../receive/otlp/reference.js';
import { arbModelSpans, arbRefRequest } from '../../receive/otlp/testing.js';
import { validateTraceRequestProto } from '../../receive/otlp/validate-proto.js';
import { bytes, fixed64, fuzzed, msg, spanBody, str, vint, buf, SPAN, TRACE } from '../../receive/otlp/wire-fuzz.js';
import { generateTraces } from '../../bench/dataset.js';
import { Head } from './head.js';
import { stageOtlpProto } from './otlp-head.js';
import { BlockStore, validateSpan } from './store.js';

type Outcome = { ok: true; added: number } | { ok: false; error: string };

/** The reference: decode to Spans, check them as BlockStore.write does, add. */
function viaSpans(head: Head, input: Uint8Array): Outcome {
  const d = decodeTraceRequestProto(input);
  assert.ok(d.ok, 'the test feeds only valid requests');
  try {
    for (const s of d.result.spans) validateSpan(s);
  } catch (e) {
    return { ok: false, error: String(e) };
  }
  return { ok: true, added: head.add(d.result.spans) };
}

function viaOtlp(head: Head, input: Uint8Array): Outcome {
  const st = head.staging;
  st.reset();
  try {
    stageOtlpProto(head, input, st);
  } catch (e) {
    return { ok: false, error: String(e) };
  }
  return { ok: true, added: head.commit(st) };
}

function rowsOf(head: Head): Span[] {
  const out: Span[] = [];
  for (let r = 0; r < head.rows; r++) out.push(head.span(r));
  return out;
}

function assertSameHeads(a: Head, b: Head, context: string): void {
  assert.equal(b.rows, a.rows, `${context}: rows`);
  assert.equal(b.live, a.live, `${context}: live`);
  assert.equal(b.traceCount, a.traceCount, `${context}: traces`);
  assert.deepStrictEqual(rowsOf(b), rowsOf(a), `${context}: rows read back`);
  assert.deepStrictEqual([...b.odd.keys()], [...a.odd.keys()], `${context}: odd rows`);
  assert.equal(b.minStart, a.minStart, `${context}: minStart`);
  assert.equal(b.maxStart, a.maxStart, `${context}: maxStart`);
  const ops = (h: Head) => [...h.ops].map(([svc, set]) => [h.strings.values[svc], [...set].map((op) => [h.strings.values[op >> 8], op & 255]).sort()]).sort();
  assert.deepStrictEqual(ops(b), ops(a), `${context}: services and operations`);
}

/** Feeds the same requests through both paths, one head each, and compares after every request. */
function agree(inputs: readonly Uint8Array[], context: string): number {
  const a = new Head(16);
  const b = new Head(16);
  let compared = 0;
  for (const [i, input] of inputs.entries()) {
    if (!validateTraceRequestProto(input).ok) continue;
    const ra = viaSpans(a, input);
    const rb = viaOtlp(b, input);
    assert.deepStrictEqual(rb, ra, `${context} #${i}: outcome`);
    assertSameHeads(a, b, `${context} #${i}`);
    compared++;
  }
  return compared;
}

describe('stageOtlpProto + Head.commit', () => {
  it('agrees with Head.add(decodeTraceRequestProto) on fuzzed wire input, each request twice (duplicates collapse)', () => {
    let compared = 0;
    for (let seed = 0; seed < 3000; seed += 20) {
      const inputs: Uint8Array[] = [];
      for (let k = 0; k < 20; k++) inputs.push(fuzzed(seed + k), fuzzed(seed + k));
      compared += agree(inputs, `seeds ${seed}..${seed + 19}`);
    }
    assert.ok(compared > 1000, `only ${compared} fuzzed requests were valid`);
  });

  it('agrees on protobufjs-built requests (invalid ids, lone surrogates, every value type)', () => {
    fc.assert(
      fc.property(fc.array(arbRefRequest, { minLength: 1, maxLength: 4 }), (reqs) => {
        agree(reqs.map((r) => referenceEncode(r)), 'arbRefRequest');
      }),
      { numRuns: 150 },
    );
  });

  it('agrees on model spans, mixing both paths in one head', () => {
    fc.assert(
      fc.property(fc.array(arbModelSpans, { minLength: 1, maxLength: 4 }), (batches) => {
        const inputs = batches.map((s) => encodeTraceRequestProto(s));
        agree(inputs, 'arbModelSpans');
        // alternate the paths on one head: the result is the reference's
        const a = new Head(16);
        const b = new Head(16);
        inputs.forEach((input, i) => {
          viaSpans(a, input);
          if (i % 2) viaSpans(b, input);
          else viaOtlp(b, input);
        });
        assertSameHeads(a, b, 'mixed');
      }),
      { numRuns: 150 },
    );
  });

  it('agrees on the benchmark dataset, past the point where high-cardinality dictionaries go plain', () => {
    const inputs: Uint8Array[] = [];
    for (let i = 0; i < 60; i++) inputs.push(encodeTraceRequestProto(generateTraces(100 + i, 10, 1_700_000_000_000_000_000n)));
    assert.equal(agree(inputs, 'dataset'), 60);
    const b = new Head(16);
    for (const input of inputs) viaOtlp(b, input);
    const plain = [...b.dicts.values()].filter((d) => d.plain);
    assert.ok(plain.length > 0, 'request.id and response.size turn plain at this size');
  });

  it('handles the wire orders SDKs do not send: resource after spans, repeated status and values, value before key', () => {
    const t = 1_731_000_000_000_000_000n;
    const attr = (...parts: number[][]) => msg(9, ...parts);
    const span = spanBody(
      'odd-order',
      TRACE,
      SPAN,
      fixed64(7, t),
      fixed64(8, t + 5n),
      attr(msg(2, str(1, 'first'), vint(3, 7)), str(1, 'k')), // value before key; last value field (int) wins
      attr(str(1, 'k2'), msg(2, str(1, 'dropped')), msg(2, vint(2, 1))), // a second value replaces the first
      msg(15, str(2, 'early'), vint(3, 1)),
      msg(15, vint(3, 2)), // code 2, message 'early' kept
    );
    const input = buf(
      msg(1, msg(2, msg(1, str(1, 'lib'), str(2, '1.0')), msg(2, span)), msg(1, msg(1, str(1, 'service.name'), msg(2, str(1, 'late-svc')))), str(3, 'https://schema/1')),
    );
    assert.equal(agree([input, input], 'hand-built'), 2);
    const h = new Head(16);
    viaOtlp(h, input);
    const s = h.span(0);
    assert.equal(s.service, 'late-svc');
    assert.equal(s.resource.schemaUrl, 'https://schema/1');
    assert.deepStrictEqual(s.status, { code: 2, message: 'early' });
    assert.deepStrictEqual(s.attributes, [
      { key: 'k', value: { intValue: '7' } },
      { key: 'k2', value: { boolValue: true } },
    ]);
  });
});

describe('BlockStore.durableLsn', () => {
  it('is the highest LSN written into a head once that head (and every older one) is in blocks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ariadne-durable-lsn-'));
    try {
      const store = await BlockStore.open({ dir, flushIn: 'inline', compaction: 'off', flushIntervalMs: 3_600_000 });
      const body = (seed: number) => encodeTraceRequestProto(generateTraces(seed, 2, 1_700_000_000_000_000_000n));
      assert.equal(await store.durableLsn(), 0n);
      await store.writeOtlpProto(body(1), undefined, 5n);
      await store.writeOtlpProto(body(2)); // untagged: moves nothing
      assert.equal(await store.durableLsn(), 0n, 'written, not flushed');
      await store.flush();
      assert.equal(await store.durableLsn(), 5n);
      await store.writeOtlpProto(body(3), undefined, 9n);
      assert.equal(await store.durableLsn(), 5n);
      await store.flush();
      assert.equal(await store.durableLsn(), 9n);
      await store.flush(); // nothing new
      assert.equal(await store.durableLsn(), 9n);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('BlockStore.writeOtlpProto', () => {
  it('stores what write(decoded spans) stores; refuses bad bytes and out-of-range kinds whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ariadne-otlp-head-'));
    try {
      const store = await BlockStore.open({ dir, flushIn: 'inline', compaction: 'off' });
      const spans = generateTraces(7, 5, 1_700_000_000_000_000_000n);
      assert.deepStrictEqual(await store.writeOtlpProto(encodeTraceRequestProto(spans)), { spans: spans.length });
      for (const id of new Set(spans.map((s) => s.traceId))) {
        const want = spans.filter((s) => s.traceId === id).sort((x, y) => (x.startTimeUnixNano < y.startTimeUnixNano ? -1 : x.startTimeUnixNano > y.startTimeUnixNano ? 1 : x.spanId < y.spanId ? -1 : 1));
        assert.deepStrictEqual(await store.getTrace(id), want);
      }
      const before = (await store.stats()).spans;
      await assert.rejects(store.writeOtlpProto(Uint8Array.from([0x0a, 0x05, 0x01])), (e: Error) => {
        assert.equal(e.name, 'SyntaxError');
        assert.match(e.message, /^cannot decode OTLP protobuf: length 5 at offset 1 runs past the end/);
        return true;
      });
      const good = spanBody('ok', TRACE, SPAN, fixed64(7, 1n), fixed64(8, 2n));
      const badKind = spanBody('bad', TRACE, SPAN.map((b) => b ^ 1), fixed64(7, 1n), fixed64(8, 2n), vint(6, 300));
      await assert.rejects(store.writeOtlpProto(buf(msg(1, msg(2, msg(2, good), msg(2, badKind))))), /^TypeError: block store: span "a1a0a3a2a5a4a7a6" of trace "0102030405060708090a0b0c0d0e0f10" has invalid kind; batch refused$/);
      assert.equal((await store.stats()).spans, before, 'nothing of the refused batch was added');
      assert.deepStrictEqual(await store.writeOtlpProto(buf(msg(1, msg(2, msg(2, good))))), { spans: 1 });
      assert.equal((await store.stats()).spans, before + 1);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
