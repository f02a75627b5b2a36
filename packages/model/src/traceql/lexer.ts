// TraceQL tokens, scanned by hand one character at a time (no regexes, so no
// input can make the scanner backtrack). Attribute names follow Tempo's
// lexer: after `span.`, `resource.` or `.` everything up to whitespace or one
// of `{}()=~!<>&|^,` belongs to the name, and `"..."` quotes any part of it.

import type { AttributeScope } from './ast.js';

/** A TraceQL syntax or type error at a character offset of the query. */
export class TraceQLError extends Error {
  /** 0-based offset into the query text (UTF-16 code units, as JavaScript indexes strings) */
  readonly offset: number;
  /** the message without the position */
  readonly reason: string;
  constructor(reason: string, offset: number) {
    super(`${reason} at offset ${offset}`);
    this.name = 'TraceQLError';
    this.reason = reason;
    this.offset = offset;
  }
}

export type TokenType =
  | 'lbrace'
  | 'rbrace'
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'pipe'
  | 'and'
  | 'or'
  | 'not'
  | 'op' // = != > >= < <= =~ !~
  | 'desc' // >>
  | 'ance' // <<
  | 'tilde'
  | 'minus'
  | 'string'
  | 'int'
  | 'float'
  | 'duration'
  | 'ident'
  | 'attribute'
  | 'scopedIntrinsic' // span:name, trace:duration, ...
  | 'eof';

export interface Token {
  type: TokenType;
  offset: number;
  /** the source text of the token */
  text: string;
  /** string/ident/attribute name/scoped intrinsic text; int as bigint; float as number; duration as nanoseconds */
  value?: string | bigint | number;
  scope?: AttributeScope;
}

export const MAX_QUERY_LENGTH = 16_384;

const INT64_MAX = 2n ** 63n - 1n;

/** Nanoseconds per duration unit; the longest unit name is tried first. */
const UNITS: [string, bigint][] = [
  ['ns', 1n],
  ['us', 1_000n],
  ['µs', 1_000n], // U+00B5 micro sign
  ['μs', 1_000n], // U+03BC Greek mu; Go accepts both
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
  ['d', 86_400_000_000_000n],
];

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isIdentStart = (c: string | undefined) => c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_');
const isIdentPart = (c: string | undefined) => isIdentStart(c) || isDigit(c);
const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
/** Characters that end an attribute name (Tempo's isAttributeRune, negated). */
const ENDS_ATTRIBUTE = new Set(['{', '}', '(', ')', '=', '~', '!', '<', '>', '&', '|', '^', ',']);
const isAttributePart = (c: string | undefined) => c !== undefined && !isSpace(c) && !ENDS_ATTRIBUTE.has(c);

const UNSUPPORTED_SCOPES = new Set(['parent', 'event', 'link', 'instrumentation']);

