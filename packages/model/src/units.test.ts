/// <reference types="node" />
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, formatTimestamp, parseDuration, parseTimestamp } from './units.js';
import { isValidSpanId, isValidTraceId, bytesToHex, hexToBytes } from './ids.js';

describe('parseDuration', () => {
  const ok: [string, number][] = [
    ['250ms', 250e6],
    ['1.5s', 1.5e9],
    ['800us', 800e3],
    ['800µs', 800e3],
    ['7d', 7 * 86400e9],
    ['2m', 120e9],
    ['12h', 12 * 3600e9],
    ['0ns', 0],
    ['1w', 7 * 86400e9],
  ];
  for (const [text, ns] of ok) it(`${text} = ${ns} ns`, () => assert.equal(parseDuration(text), ns));
  for (const bad of ['', 'ms', '1', '1 s', '-1s', '1.s', '1e3ms', '1sec', '1..2s', '9'.repeat(50) + 's'])
    it(`rejects '${bad.slice(0, 12)}'`, () => assert.equal(parseDuration(bad), undefined));
  it('is linear on adversarial input', () => {
    const t0 = performance.now();
    parseDuration('1'.repeat(100_000) + 'x');
    assert.ok(performance.now() - t0 < 50);
  });
});

describe('formatDuration', () => {
  const cases: [number, string][] = [
    [1.523e9, '1.523s'],
    [412e6, '412ms'],
    [85e3, '85µs'],
    [120, '120ns'],
    [1.5e6, '1.5ms'],
    [125e9, '2m5s'],
  ];
  for (const [ns, text] of cases) it(`${ns} → ${text}`, () => assert.equal(formatDuration(ns), text));
});

describe('timestamps', () => {
  it('keeps nanoseconds through RFC 3339', () => {
    const t = parseTimestamp('2024-05-06T07:08:09.123456789Z');
    assert.equal(t, 1714979289123456789n);
    assert.equal(formatTimestamp(t!), '2024-05-06T07:08:09.123456789Z');
  });
  it('honours offsets', () => assert.equal(parseTimestamp('2024-05-06T09:08:09+02:00'), 1714979289000000000n));
  it('accepts unix nanoseconds', () => assert.equal(parseTimestamp('1714979289123456789'), 1714979289123456789n));
  for (const bad of ['yesterday', '2024-05-06', '2024-13-45T99:99:99Z', '1.5', ''])
    it(`rejects '${bad}'`, () => assert.equal(parseTimestamp(bad), undefined));
});

describe('ids', () => {
  it('validates trace and span ids', () => {
    assert.ok(isValidTraceId('4bf92f3577b34da6a3ce929d0e0e4736'));
    assert.ok(!isValidTraceId('4BF92F3577B34DA6A3CE929D0E0E4736'));
    assert.ok(!isValidTraceId('0'.repeat(32)));
    assert.ok(!isValidTraceId('4bf92f3577b34da6'));
    assert.ok(isValidSpanId('00f067aa0ba902b7'));
    assert.ok(!isValidSpanId('0'.repeat(16)));
    assert.ok(!isValidSpanId('00f067aa0ba902b7aa'));
  });
  it('converts hex both ways', () => {
    const b = hexToBytes('00ff10ab')!;
    assert.deepEqual([...b], [0, 255, 16, 171]);
    assert.equal(bytesToHex(b), '00ff10ab');
    assert.equal(hexToBytes('abc'), undefined);
    assert.equal(hexToBytes('zz'), undefined);
  });
});
