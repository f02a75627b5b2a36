// Byte-level building blocks of the block format: a growable writer and a
// reader for LEB128 varints (zigzag for signed values, with a BigInt path
// for values beyond 2^53), length-prefixed strings that keep any UTF-16
// (lone surrogates included) and raw ids.

const TWO32 = 2 ** 32;
const SAFE = 2 ** 53;
const TWO52 = 2 ** 52;

export class ByteWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(initial = 1024) {
    this.buf = new Uint8Array(initial);
  }

  /** Makes room for n more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  u8(v: number): void {
    if (this.pos >= this.buf.length) this.ensure(1);
    this.buf[this.pos++] = v;
  }

  /** 4 bytes, big-endian. */
  u32be(v: number): void {
    if (this.pos + 4 > this.buf.length) this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 24;
    b[p + 1] = (v >>> 16) & 255;
    b[p + 2] = (v >>> 8) & 255;
    b[p + 3] = v & 255;
    this.pos = p + 4;
  }

  /** Unsigned varint of a non-negative integer below 2^53. */
  uvar(v: number): void {
    if (this.pos + 8 > this.buf.length) this.ensure(8);
    const b = this.buf;
    let p = this.pos;
    // double arithmetic only while the value needs more than 31 bits
    while (v >= 0x80000000) {
      b[p++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    while (v >= 128) {
      b[p++] = (v & 127) | 128;
      v >>>= 7;
    }
    b[p++] = v;
    this.pos = p;
  }

  /** Small unsigned varint (below 2^31), the common case of ids and counts. */
  uvarSmall(v: number): void {
    if (v < 128) {
      if (this.pos >= this.buf.length) this.ensure(1);
      this.buf[this.pos++] = v;
      return;
    }
    this.ensure(5);
    const b = this.buf;
    let p = this.pos;
    while (v >= 128) {
      b[p++] = (v & 127) | 128;
      v >>>= 7;
    }
    b[p++] = v;
    this.pos = p;
  }

  /** Zigzag varint of an integer exactly held by the double. */
  svar(v: number): void {
    if (v >= TWO52 || v <= -TWO52) this.svarBig(BigInt(v));
    else this.uvar(v < 0 ? -2 * v - 1 : 2 * v);
  }

  /** Unsigned varint of any non-negative bigint. */
  uvarBig(v: bigint): void {
    if (v < 9007199254740992n) {
      this.uvar(Number(v));
      return;
    }
    this.ensure(10 + Math.ceil(v.toString(16).length / 2));
    while (v >= 128n) {
      this.buf[this.pos++] = Number(v & 127n) | 128;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  /** Zigzag varint of any bigint. */
  svarBig(v: bigint): void {
    this.uvarBig(v < 0n ? -2n * v - 1n : 2n * v);
  }

  f64(v: number): void {
    if (this.pos + 8 > this.buf.length) this.ensure(8);
    F64[0] = v;
    const b = this.buf;
    const p = this.pos;
    for (let i = 0; i < 8; i++) b[p + i] = F64_BYTES[i]!;
    this.pos = p + 8;
  }

  bytes(b: Uint8Array): void {
    this.copy(b, 0, b.length);
  }

  /** Bytes [start, end) of `src`. */
  copy(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (this.pos + n > this.buf.length) this.ensure(n);
    // a loop beats set() (a call into the runtime, and a subarray) for short runs
    if (n <= 32) {
      const b = this.buf;
      const p = this.pos - start;
      for (let i = start; i < end; i++) b[p + i] = src[i]!;
    } else this.buf.set(src.subarray(start, end), this.pos);
    this.pos += n;
  }

  /** Length-prefixed bytes. */
  blob(b: Uint8Array): void {
    this.uvar(b.length);
    this.bytes(b);
  }

  /**
   * A string: header = byte length * 2 + (1 when UTF-16LE), then the bytes.
   * Well-formed text goes as UTF-8; text with a lone surrogate, which UTF-8
   * cannot hold, as UTF-16 so it comes back unchanged.
   */
  str(s: string): void {
    if (s.length === 0) {
      this.u8(0);
      return;
    }
    if (isWellFormed(s)) {
      // at most 3 bytes per UTF-16 unit
      const max = s.length * 3;
      this.ensure(max + 5);
      const headerPos = this.pos;
      // reserve the header assuming the maximum, then fix up if shorter
      const headerLen = varLen(max * 2);
      const n = encodeInto(s, this.buf, headerPos + headerLen);
      const actualHeaderLen = varLen(n * 2);
      if (actualHeaderLen !== headerLen) this.buf.copyWithin(headerPos + actualHeaderLen, headerPos + headerLen, headerPos + headerLen + n);
      this.pos = headerPos;
      this.uvar(n * 2);
      this.pos += n;
    } else {
      this.uvar(s.length * 4 + 1);
      this.ensure(s.length * 2);
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        this.buf[this.pos++] = c & 255;
        this.buf[this.pos++] = c >> 8;
      }
    }
  }

  /**
   * A non-empty even-length lowercase hex string as uvar(bytes) + the bytes;
   * false (nothing written) for any other string.
   */
  tryHex(s: string): boolean {
    const n = s.length;
    if (n === 0 || n & 1) return false;
    this.ensure(n / 2 + 5);
    const start = this.pos;
    this.uvar(n >> 1);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i += 2) {
      const x = HEX_VALUE[s.charCodeAt(i)]!;
      const y = HEX_VALUE[s.charCodeAt(i + 1)]!;
      if ((x | y) > 15) {
        this.pos = start;
        return false;
      }
      b[p++] = (x << 4) | y;
    }
    this.pos = p;
    return true;
  }

  /** 2n bytes of an even-length lowercase hex string (validated by the caller). */
  hex(s: string): void {
    const n = s.length >> 1;
    this.ensure(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i += 2) b[p++] = (hexVal(s.charCodeAt(i)) << 4) | hexVal(s.charCodeAt(i + 1));
    this.pos = p;
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
  }
}

const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

function varLen(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function encodeInto(s: string, buf: Uint8Array, at: number): number {
  // ASCII fast path: most attribute text is ASCII.
  let i = 0;
  const n = s.length;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128) break;
    buf[at + i] = c;
  }
  if (i === n) return n;
  return i + textEncoder.encodeInto(s.slice(i), buf.subarray(at + i)).written!;
}

