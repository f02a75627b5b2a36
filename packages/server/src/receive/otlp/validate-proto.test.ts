// validateTraceRequestProto must say exactly what decodeTraceRequestProto
// says (ok or not, the error text, valid and rejected span counts, the
// rejection message) on everything the decoder's own tests feed it, and on
// schema-aware fuzz that reaches every rule of the walk.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { SpanKind as ApiSpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { decodeTraceRequestProto, MAX_ANY_VALUE_DEPTH } from './decode-proto.js';
import { encodeTraceRequestProto } from './encode.js';
import { referenceEncode } from './reference.js';
import { samplePayloadSpans } from './speed-check.js';
import { arbModelSpans, arbRefRequest } from './testing.js';
import { validateTraceRequestProto } from './validate-proto.js';
import { bytes, fixed32, fixed64, fuzzed, msg, mutate, nested, request, spanBody, str, vint, varint, key, buf, TRACE, SPAN, PARENT, type Bytes, truncationPayload } from './wire-fuzz.js';

let compared = 0;

/** The validator's outcome equals the decoder's, field for field. */
function agree(input: Uint8Array, context = ''): boolean {
  const d = decodeTraceRequestProto(input);
  const v = validateTraceRequestProto(input);
  compared++;
  const expected = d.ok
    ? { ok: true, spans: d.result.spans.length, rejectedSpans: d.result.rejectedSpans, errorMessage: d.result.errorMessage }
    : { ok: false, error: d.error };
  assert.deepStrictEqual(v, expected, `${context} (${input.length} bytes: ${Buffer.from(input.subarray(0, 64)).toString('hex')}...)`);
  return d.ok;
}

const arbEdits = (len: number) =>
  fc.array(fc.tuple(fc.nat(Math.max(0, len - 1)), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set' as const, 'insert' as const, 'delete' as const)), {
    minLength: 1,
    maxLength: 4,
  });

// ---- the payloads the decoder's tests use ----

function sdkPayload(): Uint8Array {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'sdk-svc', 'host.cpus': 8, 'deployment.canary': false }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('interop-scope', '3.2.1');
  const root = tracer.startSpan('GET /orders/:id', {
    kind: ApiSpanKind.SERVER,
    attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200, 'queue.ratio': 0.25, 'negative.int': -42, tags: ['a', 'b', 'ü'], ports: [80, 443], unicode: '日本語 😀' },
  });
  const ctx = trace.setSpan(context.active(), root);
  const child = tracer.startSpan('SELECT orders', { kind: ApiSpanKind.CLIENT, links: [{ context: root.spanContext(), attributes: { 'link.reason': 'retry' } }] }, ctx);
  child.addEvent('exception', { 'exception.type': 'TimeoutError' });
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream timeout' });
  child.end();
  root.end();
  return ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!;
}


const SAMPLE = Buffer.from(encodeTraceRequestProto(samplePayloadSpans()));