export function tokenize(src: string): Token[] {
  if (src.length > MAX_QUERY_LENGTH) throw new TraceQLError(`the query is longer than ${MAX_QUERY_LENGTH} characters`, MAX_QUERY_LENGTH);
  const tokens: Token[] = [];
  let i = 0;
  const push = (type: TokenType, start: number, extra: Partial<Token> = {}) => tokens.push({ type, offset: start, text: src.slice(start, i), ...extra });

  while (i < src.length) {
    const c = src[i]!;
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    const next = src[i + 1];
    switch (c) {
      case '{':
      case '}':
      case '(':
      case ')':
      case ',':
        i++;
        push(({ '{': 'lbrace', '}': 'rbrace', '(': 'lparen', ')': 'rparen', ',': 'comma' } as const)[c], start);
        continue;
      case '|':
        i += next === '|' ? 2 : 1;
        push(next === '|' ? 'or' : 'pipe', start);
        continue;
      case '&':
        if (next === '&') {
          i += 2;
          push('and', start);
          continue;
        }
        if (next === '>' || next === '<' || next === '~') throw new TraceQLError(`the union structural operators (&>, &>>, &<, &<<, &~) are not supported`, start);
        throw new TraceQLError(`expected '&&'`, start);
      case '=':
        i += next === '~' ? 2 : 1;
        push('op', start);
        continue;
      case '!':
        if (next === '=' || next === '~') {
          i += 2;
          push('op', start);
          continue;
        }
        if (next === '>' || next === '<') throw new TraceQLError(`the negated structural operators (!>, !>>, !<, !<<) are not supported`, start);
        i++;
        push('not', start);
        continue;
      case '>':
      case '<':
        if (next === c) {
          i += 2;
          push(c === '>' ? 'desc' : 'ance', start);
        } else {
          i += next === '=' ? 2 : 1;
          push('op', start);
        }
        continue;
      case '~':
        i++;
        push('tilde', start);
        continue;
      case '-':
        i++;
        push('minus', start);
        continue;
      case '+':
      case '*':
      case '/':
      case '%':
      case '^':
        throw new TraceQLError(`arithmetic ('${c}') is not supported`, start);
      case '"':
      case '`': {
        const value = c === '"' ? readQuoted(src, i) : readRaw(src, i);
        i = value.end;
        push('string', start, { value: value.text });
        continue;
      }
      case '.': {
        i++;
        const name = readAttributeName(src, i, start);
        i = name.end;
        push('attribute', start, { value: name.text, scope: 'unscoped' });
        continue;
      }
    }
    if (isDigit(c)) {
      i = readNumber(src, i, tokens);
      continue;
    }
    if (isIdentStart(c)) {
      while (isIdentPart(src[i])) i++;
      const word = src.slice(start, i);
      if (src[i] === '.' && (word === 'span' || word === 'resource')) {
        const name = readAttributeName(src, i + 1, start);
        i = name.end;
        push('attribute', start, { value: name.text, scope: word });
        continue;
      }
      if (src[i] === '.' && UNSUPPORTED_SCOPES.has(word)) throw new TraceQLError(`the '${word}.' scope is not supported (only span., resource. and .)`, start);
      if (src[i] === ':' && isIdentStart(src[i + 1])) {
        i++;
        while (isIdentPart(src[i])) i++;
        push('scopedIntrinsic', start, { value: src.slice(start, i) });
        continue;
      }
      push('ident', start, { value: word });
      continue;
    }
    throw new TraceQLError(`unexpected character '${String.fromCodePoint(src.codePointAt(i)!)}'`, start);
  }
  tokens.push({ type: 'eof', offset: src.length, text: '' });
  return tokens;
}

function readAttributeName(src: string, from: number, tokenStart: number): { text: string; end: number } {
  let i = from;
  let text = '';
  while (i < src.length) {
    const c = src[i]!;
    if (c === '"') {
      const q = readQuoted(src, i, true);
      text += q.text;
      i = q.end;
    } else if (isAttributePart(c)) {
      text += c;
      i++;
    } else break;
  }
  if (!text) throw new TraceQLError(`expected an attribute name after '${src.slice(tokenStart, from)}'`, from);
  return { text, end: i };
}

/** A Go-style double-quoted string (TraceQL's): \" \\ \n \t \r \a \b \f \v \xHH \uHHHH \UHHHHHHHH and octal \NNN. */
function readQuoted(src: string, from: number, inAttribute = false): { text: string; end: number } {
  let i = from + 1;
  let text = '';
  for (;;) {
    if (i >= src.length) throw new TraceQLError(`unterminated string`, from);
    const c = src[i]!;
    if (c === '"') return { text, end: i + 1 };
    if (c === '\n' && !inAttribute) throw new TraceQLError(`unterminated string (a newline inside quotes)`, from);
    if (c !== '\\') {
      text += c;
      i++;
      continue;
    }
    const e = src[i + 1];
    const simple: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', "'": "'" };
    if (e !== undefined && simple[e] !== undefined && (!inAttribute || e === '"' || e === '\\')) {
      text += simple[e];
      i += 2;
      continue;
    }
    if (!inAttribute && (e === 'x' || e === 'u' || e === 'U')) {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = src.slice(i + 2, i + 2 + n);
      if (hex.length !== n || ![...hex].every((h) => isHex(h))) throw new TraceQLError(`\\${e} needs ${n} hex digits`, i);
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) throw new TraceQLError(`\\${e}${hex} is not a Unicode code point`, i);
      text += String.fromCodePoint(cp);
      i += 2 + n;
      continue;
    }
    if (!inAttribute && e !== undefined && e >= '0' && e <= '7') {
      const oct = src.slice(i + 1, i + 4);
      if (oct.length !== 3 || ![...oct].every((o) => o >= '0' && o <= '7') || parseInt(oct, 8) > 255) throw new TraceQLError(`an octal escape is three digits from \\000 to \\377`, i);
      text += String.fromCharCode(parseInt(oct, 8));
      i += 4;
      continue;
    }
    const hint = inAttribute ? ` (in an attribute name only \\" and \\\\ are escapes)` : ` (write \\\\ for a backslash, e.g. "\\\\d+" in a regex, or use \`raw\` quotes)`;
    throw new TraceQLError(`invalid escape '\\${e ?? ''}'${hint}`, i);
  }
}