const SURROGATE = /[\ud800-\udfff]/;

/** True when the string holds no lone surrogate (String.prototype.isWellFormed). */
export function isWellFormed(s: string): boolean {
  if (!SURROGATE.test(s)) return true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c >= 0xdc00) return false;
    const d = s.charCodeAt(i + 1);
    if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
    i++;
  }
  return true;
}

/** char code -> value of a lowercase hex digit, 255 for anything else */
const HEX_VALUE = new Uint8Array(65536).fill(255);
for (let i = 0; i < 10; i++) HEX_VALUE[48 + i] = i;
for (let i = 0; i < 6; i++) HEX_VALUE[97 + i] = 10 + i;

export function hexVal(c: number): number {
  return c < 58 ? c - 48 : c - 87;
}

const HEX = '0123456789abcdef';
const BYTE_HEX: string[] = [];
for (let i = 0; i < 256; i++) BYTE_HEX.push(HEX[i >> 4]! + HEX[i & 15]!);

export function toHex(b: Uint8Array, at: number, len: number): string {
  let s = '';
  for (let i = at; i < at + len; i++) s += BYTE_HEX[b[i]!];
  return s;
}

/** True for a non-empty, even-length, lowercase hex string. */
export function isLowerHex(s: string): boolean {
  const n = s.length;
  if (n === 0 || n & 1) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

export class ByteReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    pos = 0,
    readonly end = buf.length,
  ) {
    this.pos = pos;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  u8(): number {
    if (this.pos >= this.end) throw new RangeError('block: read past the end of a section');
    return this.buf[this.pos++]!;
  }

  /** Unsigned varint as a number; exact below 2^53. */
  uvar(): number {
    const b = this.buf;
    let p = this.pos;
    let x = b[p++]!;
    if (x < 128) {
      this.pos = p;
      return x;
    }
    let v = x & 127;
    let mul = 128;
    for (;;) {
      if (p >= this.end) throw new RangeError('block: truncated varint');
      x = b[p++]!;
      v += (x & 127) * mul;
      if (x < 128) break;
      mul *= 128;
    }
    this.pos = p;
    return v;
  }

  /** Unsigned varint as a bigint (any size). */
  uvarBig(): bigint {
    const start = this.pos;
    let len = 0;
    while (this.buf[start + len]! >= 128) {
      len++;
      if (start + len >= this.end) throw new RangeError('block: truncated varint');
    }
    len++;
    if (len <= 7) return BigInt(this.uvar());
    let v = 0n;
    for (let i = len - 1; i >= 0; i--) v = (v << 7n) | BigInt(this.buf[start + i]! & 127);
    this.pos = start + len;
    return v;
  }

  /** Length in bytes of the varint at the current position (without moving). */
  varLenHere(): number {
    let len = 1;
    while (this.buf[this.pos + len - 1]! >= 128) len++;
    return len;
  }

  svar(): number {
    const u = this.uvar();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  svarBig(): bigint {
    const u = this.uvarBig();
    return u & 1n ? -(u + 1n) / 2n : u / 2n;
  }

  f64(): number {
    F64_BYTES.set(this.buf.subarray(this.pos, this.pos + 8));
    this.pos += 8;
    return F64[0]!;
  }

  bytes(n: number): Uint8Array {
    if (this.pos + n > this.end) throw new RangeError('block: truncated bytes');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  blob(): Uint8Array {
    return this.bytes(this.uvar());
  }

  str(): string {
    const h = this.uvar();
    if (h === 0) return '';
    if (h % 2 === 0) {
      const n = h / 2;
      const p = this.pos;
      if (p + n > this.end) throw new RangeError('block: truncated string');
      this.pos = p + n;
      const b = this.buf;
      if (n <= 24) {
        let s = '';
        for (let i = p; i < p + n; i++) {
          const c = b[i]!;
          if (c >= 128) return textDecoder.decode(b.subarray(p, p + n));
          s += String.fromCharCode(c);
        }
        return s;
      }
      return textDecoder.decode(b.subarray(p, p + n));
    }
    const units = (h - 1) / 4;
    const codes = new Array<number>(units);
    for (let i = 0; i < units; i++) {
      codes[i] = this.buf[this.pos]! | (this.buf[this.pos + 1]! << 8);
      this.pos += 2;
    }
    let s = '';
    for (let i = 0; i < units; i += 4096) s += String.fromCharCode(...codes.slice(i, i + 4096));
    return s;
  }

  /** Skips a string written by ByteWriter.str. */
  skipStr(): void {
    const h = this.uvar();
    this.pos += h % 2 === 0 ? h / 2 : ((h - 1) / 4) * 2;
  }

  hex(n: number): string {
    const s = toHex(this.buf, this.pos, n);
    this.pos += n;
    return s;
  }
}

export { TWO32, SAFE };
