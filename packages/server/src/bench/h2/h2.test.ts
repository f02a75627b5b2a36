import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http2 from 'node:http2';
import { once } from 'node:events';
import { HpackDecoder, HpackError, encodeLiterals, huffmanCode, huffmanDecode } from './hpack.js';
import { H2UnaryClient } from './client.js';
import { EXPORT_PATH } from '../../receive/otlp-grpc.js';
import { encodeTraceRequestProto } from '../../receive/otlp/index.js';
import { frame, Status } from '../../receive/grpc/wire.js';
import { makeSpan } from '../../testing/fixtures.js';
import { startTestServer } from '../../testing/server.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('HPACK', () => {
  it('decodes RFC 7541 C.4.1 (Huffman) and keeps literals as sent', () => {
    const d = new HpackDecoder();
    assert.deepEqual(d.decode(hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff')), [
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
    ]);
    // the entry it added is index 62 now
    assert.deepEqual(d.decode(hex('be')), [[':authority', 'www.example.com']]);
    const literal = encodeLiterals([[':path', '/x.Y/Z'], ['te', 'trailers']]);
    assert.deepEqual(new HpackDecoder().decode(literal), [[':path', '/x.Y/Z'], ['te', 'trailers']]);
  });

  it('has a complete canonical code with the RFC codes for common symbols', () => {
    let kraft = 0;
    for (let s = 0; s <= 256; s++) kraft += 2 ** -huffmanCode(s).bits;
    assert.equal(kraft, 1);
    assert.deepEqual(huffmanCode('0'.charCodeAt(0)), { code: 0x0, bits: 5 });
    assert.deepEqual(huffmanCode(' '.charCodeAt(0)), { code: 0x14, bits: 6 });
    assert.deepEqual(huffmanCode(256), { code: 0x3fffffff, bits: 30 });
    assert.throws(() => huffmanDecode(hex('00'), 0, 1), HpackError, 'padding of zeros');
  });

  it('decodes what node:http2 (nghttp2) encodes: every byte a header value may hold, across the dynamic table', async () => {
    const values = {
      'x-ascii': Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join(''),
      'x-high': Array.from({ length: 0x80 }, (_, i) => String.fromCharCode(0x80 + i)).join(''),
      'x-tab': 'a\tb',
      'content-type': 'application/grpc',
    };
    // a raw TCP peer reads the client's frames: the HEADERS of two requests
    const blocks: Buffer[] = [];
    const server = net.createServer((sock) => {
      let buf = Buffer.alloc(0);
      let skipped = false;
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (!skipped && buf.length >= 24) {
          buf = buf.subarray(24);
          skipped = true;
        }
        while (skipped && buf.length >= 9 && buf.length >= 9 + buf.readUIntBE(0, 3)) {
          const len = buf.readUIntBE(0, 3);
          if (buf[3] === 1) blocks.push(Buffer.from(buf.subarray(9, 9 + len)));
          buf = buf.subarray(9 + len);
        }
      });
      sock.on('error', () => {});
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const session = http2.connect(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    session.on('error', () => {});
    for (let i = 0; i < 2; i++) session.request({ ':method': 'POST', ':path': `/p${i}`, ...values }).on('error', () => {});
    const deadline = Date.now() + 5000;
    while (blocks.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    session.destroy();
    server.close();
    assert.equal(blocks.length, 2);
    const d = new HpackDecoder();
    for (const [i, block] of blocks.entries()) {
      const got = Object.fromEntries(d.decode(block));
      for (const [k, v] of Object.entries(values)) assert.equal(got[k], v, `${k} in request ${i}`);
      assert.equal(got[':path'], `/p${i}`);
    }
    assert.ok(blocks[1]!.length < blocks[0]!.length / 4, 'the second request refers to the dynamic table');
  });
});

describe('H2UnaryClient against the OTLP/gRPC receiver', () => {
  it('makes calls that store spans, reads error statuses, and honours flow control for large messages', async () => {
    const server = await startTestServer({ maxBodyBytes: 8 * 1024 * 1024 });
    const client = new H2UnaryClient('127.0.0.1', server.ports.otlpGrpc);
    try {
      const spans = Array.from({ length: 200 }, () => makeSpan({ service: 'h2-load' }));
      const results = await Promise.all(spans.map((s) => client.call(EXPORT_PATH, frame(encodeTraceRequestProto([s])))));
      assert.deepEqual(new Set(results.map((r) => r.code)), new Set([Status.OK]));

      const unknown = await client.call('/x.Y/Z', frame(new Uint8Array(0)));
      assert.deepEqual(unknown, { code: Status.UNIMPLEMENTED, message: 'The server does not implement the method /x.Y/Z' });
      const bad = await client.call(EXPORT_PATH, frame(Uint8Array.of(0x0a, 0x05, 1)));
      assert.equal(bad.code, Status.INVALID_ARGUMENT);
      assert.match(bad.message, /cannot decode OTLP protobuf message/);

      // 5 MiB in one message: beyond the server's 1 MiB stream window, so it goes as the server's WINDOW_UPDATEs allow
      const attr = { key: 'blob', value: { stringValue: 'x'.repeat(50_000) } };
      const big = Array.from({ length: 100 }, () => makeSpan({ service: 'h2-load', attributes: [attr] }));
      const [a, b] = await Promise.all([0, 1].map(() => client.call(EXPORT_PATH, frame(encodeTraceRequestProto(big)))));
      assert.deepEqual([a!.code, b!.code], [Status.OK, Status.OK]);

      for (const s of [...spans.slice(0, 20), big[0]!, big[99]!]) {
        const res = await fetch(`${server.url}/api/v1/traces/${s.traceId}`);
        assert.equal(res.status, 200, `trace ${s.traceId} stored`);
      }
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it('answers UNAVAILABLE for calls on a connection that failed', async () => {
    const refused = net.createServer();
    refused.listen(0, '127.0.0.1');
    await once(refused, 'listening');
    const port = (refused.address() as net.AddressInfo).port;
    refused.close();
    await once(refused, 'close');
    const client = new H2UnaryClient('127.0.0.1', port);
    const r = await client.call(EXPORT_PATH, frame(new Uint8Array(0)));
    assert.equal(r.code, Status.UNAVAILABLE);
    assert.match(r.message, /connection/);
    await client.close();
  });
});
