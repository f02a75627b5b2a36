import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { AnyValue, KeyValue, Span } from '@ariadne/model';
import { attributeText } from '@ariadne/model';
import { assertSameSpans, makeRichSpan, makeSpan, makeTrace, randomSpanId, randomTraceId, nowNanos, SECOND } from '../../testing/fixtures.js';
import { Block, traceIdWords } from './block.js';
import { ByteReader, ByteWriter } from './bytes.js';
import { ByteLru } from './cache.js';
import { encodeHead } from './encode.js';
import type { EncodedBlock } from './encode.js';
import { AttrMode, Codec, Col } from './format.js';
import { Head } from './head.js';
import { bucketOf, bucketValue } from './red.js';
import { blockFormat, readableVersions } from './versioned.js';
import { PackedDict, readValue, textProbe, valueMatches, writeValue } from './values.js';

const OPTS = { pageRows: 4096, compression: { codec: Codec.BROTLI, level: 3 }, footerCompression: { codec: Codec.DEFLATE, level: 6 } };

const opened: Block[] = [];

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'ariadne-format-'));
  try {
    return await fn(dir);
  } finally {
    for (const b of opened.splice(0)) b.retire();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes spans through a head into block files and opens them. */
async function roundTrip(dir: string, spans: Span[], opts: Partial<typeof OPTS> = {}): Promise<{ blocks: Block[]; encoded: EncodedBlock[] }> {
  const head = new Head();
  for (let i = 0; i < spans.length; i += 1000) head.add(spans.slice(i, i + 1000));
  const encoded = await encodeHead(head, { ...OPTS, ...opts });
  const cache = new ByteLru(64 << 20);
  const blocks: Block[] = [];
  for (const [i, e] of encoded.entries()) {
    const path = join(dir, `b${i}.blk`);
    await writeFile(path, Buffer.concat(e.parts));
    blocks.push(await Block.open(path, `b${i}.blk`, cache, `k${i}`));
    opened.push(blocks.at(-1)!);
  }
  return { blocks, encoded };
}

async function readTrace(blocks: Block[], traceId: string): Promise<Span[]> {
  const out: Span[] = [];
  for (const b of blocks) {
    const t = b.findTrace(traceIdWords(traceId)!);
    if (t >= 0) out.push(...(await b.traceSpans(t)));
  }
  return out;
}

const anyValue: fc.Arbitrary<AnyValue> = fc.letrec<{ v: AnyValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'binary' }).map((s) => ({ stringValue: s })),
    fc.string({ unit: fc.constantFrom('a', '\ud800', '\udc00', '😀', '\x00', 'é') }).map((s) => ({ stringValue: s })),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => ({ intValue: n.toString() })),
    fc.constantFrom('007', '+1', '-0', '99999999999999999999', 'x').map((s) => ({ intValue: s })),
    fc.double().map((d) => ({ doubleValue: d })),
    fc.integer({ min: -1e6, max: 1e6 }).map((n) => ({ doubleValue: n / 100 })),
    fc.boolean().map((b) => ({ boolValue: b })),
    fc.base64String().map((s) => ({ bytesValue: s })),
    fc.constant({}),
    fc.array(tie('v'), { maxLength: 3 }).map((values) => ({ arrayValue: { values } })),
    fc.array(fc.tuple(fc.string(), tie('v')), { maxLength: 3 }).map((kvs) => ({ kvlistValue: { values: kvs.map(([key, value]): KeyValue => ({ key, value })) } })),
  ),
})).v;

