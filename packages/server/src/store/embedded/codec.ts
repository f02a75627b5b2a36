// The embedded store's lossless text encoding of attributes, events and links
// (format v1). One string per span serves both as the stored value and as the
// haystack for attribute equality search, so attributes are not kept twice.
//
//   attrs  := ( US key '=' text RS tag payload )*
//   events := ( GS timeNs FS name FS dropped FS attrs )*
//   links  := ( GS traceId FS spanId FS traceState FS flags FS dropped FS attrs )*
//
//   US = \x1f  RS = \x1e  GS = \x1d  FS = \x1c  ESC = \x1b
//
// `text` is attributeText(value), so `contains(attrs, US key '=' text RS)` is
// exactly the model's search semantics. Every free-text field is escaped so the
// separators above never occur raw inside it: ESC, the four separators, NUL and
// lone surrogates (which UTF-8 cannot hold) become ESC + a letter (lone
// surrogates ESC 'u' + 4 hex); keys also escape '=' so the first raw '=' ends
// the key. `tag` says how to rebuild the value from `text`:
//   s string  i int64 (decimal text)  b bool  d double (JS shortest round-trip
//   text, also NaN/Infinity)  z double -0  y bytes (base64 text)  n empty value
//   a array / k kvlist: payload = JSON of the OTLP value, non-finite and -0
//   doubles as strings ("NaN", "-0"), as proto3 JSON does. JSON escapes control
//   characters, so the payload never holds a raw separator either.

import type { AnyValue, KeyValue, SpanEvent, SpanLink } from '@ariadne/model';
import { attributeText } from '@ariadne/model';

const US = '\x1f';
const RS = '\x1e';
const GS = '\x1d';
const FS = '\x1c';
const ESC = '\x1b';

// Chars that need escaping in text fields ('=' only in keys), or any surrogate
// (the slow path then keeps well-formed pairs as they are).
const NEEDS_ESCAPE = /[\x00\x1b-\x1f\ud800-\udfff]/;
const KEY_NEEDS_ESCAPE = /[\x00\x1b-\x1f=\ud800-\udfff]/;
const ESCAPE_CHAR: Record<string, string> = {
  '\x00': '0',
  '\x1b': 'a',
  '\x1c': 'b',
  '\x1d': 'c',
  '\x1e': 'd',
  '\x1f': 'e',
  '=': 'f',
};
const UNESCAPE_CHAR: Record<string, string> = Object.fromEntries(Object.entries(ESCAPE_CHAR).map(([k, v]) => [v, k]));

function escapeWith(s: string, special: RegExp, keyMode: boolean): string {
  if (!special.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const code = s.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        out += c + s[i + 1]!;
        i++;
      } else {
        out += ESC + 'u' + code.toString(16).padStart(4, '0');
      }
    } else if (code === 0 || (code >= 0x1b && code <= 0x1f) || (keyMode && c === '=')) {
      out += ESC + ESCAPE_CHAR[c]!;
    } else {
      out += c;
    }
  }
  return out;
}

/** A free-text field as stored: no NUL, separators or lone surrogates. */
export function escapeText(s: string): string {
  return escapeWith(s, NEEDS_ESCAPE, false);
}

export function escapeKey(s: string): string {
  return escapeWith(s, KEY_NEEDS_ESCAPE, true);
}

export function unescapeText(s: string): string {
  if (!s.includes(ESC)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== ESC) {
      out += c;
      continue;
    }
    const t = s[++i]!;
    if (t === 'u') {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 5), 16));
      i += 4;
    } else {
      out += UNESCAPE_CHAR[t] ?? '';
    }
  }
  return out;
}

/** The substring an attribute `key = text` occupies in an encoded attrs string. */
export function attributePattern(key: string, text: string): string {
  return US + escapeKey(key) + '=' + escapeText(text) + RS;
}

// --- attributes ---------------------------------------------------------------

function specialDouble(d: number): string | undefined {
  if (Number.isNaN(d)) return 'NaN';
  if (d === Infinity) return 'Infinity';
  if (d === -Infinity) return '-Infinity';
  if (Object.is(d, -0)) return '-0';
  return undefined;
}

function jsonReplacer(this: unknown, key: string, value: unknown): unknown {
  if (key === 'doubleValue' && typeof value === 'number') return specialDouble(value) ?? value;
  return value;
}

