// Trace and span ids: lowercase hex, fixed length, never all zero (W3C / OTLP).

const HEX = /^[0-9a-f]+$/;

function validHex(id: string, len: number): boolean {
  if (id.length !== len || !HEX.test(id)) return false;
  for (let i = 0; i < len; i++) if (id.charCodeAt(i) !== 48) return true;
  return false; // all zero
}

export function isValidTraceId(id: string): boolean {
  return validHex(id, 32);
}

export function isValidSpanId(id: string): boolean {
  return validHex(id, 16);
}

const HEXCHARS = '0123456789abcdef';
const BYTE_TO_HEX: string[] = [];
for (let i = 0; i < 256; i++) BYTE_TO_HEX.push(HEXCHARS[i >> 4]! + HEXCHARS[i & 15]!);

/** Lowercase hex of `len` bytes of `buf` starting at `offset`. */
export function bytesToHex(buf: Uint8Array, offset = 0, len = buf.length - offset): string {
  let s = '';
  for (let i = offset; i < offset + len; i++) s += BYTE_TO_HEX[buf[i]!];
  return s;
}

/** Bytes of an even-length hex string; undefined when it is not hex. */
export function hexToBytes(hex: string): Uint8Array | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}