describe('block format: bytes and values', () => {
  it('round-trips varints of numbers and bigints of any size', () => {
    const w = new ByteWriter(1);
    const nums = [0, 1, 127, 128, 2 ** 31, 2 ** 32 + 5, 2 ** 52 - 1, 2 ** 53 - 1];
    const signed = [0, -1, 1, -(2 ** 51), 2 ** 51, -(2 ** 52) + 1, 2 ** 52, -(2 ** 52), 2 ** 53 - 1, -(2 ** 53) + 1];
    const bigs = [0n, 2n ** 53n, 2n ** 64n - 1n, 2n ** 70n + 3n];
    for (const n of nums) w.uvar(n);
    for (const n of signed) w.svar(n);
    for (const b of bigs) w.uvarBig(b);
    for (const b of bigs) w.svarBig(-b);
    const r = new ByteReader(w.finish());
    for (const n of nums) assert.equal(r.uvar(), n);
    for (const n of signed) assert.equal(r.varLenHere() <= 7 ? r.svar() : Number(r.svarBig()), n);
    for (const b of bigs) assert.equal(r.uvarBig(), b);
    for (const b of bigs) assert.equal(r.svarBig(), -b);
    assert.ok(r.done);
  });

  it('round-trips any UTF-16 string, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('a', '\ud800', '\udfff', '😀', 'ß') }))), (strs) => {
        const w = new ByteWriter(4);
        for (const s of strs) w.str(s);
        const r = new ByteReader(w.finish());
        for (const s of strs) assert.equal(r.str(), s);
        const r2 = new ByteReader(w.finish());
        for (let i = 0; i < strs.length; i++) r2.skipStr();
        assert.ok(r2.done);
      }),
    );
  });

  it('round-trips every attribute value type exactly', () => {
    fc.assert(
      fc.property(fc.array(anyValue, { maxLength: 8 }), (values) => {
        const w = new ByteWriter(8);
        for (const v of values) writeValue(w, v);
        const r = new ByteReader(w.finish());
        for (const v of values) assert.deepStrictEqual(readValue(r), v);
      }),
    );
  });

  it('matches search text exactly as attributeText does', () => {
    fc.assert(
      fc.property(anyValue, fc.oneof(fc.constantFrom('0', '-0', 'NaN', 'true', 'false', '1', '1.5', 'null', '[]', 'Infinity', '1e21'), fc.string()), (v, text) => {
        assert.equal(valueMatches(v, textProbe(text)), attributeText(v) === text);
        assert.equal(valueMatches(v, textProbe(attributeText(v))), true);
      }),
    );
  });

  it('finds dictionary values by search text on their encoded bytes', () => {
    fc.assert(
      fc.property(fc.array(anyValue, { maxLength: 12 }), fc.oneof(fc.constantFrom('0', 'NaN', 'true', 'null', '1'), fc.string()), (values, text) => {
        const w = new ByteWriter(8);
        for (const v of values) writeValue(w, v);
        const dict = PackedDict.read(new ByteReader(w.finish()), values.length);
        for (const t of [text, ...values.map(attributeText)]) {
          const want = values.flatMap((v, i) => (attributeText(v) === t ? [i] : []));
          assert.deepStrictEqual(dict.matching(textProbe(t)), want);
        }
        values.forEach((v, i) => assert.deepStrictEqual(dict.value(i), v));
      }),
    );
  });

  it('puts durations in log-linear buckets no more than 0.4% from the value', () => {
    for (const d of [0, 1, 2, 3, 100, 127, 128, 129, 1000, 123_456_789, 2 ** 40 + 17, 9.3e18]) {
      const v = bucketValue(bucketOf(d));
      if (d < 256) assert.equal(v, d);
      else assert.ok(Math.abs(v - d) / d <= 1 / 256 + 1e-12, `${d} -> ${v}`);
    }
    assert.equal(bucketOf(-5), 0);
  });
});