/** A Go raw string: everything between backquotes, no escapes. */
function readRaw(src: string, from: number): { text: string; end: number } {
  const end = src.indexOf('`', from + 1);
  if (end < 0) throw new TraceQLError(`unterminated raw string`, from);
  return { text: src.slice(from + 1, end), end: end + 1 };
}

const isHex = (c: string) => isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

/**
 * An integer, a float (`1.5`, `2e3`) or a duration (`250ms`, `1.5s`, `1h30m`),
 * told apart by what follows the digits. Returns the offset after it.
 */
function readNumber(src: string, from: number, tokens: Token[]): number {
  let i = from;
  const digits = () => {
    const s = i;
    while (isDigit(src[i])) i++;
    return src.slice(s, i);
  };
  const whole = digits();
  let frac = '';
  if (src[i] === '.' && isDigit(src[i + 1])) {
    i++;
    frac = digits();
  }
  let exp = '';
  if ((src[i] === 'e' || src[i] === 'E') && (isDigit(src[i + 1]) || ((src[i + 1] === '+' || src[i + 1] === '-') && isDigit(src[i + 2])))) {
    const s = i;
    i += src[i + 1] === '+' || src[i + 1] === '-' ? 2 : 1;
    digits();
    exp = src.slice(s, i);
  }
  const unitAt = (at: number) => UNITS.filter(([u]) => src.startsWith(u, at)).sort((a, b) => b[0].length - a[0].length)[0];
  if (!exp && unitAt(i)) {
    // A duration: one or more number+unit parts, e.g. 1h30m.
    let nanos = 0n;
    let partWhole = whole;
    let partFrac = frac;
    for (;;) {
      const unit = unitAt(i)!;
      i += unit[0].length;
      const scaled = BigInt(partWhole + partFrac) * unit[1];
      const div = 10n ** BigInt(partFrac.length);
      if (scaled % div !== 0n) throw new TraceQLError(`a duration is a whole number of nanoseconds`, from);
      nanos += scaled / div;
      if (!isDigit(src[i])) break;
      partWhole = digits();
      partFrac = '';
      if (src[i] === '.' && isDigit(src[i + 1])) {
        i++;
        partFrac = digits();
      }
      if (!unitAt(i)) throw new TraceQLError(`expected a duration unit (ns, us, µs, ms, s, m, h, d)`, i);
    }
    if (isIdentPart(src[i])) throw new TraceQLError(`unknown duration unit '${src.slice(i - 1, i + 2)}...' (units: ns, us, µs, ms, s, m, h, d)`, from);
    if (nanos > INT64_MAX) throw new TraceQLError(`the duration is too long`, from);
    tokens.push({ type: 'duration', offset: from, text: src.slice(from, i), value: nanos });
    return i;
  }
  if (isIdentPart(src[i]) || src[i] === 'µ' || src[i] === 'μ') throw new TraceQLError(`unexpected '${src[i]}' after a number (duration units: ns, us, µs, ms, s, m, h, d)`, i);
  const text = src.slice(from, i);
  if (!frac && !exp) {
    const v = BigInt(whole);
    // -9223372036854775808 is lexed as minus and 9223372036854775808, so one more is allowed here.
    if (v > INT64_MAX + 1n) throw new TraceQLError(`the integer ${text} is out of the int64 range`, from);
    tokens.push({ type: 'int', offset: from, text, value: v });
  } else {
    const v = Number(text);
    if (!Number.isFinite(v)) throw new TraceQLError(`the number ${text} is out of range`, from);
    tokens.push({ type: 'float', offset: from, text, value: v });
  }
  return i;
}