describe('validateTraceRequestProto agrees with decodeTraceRequestProto', () => {
  it('on random requests through protobufjs: invalid ids, unknown enums, lone surrogates', () => {
    fc.assert(
      fc.property(arbRefRequest, (obj) => {
        agree(Buffer.from(referenceEncode(obj)));
      }),
      { numRuns: 1000 },
    );
  });

  it('on random model spans through our encoder, whole and cut anywhere', () => {
    fc.assert(
      fc.property(arbModelSpans, fc.double({ min: 0, max: 1, noNaN: true }), (spans, cut) => {
        const wire = encodeTraceRequestProto(spans);
        assert.ok(agree(wire));
        agree(wire.subarray(0, Math.floor(cut * wire.length)));
      }),
      { numRuns: 500 },
    );
  });

  it('on schema-aware fuzz: wrong wire types, unknown fields, groups, deep values, odd ids, damage', (t) => {
    let ok = 0;
    let rejected = 0;
    const errors = new Set<string>();
    for (let seed = 1; seed <= 20_000; seed++) {
      const input = fuzzed(seed);
      const d = decodeTraceRequestProto(input);
      if (d.ok) {
        ok++;
        if (d.result.rejectedSpans) rejected++;
      } else errors.add(d.error.replace(/\d+/g, 'N'));
      agree(input, `seed ${seed}`);
    }
    t.diagnostic(`20,000 fuzzed requests: ${ok} decodable (${rejected} with rejected spans), ${errors.size} kinds of error`);
    // The fuzz must reach both sides of the contract and many of its rules.
    assert.ok(ok > 2000 && rejected > 300, `${ok} ok, ${rejected} with rejections`);
    assert.ok(errors.size >= 20, [...errors].join('\n'));
    for (const rule of ['truncated varint', 'longer than 10 bytes', 'is too large', 'runs past the end of the input', 'runs past the end of the enclosing', 'runs past the end of its', 'unsupported group', 'invalid wire type', 'invalid field number 0', 'has wire type', 'truncated fixed64', 'truncated fixed32', 'nested deeper']) {
      assert.ok([...errors].some((e) => e.includes(rule.replace(/\d+/g, 'N'))), `fuzz never reached: ${rule}`);
    }
  });

  it('on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        agree(b);
      }),
      { numRuns: 3000 },
    );
  });

  it('on a real OpenTelemetry JS SDK payload, and every truncation and random damage of it', () => {
    const wire = sdkPayload();
    assert.ok(agree(wire));
    assert.deepStrictEqual(validateTraceRequestProto(wire), { ok: true, spans: 2, rejectedSpans: 0, errorMessage: '' });
    for (let cut = 0; cut < wire.length; cut++) agree(wire.subarray(0, cut), `cut at ${cut}`);
    fc.assert(fc.property(arbEdits(wire.length), (edits) => void agree(mutate(wire, edits))), { numRuns: 1000 });
  });

  it("on the decoder's truncation payload at every offset", () => {
    const wire = truncationPayload();
    let prefixes = 0;
    for (let cut = 0; cut <= wire.length; cut++) if (agree(wire.subarray(0, cut), `cut at ${cut}`)) prefixes++;
    assert.equal(prefixes, 3); // empty, one ResourceSpans, both
  });

  it('on the 100-span benchmark payload, every truncation and random damage', () => {
    assert.deepStrictEqual(validateTraceRequestProto(SAMPLE), { ok: true, spans: 100, rejectedSpans: 0, errorMessage: '' });
    for (let cut = 0; cut < SAMPLE.length; cut += 97) agree(SAMPLE.subarray(0, cut));
    fc.assert(fc.property(arbEdits(SAMPLE.length), (edits) => void agree(mutate(SAMPLE, edits))), { numRuns: 500 });
  });

  it("on the decoder's corruption corpus", () => {
    const original = request(spanBody('a'), spanBody('b', TRACE, SPAN, msg(9, str(1, 'k'), msg(2, vint(3, -1)))));
    const decoded = decodeTraceRequestProto(original);
    assert.ok(decoded.ok);
    const base = encodeTraceRequestProto(decoded.result.spans);
    fc.assert(fc.property(arbEdits(base.length), (edits) => void agree(mutate(base, edits))), { numRuns: 3000 });
  });

  it('on invalid ids: every reason, the cap of 10 named reasons, long and non-UTF-8 names, last field wins', () => {
    const zero16 = new Array(16).fill(0);
    const zero8 = new Array(8).fill(0);
    const r = validateTraceRequestProto(
      request(
        spanBody('good-1'),
        spanBody('no-trace-id', []),
        spanBody('zero-trace-id', zero16),
        spanBody('short-span-id', TRACE, [1, 2, 3]),
        spanBody('zero-span-id', TRACE, zero8),
        spanBody('bad-parent', TRACE, SPAN, bytes(4, [1, 2, 3, 4, 5])),
        spanBody('zero-parent', TRACE, SPAN, bytes(4, zero8)),
        spanBody('good-2', TRACE, SPAN, bytes(4, PARENT)),
      ),
    );
    assert.deepStrictEqual(r, {
      ok: true,
      spans: 3,
      rejectedSpans: 5,
      errorMessage:
        "5 spans rejected: span 'no-trace-id': trace_id must be 16 bytes and not all zero (got 0 bytes); " +
        "span 'zero-trace-id': trace_id must be 16 bytes and not all zero (got all zero bytes); " +
        "span 'short-span-id': span_id must be 8 bytes and not all zero (got 3 bytes); " +
        "span 'zero-span-id': span_id must be 8 bytes and not all zero (got all zero bytes); " +
        "span 'bad-parent': parent_span_id must be empty or 8 bytes (got 5 bytes)",
    });
    const many = Array.from({ length: 15 }, (_, i) => spanBody(`bad-${i}`, []));
    assert.ok(agree(request(spanBody('good'), ...many)));
    assert.ok(agree(request(spanBody('ü'.repeat(100), []), spanBody('x'.repeat(81), TRACE, []), [...bytes(1, []), ...spanBody('twice')])));
    assert.ok(agree(request([...bytes(1, []), ...str(5, 'first'), ...str(5, 'second name wins')], [...str(5, 'nameless'), ...str(5, '')], bytes(2, SPAN))));
    assert.ok(agree(request([...bytes(1, TRACE), ...bytes(2, SPAN), ...msg(5, [0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82, 0xf0, 0x9f, 0x98])], [...msg(5, [0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82, 0xf0, 0x9f, 0x98]), ...bytes(1, TRACE)])));
  });

  it("on the decoder's hand-made shapes and malformed cases", () => {
    const unknown = [...vint(99, 123456789n), ...fixed64(98, 1n), ...str(97, 'skip me'), ...fixed32(96, 7)];
    const kvWith = (extra: Bytes) => msg(9, str(1, 'k'), msg(2, str(1, 'v'), extra), extra);
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      buf(
        unknown,
        msg(
          1,
          unknown,
          msg(1, unknown, msg(1, str(1, 'service.name'), msg(2, str(1, 's'), unknown), unknown), msg(3, str(1, 'entity ref, skipped'))),
          msg(2, unknown, msg(1, str(1, 'scope'), unknown), msg(2, spanBody('x', TRACE, SPAN, kvWith(unknown), msg(15, vint(3, 2), unknown), msg(11, str(2, 'ev'), unknown), msg(13, bytes(1, TRACE), unknown), unknown))),
        ),
      ),
      request(spanBody('pad', TRACE, SPAN, [...key(6, 0), 0x82, 0x80, 0x00], [...key(12, 0), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])),
      buf([0x0a]),
      buf([0x0a, 0x05, 1, 2]),
      buf(msg(1, [...key(2, 2), 50, 1, 2]), msg(1, [])),
      buf([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
      buf([...key(20, 0), ...new Array(10).fill(0xff), 0x01]),
      buf([0x0b]),
      buf([0x7c]),
      buf([0x0e]),
      buf([0x02, 0x00]),
      buf([0x08, 0x01]),
      request(spanBody('x', TRACE, SPAN, vint(7, 5))),
      request([...spanBody('x'), ...key(7, 1), 1, 2, 3]),
      request([...spanBody('x'), ...key(16, 5), 1, 2]),
      buf(msg(1, msg(2, msg(2, [...key(6, 0)]), [0x01]))),
      buf([...key(20, 1), 1, 2]),
      buf([...Buffer.from('this is not protobuf at all')]),
      nested(MAX_ANY_VALUE_DEPTH),
      nested(MAX_ANY_VALUE_DEPTH + 1),
      nested(MAX_ANY_VALUE_DEPTH, 6),
      nested(MAX_ANY_VALUE_DEPTH + 1, 6),
    ];
    for (const [i, c] of cases.entries()) agree(c, `case ${i}`);
    assert.deepStrictEqual(validateTraceRequestProto(nested(MAX_ANY_VALUE_DEPTH + 1)), decodeTraceRequestProto(nested(MAX_ANY_VALUE_DEPTH + 1)));
  });

  it('on hostile nesting (100k levels of kvlists) without a stack overflow', () => {
    const prefix = [...key(6, 2), 0xff, 0xff, 0x7f];
    let inner: Bytes = str(1, 'x');
    for (let i = 0; i < 200; i++) inner = msg(6, msg(1, str(1, 'k'), msg(2, inner)));
    const deep = buf(...new Array(100_000).fill(prefix), inner);
    const wire = buf(msg(1, msg(2, msg(2, spanBody('x', TRACE, SPAN, [...key(9, 2), ...varint(deep.length), ...deep])))));
    assert.equal(agree(wire), false);
  });

  it('on views: an offset into a larger buffer, a Buffer, and non-byte input', () => {
    const wire = request(spanBody('offset'));
    const big = new Uint8Array(wire.length + 10);
    big.set(wire, 7);
    assert.ok(agree(big.subarray(7, 7 + wire.length)));
    assert.ok(agree(Buffer.from(wire)));
    assert.equal(agree(big.subarray(7, 7 + wire.length - 1)), false); // the error names offsets within the view
    for (const bad of ['abc', null, undefined, [1, 2]]) {
      assert.deepStrictEqual(validateTraceRequestProto(bad as unknown as Uint8Array), decodeTraceRequestProto(bad as unknown as Uint8Array));
    }
  });

  it('compared thousands of inputs', (t) => {
    t.diagnostic(`${compared} inputs compared`);
    assert.ok(compared > 30_000, `${compared}`);
  });
});

describe('validateTraceRequestProto speed', () => {
  it('is several times faster than the full decode on the 100-span payload', (t) => {
    const rate = (f: () => unknown, ms: number) => {
      let n = 0;
      const t0 = performance.now();
      let now = t0;
      while (now - t0 < ms) {
        for (let i = 0; i < 20; i++) f();
        n += 20;
        now = performance.now();
      }
      return (n * 100) / ((now - t0) / 1000);
    };
    let validate = 0;
    let decode = 0;
    for (let round = 0; round < 4; round++) {
      validate = Math.max(validate, rate(() => validateTraceRequestProto(SAMPLE), 250));
      decode = Math.max(decode, rate(() => decodeTraceRequestProto(SAMPLE), 250));
    }
    const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
    t.diagnostic(`validate ${fmt(validate)} spans/s, decode ${fmt(decode)} spans/s: ${(validate / decode).toFixed(1)}x`);
    // The target is 4x or more (README); the bound is loose for loaded test machines.
    assert.ok(validate > 2 * decode, `validate ${fmt(validate)} spans/s vs decode ${fmt(decode)}`);
  });
});