describe('block format: files', () => {
  it('round-trips every field of rich spans, with parents inside and outside the block', () =>
    withDir(async (dir) => {
      const traceId = randomTraceId();
      const root = makeSpan({ traceId, service: 'plain', name: 'root' });
      const spans = [root, makeRichSpan({ traceId }), makeRichSpan({ traceId, parentSpanId: root.spanId }), makeSpan({ traceId, parentSpanId: randomSpanId() })];
      const { blocks } = await roundTrip(dir, spans);
      assertSameSpans(await readTrace(blocks, traceId), spans);
    }));

  it('splits spans more than 2^52 ns apart into blocks of their own, every time exact', () =>
    withDir(async (dir) => {
      const traceId = randomTraceId();
      const now = nowNanos();
      const spans = [
        makeSpan({ traceId, startTimeUnixNano: 0n, endTimeUnixNano: 2n ** 64n - 1n }),
        makeSpan({ traceId, startTimeUnixNano: 1n, endTimeUnixNano: 0n }),
        makeSpan({ traceId, startTimeUnixNano: now, endTimeUnixNano: now + 3n }),
        makeSpan({ traceId, startTimeUnixNano: 2n ** 64n - 1n, endTimeUnixNano: 0n }),
        makeSpan({ traceId, startTimeUnixNano: now - 2n ** 53n, endTimeUnixNano: now + 2n ** 53n + 1n }),
      ];
      const { blocks } = await roundTrip(dir, spans);
      assert.ok(blocks.length >= 3);
      for (const b of blocks) assert.ok(b.meta.maxStart < 2 ** 52);
      assertSameSpans(await readTrace(blocks, traceId), spans);
    }));

  it('keeps traces whole across pages of any size, and sorts rows by trace, start, span id', () =>
    withDir(async (dir) => {
      const traces = Array.from({ length: 30 }, (_, i) => makeTrace({ depth: 2, fanout: 1 + (i % 5) }));
      const big = makeTrace({ depth: 1, fanout: 40 });
      const all = [...traces.flat(), ...big].reverse();
      for (const pageRows of [1, 3, 7, 4096]) {
        const { blocks } = await roundTrip(dir, all, { pageRows });
        const b = blocks[0]!;
        assert.equal(b.meta.rows, all.length);
        if (pageRows < 10) assert.ok(b.meta.pages.length > 1);
        for (const t of [...traces, big]) assertSameSpans(await readTrace(blocks, t[0]!.traceId), t, `pageRows ${pageRows}`);
        const ids = Array.from({ length: b.traces }, (_, t) => b.traceIdOf(t));
        assert.deepStrictEqual(ids, [...ids].sort());
        let n = 0;
        for await (const batch of b.allSpans(5)) {
          for (let i = 1; i < batch.length; i++) {
            const [x, y] = [batch[i - 1]!, batch[i]!];
            if (x.traceId === y.traceId) assert.ok(x.startTimeUnixNano < y.startTimeUnixNano || (x.startTimeUnixNano === y.startTimeUnixNano && x.spanId < y.spanId));
          }
          n += batch.length;
        }
        assert.equal(n, all.length);
      }
    }));

  it('stores each attribute key as a dictionary, plain values or with the rare keys, and reads each back', () =>
    withDir(async (dir) => {
      const spans: Span[] = [];
      const start = nowNanos() - 60n * SECOND;
      for (let i = 0; i < 3000; i++) {
        const attributes: KeyValue[] = [
          { key: 'http.method', value: { stringValue: ['GET', 'POST'][i % 2]! } },
          { key: 'request.id', value: { stringValue: i % 500 === 7 ? 'NOT-HEX ' + i : (i * 2654435761).toString(16).padStart(16, '0') } },
          { key: 'size', value: { doubleValue: i % 400 === 3 ? [NaN, -0, 1e300, 0.1 + 0.2][Math.floor(i / 400) % 4]! : (i * 7919) / 100 } },
          { key: 'count', value: i % 2 ? { intValue: String(i * 1_000_003) } : { intValue: '9223372036854775807' } },
        ];
        if (i % 1000 === 0) attributes.push({ key: `rare.${i}`, value: { arrayValue: { values: [{ intValue: '1' }, { stringValue: 'x' }] } } });
        spans.push(makeSpan({ startTimeUnixNano: start + BigInt(i), attributes }));
      }
      const { blocks } = await roundTrip(dir, spans);
      const b = blocks[0]!;
      const modeOf = (key: string) => b.meta.attrColumns[b.columnOfKey.get(b.stringId(key)!)!]!;
      assert.equal(modeOf('http.method').mode, AttrMode.DICT);
      assert.equal(modeOf('request.id').mode, AttrMode.PLAIN);
      assert.equal(modeOf('request.id').hex, true);
      assert.equal(modeOf('size').mode, AttrMode.PLAIN);
      assert.equal(modeOf('size').doubleExp, 2);
      assert.equal(modeOf('rare.1000').mode, AttrMode.MISC);
      for (const s of spans) assertSameSpans(await readTrace(blocks, s.traceId), [s]);
      // search each kind of column, reading the mask of page 0
      const rows = async (key: string, value: string) => {
        const m = await b.attributeRows(0, b.stringId(key)!, textProbe(value));
        return m ? m.reduce((n, x) => n + x, 0) : 0;
      };
      assert.equal(await rows('http.method', 'GET'), 1500);
      assert.equal(await rows('request.id', 'NOT-HEX 7'), 1);
      assert.equal(await rows('request.id', (1 * 2654435761).toString(16).padStart(16, '0')), 1);
      assert.equal(await rows('size', String((11 * 7919) / 100)), 1);
      assert.equal(await rows('size', 'NaN'), 2);
      assert.equal(await rows('size', '0'), 3); // -0 twice (i = 403, 2003), and 0 (i = 0)
      assert.equal(await rows('count', '9223372036854775807'), 1500);
      assert.equal(await rows('rare.2000', '[1,"x"]'), 1);
    }));

  it('indexes the pages each dictionary value is on', () =>
    withDir(async (dir) => {
      const start = nowNanos() - 60n * SECOND;
      const spans = Array.from({ length: 2000 }, (_, i) => makeSpan({ startTimeUnixNano: start + BigInt(i), attributes: [{ key: 'user', value: { stringValue: `u${i % 300}` } }, { key: 'tier', value: { stringValue: i % 2 ? 'a' : 'b' } }] }));
      const { blocks } = await roundTrip(dir, spans, { pageRows: 100 });
      const b = blocks[0]!;
      assert.ok(b.meta.pages.length >= 19);
      for (const key of ['user', 'tier']) {
        const col = b.columnOfKey.get(b.stringId(key)!)!;
        const c = b.meta.attrColumns[col]!;
        assert.equal(c.mode, AttrMode.DICT);
        const pi = c.pageIndex!;
        for (let id = 0; id < c.dict.length; id++) {
          const text = attributeText(c.dict.value(id));
          const want: number[] = [];
          for (let page = 0; page < b.meta.pages.length; page++) {
            const m = await b.attributeRows(page, b.stringId(key)!, textProbe(text));
            if (m!.includes(1)) want.push(page);
          }
          assert.deepStrictEqual([...pi.pages.subarray(pi.offsets[id]!, pi.offsets[id + 1]!)], want, `${key}=${text}`);
        }
      }
    }));

  it('refuses a newer format and a corrupt or truncated file with a message saying so', () =>
    withDir(async (dir) => {
      const spans = makeTrace();
      const { encoded } = await roundTrip(dir, spans);
      const bytes = Buffer.concat(encoded[0]!.parts);
      const cache = new ByteLru(1 << 20);
      const newer = Buffer.from(bytes);
      newer[8] = 99;
      await writeFile(join(dir, 'newer.blk'), newer);
      await assert.rejects(Block.open(join(dir, 'newer.blk'), 'newer.blk', cache, 'n'), /format 99 was written by a newer Ariadne/);
      await writeFile(join(dir, 'short.blk'), bytes.subarray(0, bytes.length - 10));
      await assert.rejects(Block.open(join(dir, 'short.blk'), 'short.blk', cache, 's'), /trailer missing|incomplete/);
      // flip a byte inside the first compressed chunk
      const bad = Buffer.from(bytes);
      const chunk = encoded[0]!.meta.pages[0]!.chunks.find((c) => c.col === Col.NAME)!;
      bad[chunk.offset] ^= 0xff;
      await writeFile(join(dir, 'bad.blk'), bad);
      const b = await Block.open(join(dir, 'bad.blk'), 'bad.blk', cache, 'b');
      await assert.rejects(b.traceSpans(0), /checksum mismatch/);
      b.retire();
      assert.deepStrictEqual(readableVersions(), [1]);
      assert.equal(blockFormat(1).version, 1);
    }));
});
