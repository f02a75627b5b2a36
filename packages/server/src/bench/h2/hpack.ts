// HPACK (RFC 7541) for the load generator's HTTP/2 client: a full decoder
// (static and dynamic tables, Huffman strings) for what the server answers,
// and literal-only encoding for what the client sends, which needs no table.

/** RFC 7541 Appendix A. */
const STATIC: readonly (readonly [string, string])[] = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''], ['etag', ''],
  ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''],
  ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''],
  ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''],
  ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''],
  ['www-authenticate', ''],
];

/**
 * Code lengths of symbols 0–255 and EOS (256), RFC 7541 Appendix B. The code
 * is canonical (codes ascend with length, then symbol), so the lengths
 * determine it; the tests check the RFC's examples and every printable and
 * high byte as Node's encoder writes them.
 */
// prettier-ignore
const LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

const EOS = 256;

/** Decoding: for each code length, the first code and the symbols of that length in code order. */
const byLength: { first: number; symbols: number[] }[] = (() => {
  const order = LENGTHS.map((len, sym) => ({ len, sym })).sort((a, b) => a.len - b.len || a.sym - b.sym);
  const out = Array.from({ length: 31 }, () => ({ first: 0, symbols: [] as number[] }));
  let code = 0;
  let len = order[0]!.len;
  for (const { len: l, sym } of order) {
    code <<= l - len;
    len = l;
    const slot = out[l]!;
    if (slot.symbols.length === 0) slot.first = code;
    slot.symbols.push(sym);
    code++;
  }
  return out;
})();

/** The canonical code of every symbol (tests; encoders). */
export function huffmanCode(sym: number): { code: number; bits: number } {
  const bits = LENGTHS[sym]!;
  const slot = byLength[bits]!;
  return { code: slot.first + slot.symbols.indexOf(sym), bits };
}

export class HpackError extends Error {}

/** A Huffman-coded string (RFC 7541 §5.2), as latin1. */
export function huffmanDecode(b: Uint8Array, from: number, to: number): string {
  let out = '';
  let code = 0;
  let bits = 0;
  for (let i = from; i < to; i++) {
    for (let k = 7; k >= 0; k--) {
      code = (code << 1) | ((b[i]! >> k) & 1);
      bits++;
      if (bits < 5) continue;
      const slot = byLength[bits];
      if (!slot) throw new HpackError('Huffman code longer than 30 bits');
      const idx = code - slot.first;
      if (idx >= 0 && idx < slot.symbols.length) {
        const sym = slot.symbols[idx]!;
        if (sym === EOS) throw new HpackError('EOS in a Huffman string');
        out += String.fromCharCode(sym);
        code = 0;
        bits = 0;
      }
    }
  }
  // padding: the most significant bits of EOS (all ones), shorter than a byte
  if (bits > 7 || code !== (1 << bits) - 1) throw new HpackError('bad Huffman padding');
  return out;
}

export type Header = readonly [name: string, value: string];

/** One connection's decoder: header blocks must be given in the order they arrived. */
export class HpackDecoder {
  private readonly dynamic: (readonly [string, string])[] = []; // newest first
  private size = 0;
  private maxSize: number;

  /** `maxSize`: the SETTINGS_HEADER_TABLE_SIZE this side advertised (default 4096) */
  constructor(private readonly settingsMaxSize = 4096) {
    this.maxSize = settingsMaxSize;
  }

  decode(b: Uint8Array): Header[] {
    const out: Header[] = [];
    let p = 0;
    const int = (prefix: number): number => {
      const max = (1 << prefix) - 1;
      let v = b[p++]! & max;
      if (v < max) return v;
      let shift = 0;
      for (;;) {
        if (p >= b.length) throw new HpackError('truncated integer');
        const x = b[p++]!;
        v += (x & 0x7f) * 2 ** shift;
        shift += 7;
        if (x < 0x80) return v;
        if (shift > 28) throw new HpackError('integer too large');
      }
    };
    const str = (): string => {
      if (p >= b.length) throw new HpackError('truncated string');
      const huffman = (b[p]! & 0x80) !== 0;
      const len = int(7);
      if (p + len > b.length) throw new HpackError('string runs past the block');
      const s = huffman ? huffmanDecode(b, p, p + len) : Buffer.from(b.buffer, b.byteOffset + p, len).toString('latin1');
      p += len;
      return s;
    };
    const entry = (index: number): readonly [string, string] => {
      if (index === 0) throw new HpackError('index 0');
      if (index <= STATIC.length) return STATIC[index - 1]!;
      const e = this.dynamic[index - STATIC.length - 1];
      if (!e) throw new HpackError(`index ${index} beyond the tables`);
      return e;
    };
    while (p < b.length) {
      const x = b[p]!;
      if (x & 0x80) {
        out.push(entry(int(7))); // indexed
      } else if (x & 0x40) {
        const i = int(6); // literal with incremental indexing
        const name = i ? entry(i)[0] : str();
        const h = [name, str()] as const;
        out.push(h);
        this.add(h);
      } else if (x & 0x20) {
        const size = int(5); // dynamic table size update
        if (size > this.settingsMaxSize) throw new HpackError(`table size ${size} over the advertised ${this.settingsMaxSize}`);
        this.maxSize = size;
        this.evict(0);
      } else {
        const i = int(4); // literal without indexing / never indexed
        const name = i ? entry(i)[0] : str();
        out.push([name, str()]);
      }
    }
    return out;
  }

  private add(h: readonly [string, string]): void {
    const size = h[0].length + h[1].length + 32;
    this.evict(size);
    if (size > this.maxSize) return; // an entry larger than the table empties it (§4.4)
    this.dynamic.unshift(h);
    this.size += size;
  }

  private evict(room: number): void {
    while (this.dynamic.length && this.size + room > this.maxSize) {
      const e = this.dynamic.pop()!;
      this.size -= e[0].length + e[1].length + 32;
    }
  }
}

/**
 * A header block of literals without indexing, plain strings (§6.2.2): the
 * decoder's table is never touched, so one block can be sent any number of times.
 */
export function encodeLiterals(headers: readonly Header[]): Buffer {
  const parts: number[] = [];
  const int = (v: number, prefix: number, first: number) => {
    const max = (1 << prefix) - 1;
    if (v < max) return void parts.push(first | v);
    parts.push(first | max);
    v -= max;
    while (v >= 0x80) {
      parts.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 0x80);
    }
    parts.push(v);
  };
  const str = (s: string) => {
    const bytes = Buffer.from(s, 'latin1');
    int(bytes.length, 7, 0);
    parts.push(...bytes);
  };
  for (const [name, value] of headers) {
    const i = STATIC.findIndex(([n]) => n === name);
    if (i >= 0) int(i + 1, 4, 0);
    else {
      parts.push(0);
      str(name);
    }
    str(value);
  }
  return Buffer.from(parts);
}
