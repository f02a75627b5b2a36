import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeGrpcMessage, encodeGrpcMessage, frame, isGrpcProto } from './wire.js';

describe('gRPC wire', () => {
  it('frames a message behind its 5-byte prefix', () => {
    assert.deepEqual([...frame(Uint8Array.of(7, 8, 9))], [0, 0, 0, 0, 3, 7, 8, 9]);
    assert.deepEqual([...frame(new Uint8Array(0))], [0, 0, 0, 0, 0]);
  });

  it('accepts application/grpc and application/grpc+proto only', () => {
    for (const ct of ['application/grpc', 'application/grpc+proto', 'application/grpc; charset=utf-8', 'Application/GRPC+proto']) assert.ok(isGrpcProto(ct), ct);
    for (const ct of [undefined, '', 'application/grpc+json', 'application/grpc-web', 'application/grpc-web+proto', 'application/x-protobuf', 'text/plain']) {
      assert.ok(!isGrpcProto(ct), String(ct));
    }
  });

  it('percent-encodes grpc-message as the gRPC spec says', () => {
    assert.equal(encodeGrpcMessage('plain text: ok'), 'plain text: ok');
    assert.equal(encodeGrpcMessage('100% done'), '100%25 done');
    assert.equal(encodeGrpcMessage('line\nbreak'), 'line%0Abreak');
    assert.equal(encodeGrpcMessage('é'), '%C3%A9');
    assert.equal(encodeGrpcMessage('\ud800'), '%EF%BF%BD'); // a lone surrogate: U+FFFD, no throw
    assert.equal(decodeGrpcMessage('%zz and %4'), '%zz and %4'); // malformed escapes stay
  });

  it('decodes what it encodes', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => decodeGrpcMessage(encodeGrpcMessage(s)) === s));
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => /^[\x20-\x7e]*$/.test(encodeGrpcMessage(s))));
  });
});