function jsonReviver(key: string, value: unknown): unknown {
  if (key === 'doubleValue' && typeof value === 'string') return Number(value);
  return value;
}

function tagOf(v: AnyValue): string {
  if (v.stringValue !== undefined) return 's';
  if (v.intValue !== undefined) return 'i';
  if (v.boolValue !== undefined) return 'b';
  if (v.doubleValue !== undefined) return Object.is(v.doubleValue, -0) ? 'z' : 'd';
  if (v.bytesValue !== undefined) return 'y';
  if (v.arrayValue !== undefined) return 'a';
  if (v.kvlistValue !== undefined) return 'k';
  return 'n';
}

export function encodeAttributes(attrs: readonly KeyValue[]): string {
  let out = '';
  for (const { key, value } of attrs) {
    const tag = tagOf(value);
    out += US + escapeKey(key) + '=' + escapeText(attributeText(value)) + RS + tag;
    if (tag === 'a' || tag === 'k') out += JSON.stringify(value, jsonReplacer);
  }
  return out;
}

function decodeValue(tag: string, text: string, payload: string): AnyValue {
  switch (tag) {
    case 's':
      return { stringValue: text };
    case 'i':
      return { intValue: text };
    case 'b':
      return { boolValue: text === 'true' };
    case 'd':
      return { doubleValue: Number(text) };
    case 'z':
      return { doubleValue: -0 };
    case 'y':
      return { bytesValue: text };
    case 'a':
    case 'k':
      return JSON.parse(payload, jsonReviver) as AnyValue;
    case 'n':
      return {};
    default:
      throw new Error(`embedded store: unknown attribute tag ${JSON.stringify(tag)} (newer format?)`);
  }
}

export function decodeAttributes(s: string): KeyValue[] {
  const out: KeyValue[] = [];
  let i = 0;
  while (i < s.length) {
    // s[i] is US
    const eq = s.indexOf('=', i + 1);
    const rs = s.indexOf(RS, eq + 1);
    let next = s.indexOf(US, rs + 2);
    if (next < 0) next = s.length;
    const key = unescapeText(s.slice(i + 1, eq));
    const text = unescapeText(s.slice(eq + 1, rs));
    out.push({ key, value: decodeValue(s[rs + 1]!, text, s.slice(rs + 2, next)) });
    i = next;
  }
  return out;
}

// --- events and links -----------------------------------------------------------

export function encodeEvents(events: readonly SpanEvent[]): string {
  let out = '';
  for (const e of events) {
    out += GS + e.timeUnixNano.toString() + FS + escapeText(e.name) + FS + e.droppedAttributesCount + FS + encodeAttributes(e.attributes);
  }
  return out;
}

export function decodeEvents(s: string): SpanEvent[] {
  if (s === '') return [];
  return s
    .slice(1)
    .split(GS)
    .map((rec) => {
      const [time, name, dropped, attrs] = splitFields(rec, 4);
      return {
        timeUnixNano: BigInt(time),
        name: unescapeText(name),
        attributes: decodeAttributes(attrs),
        droppedAttributesCount: Number(dropped),
      };
    });
}

export function encodeLinks(links: readonly SpanLink[]): string {
  let out = '';
  for (const l of links) {
    out +=
      GS + escapeText(l.traceId) + FS + escapeText(l.spanId) + FS + escapeText(l.traceState) + FS + l.flags + FS +
      l.droppedAttributesCount + FS + encodeAttributes(l.attributes);
  }
  return out;
}

export function decodeLinks(s: string): SpanLink[] {
  if (s === '') return [];
  return s
    .slice(1)
    .split(GS)
    .map((rec) => {
      const [traceId, spanId, traceState, flags, dropped, attrs] = splitFields(rec, 6);
      return {
        traceId: unescapeText(traceId),
        spanId: unescapeText(spanId),
        traceState: unescapeText(traceState),
        attributes: decodeAttributes(attrs),
        droppedAttributesCount: Number(dropped),
        flags: Number(flags),
      };
    });
}

/** Splits on the first n-1 FS; the last field (attrs) holds no raw FS anyway. */
function splitFields(rec: string, n: number): string[] {
  const out: string[] = [];
  let from = 0;
  for (let k = 0; k < n - 1; k++) {
    const at = rec.indexOf(FS, from);
    out.push(rec.slice(from, at));
    from = at + 1;
  }
  out.push(rec.slice(from));
  return out;
}
