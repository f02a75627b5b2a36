// Regular expressions for TraceQL's =~ and !~, matched in time linear in the
// text: the pattern compiles to a Thompson NFA that is simulated
// breadth-first (every live state advances one character at a time), as RE2
// and Go's regexp (Tempo's) do. JavaScript's RegExp backtracks instead, so a
// pattern like `(a+)+b` or `.*a.*a.*a.*b` over a long attribute value takes
// exponential or high-polynomial time; patterns come from whoever can reach
// the query API, so they never reach RegExp.
//
// Syntax: RE2's — literals, `.`, classes (`[a-z]`, `[^...]`, `[[:alpha:]]`,
// `\d \w \s` and negations), groups (`(...)`, `(?:...)`, `(?P<n>...)`),
// `|`, `* + ? {n} {n,} {n,m}` (lazy forms accepted; they match the same
// strings), `^ $ \A \z \b \B`, flags `(?i) (?s) (?m) (?U)`. Rejected: what RE2
// lacks too (backreferences, lookaround) and `\p{...}`, `\Q...\E`.
// Matches are anchored at both ends, as Tempo's are: `=~ "GET"` is `^(?:GET)$`.
// Cost: O(text length × program size); patterns are capped at 1,000
// characters and 5,000 instructions (`x{1000}` counts a thousand times).

export const MAX_PATTERN_LENGTH = 1000;
const MAX_PROGRAM = 5000;
const MAX_REPEAT = 1000;

export class RegexSyntaxError extends Error {
  /** code point index into the pattern */
  readonly index: number;
  constructor(message: string, index: number) {
    super(message);
    this.name = 'RegexSyntaxError';
    this.index = index;
  }
}

/** A compiled pattern; `test` is true when the whole text matches. */
export interface SafeRegex {
  readonly source: string;
  test(text: string): boolean;
}

type Assert = 'bot' | 'eot' | 'bol' | 'eol' | 'word' | 'nonword';
type Pred = (cp: number) => boolean;

type Node =
  | { t: 'empty' }
  /** `lit` is set for a plain literal character (no case folding), for the literal fast path */
  | { t: 'char'; test: Pred; lit?: number }
  | { t: 'cat'; items: Node[] }
  | { t: 'alt'; items: Node[] }
  | { t: 'repeat'; node: Node; min: number; max: number } // max -1: unbounded
  | { t: 'assert'; kind: Assert };

interface Flags {
  i: boolean;
  s: boolean;
  m: boolean;
}

const LF = 10;
const isWordCp = (cp: number) => (cp >= 48 && cp <= 57) || (cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122) || cp === 95;
const isDigitCp = (cp: number) => cp >= 48 && cp <= 57;
const isSpaceCp = (cp: number) => cp === 9 || cp === 10 || cp === 12 || cp === 13 || cp === 32;

const POSIX: Record<string, Pred> = {
  alnum: (c) => isDigitCp(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122),
  alpha: (c) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122),
  ascii: (c) => c <= 0x7f,
  blank: (c) => c === 9 || c === 32,
  cntrl: (c) => c <= 0x1f || c === 0x7f,
  digit: isDigitCp,
  graph: (c) => c >= 0x21 && c <= 0x7e,
  lower: (c) => c >= 97 && c <= 122,
  print: (c) => c >= 0x20 && c <= 0x7e,
  punct: (c) => (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e),
  space: (c) => isSpaceCp(c) || c === 11,
  upper: (c) => c >= 65 && c <= 90,
  word: isWordCp,
  xdigit: (c) => isDigitCp(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102),
};

/** The code point and its simple lower- and upper-case forms. */
function caseVariants(cp: number): number[] {
  const s = String.fromCodePoint(cp);
  const out = [cp];
  for (const v of [s.toLowerCase(), s.toUpperCase()]) {
    const c = v.codePointAt(0)!;
    if (v.length === String.fromCodePoint(c).length && !out.includes(c)) out.push(c);
  }
  return out;
}

const fold = (p: Pred): Pred => (cp) => caseVariants(cp).some(p);

class Parser {
  private readonly cps: number[];
  private pos = 0;
  constructor(pattern: string) {
    this.cps = Array.from(pattern, (ch) => ch.codePointAt(0)!);
  }

  parse(): Node {
    const node = this.alternation({ i: false, s: false, m: false });
    if (this.pos < this.cps.length) throw this.error(`unmatched ')'`);
    return node;
  }

  private error(message: string, at = this.pos): RegexSyntaxError {
    return new RegexSyntaxError(message, at);
  }
  private peek(offset = 0): number | undefined {
    return this.cps[this.pos + offset];
  }
  private is(ch: string, offset = 0): boolean {
    return this.cps[this.pos + offset] === ch.codePointAt(0);
  }

  /** `flags` is shared by the alternatives of one group: `(?i)` holds to the group's end. */
  private alternation(flags: Flags): Node {
    const items = [this.concat(flags)];
    while (this.is('|')) {
      this.pos++;
      items.push(this.concat(flags));
    }
    return items.length === 1 ? items[0]! : { t: 'alt', items };
  }

  private concat(flags: Flags): Node {
    const items: Node[] = [];
    while (this.pos < this.cps.length && !this.is('|') && !this.is(')')) {
      const atom = this.atom(flags);
      if (atom) items.push(this.quantified(atom));
    }
    return items.length === 0 ? { t: 'empty' } : items.length === 1 ? items[0]! : { t: 'cat', items };
  }

  private quantified(atom: Node): Node {
    const q = this.quantifier();
    if (!q) return atom;
    if (this.is('?')) this.pos++; // lazy: the same set of matches
    const at = this.pos;
    if (this.quantifier()) throw this.error(`invalid nested repetition operator`, at);
    return { t: 'repeat', node: atom, min: q.min, max: q.max };
  }

  /** Consumes `*`, `+`, `?` or a valid `{n,m}`; a `{` that is not one is a literal (RE2 does the same). */
  private quantifier(): { min: number; max: number } | undefined {
    if (this.is('*')) return this.pos++, { min: 0, max: -1 };
    if (this.is('+')) return this.pos++, { min: 1, max: -1 };
    if (this.is('?')) return this.pos++, { min: 0, max: 1 };
    if (!this.is('{')) return undefined;
    let p = this.pos + 1;
    const num = () => {
      const s = p;
      while (this.cps[p] !== undefined && isDigitCp(this.cps[p]!)) p++;
      return p > s ? Number(String.fromCodePoint(...this.cps.slice(s, p))) : undefined;
    };
    const min = num();
    if (min === undefined) return undefined;
    let max: number | undefined = min;
    if (this.cps[p] === 44 /* , */) {
      p++;
      max = num() ?? -1;
    }
    if (this.cps[p] !== 125 /* } */) return undefined;
    if (min > MAX_REPEAT || max > MAX_REPEAT) throw this.error(`repetition count above ${MAX_REPEAT}`);
    if (max !== -1 && max < min) throw this.error(`invalid repetition range {${min},${max}}`);
    this.pos = p + 1;
    return { min, max };
  }

  private atom(flags: Flags): Node | undefined {
    const at = this.pos;
    const cp = this.cps[this.pos++]!;
    switch (String.fromCodePoint(cp)) {
      case '(':
        return this.group(flags, at);
      case '[':
        return this.charClass(flags);
      case '.':
        return { t: 'char', test: flags.s ? () => true : (c) => c !== LF };
      case '^':
        return { t: 'assert', kind: flags.m ? 'bol' : 'bot' };
      case '$':
        return { t: 'assert', kind: flags.m ? 'eol' : 'eot' };
      case '\\':
        return this.escape(flags, false);
      case '*':
      case '+':
      case '?':
        throw this.error(`missing argument to repetition operator`, at);
      case '{': {
        this.pos = at;
        if (this.quantifier()) throw this.error(`missing argument to repetition operator`, at);
        this.pos = at + 1;
        return literal(cp, flags);
      }
      default:
        return literal(cp, flags);
    }
  }

  private group(outer: Flags, at: number): Node | undefined {
    let flags = { ...outer };
    if (this.is('?')) {
      this.pos++;
      if (this.is('=') || this.is('!') || (this.is('<') && (this.is('=', 1) || this.is('!', 1)))) throw this.error(`lookaround is not supported`, at);
      if (this.is('P') || this.is('<')) {
        // (?P<name>re) or (?<name>re): captures do not matter for a yes/no match
        if (this.is('P')) this.pos++;
        if (!this.is('<')) throw this.error(`invalid named group`, at);
        while (this.pos < this.cps.length && !this.is('>')) this.pos++;
        if (!this.is('>')) throw this.error(`invalid named group`, at);
        this.pos++;
      } else if (this.is(':')) {
        this.pos++;
      } else {
        // (?flags) for the rest of the enclosing group, or (?flags:re)
        let on = true;
        const set = { ...outer };
        for (;;) {
          const c = this.peek();
          if (c === undefined) throw this.error(`missing ')'`, at);
          const ch = String.fromCodePoint(c);
          this.pos++;
          if (ch === '-' && on) on = false;
          else if (ch === 'i' || ch === 's' || ch === 'm') set[ch] = on;
          else if (ch === 'U') continue;
          else if (ch === ')') {
            Object.assign(outer, set);
            return undefined;
          } else if (ch === ':') break;
          else throw this.error(`invalid or unsupported flag '${ch}'`, this.pos - 1);
        }
        flags = set;
      }
    }
    const inner = this.alternation(flags);
    if (!this.is(')')) throw this.error(`missing ')'`, at);
    this.pos++;
    return inner;
  }

  /** After a backslash; inside a class only character escapes and \d\w\s make sense. */
  private escape(flags: Flags, inClass: boolean): Node {
    const at = this.pos - 1;
    const c = this.cps[this.pos++];
    if (c === undefined) throw this.error(`trailing backslash`, at);
    const ch = String.fromCodePoint(c);
    const cls = perlClass(ch);
    if (cls) return { t: 'char', test: cls };
    if (!inClass) {
      if (ch === 'b' || ch === 'B') return { t: 'assert', kind: ch === 'b' ? 'word' : 'nonword' };
      if (ch === 'A') return { t: 'assert', kind: 'bot' };
      if (ch === 'z') return { t: 'assert', kind: 'eot' };
    }
    return literal(this.escapedChar(ch, at), flags);
  }

  private escapedChar(ch: string, at: number): number {
    const controls: Record<string, number> = { a: 7, f: 12, t: 9, n: 10, r: 13, v: 11 };
    if (controls[ch] !== undefined) return controls[ch]!;
    if (ch === 'x') {
      let hex = '';
      if (this.is('{')) {
        this.pos++;
        while (this.pos < this.cps.length && !this.is('}')) hex += String.fromCodePoint(this.cps[this.pos++]!);
        if (!this.is('}')) throw this.error(`missing '}' in \\x{...}`, at);
        this.pos++;
      } else {
        hex = String.fromCodePoint(...this.cps.slice(this.pos, this.pos + 2));
        this.pos += 2;
      }
      const v = hexValue(hex);
      if (v === undefined || v > 0x10ffff) throw this.error(`invalid \\x escape`, at);
      return v;
    }
    if (ch === '0') {
      let v = 0;
      for (let k = 0; k < 2 && this.peek() !== undefined && this.peek()! >= 48 && this.peek()! <= 55; k++) v = v * 8 + (this.cps[this.pos++]! - 48);
      return v;
    }
    if (ch >= '1' && ch <= '9') throw this.error(`backreferences are not supported`, at);
    if (ch === 'p' || ch === 'P') throw this.error(`Unicode classes (\\p, \\P) are not supported`, at);
    if (ch === 'Q') throw this.error(`\\Q...\\E is not supported`, at);
    const c = ch.codePointAt(0)!;
    // Any escaped ASCII punctuation is itself.
    if (c < 0x80 && !isWordCp(c)) return c;
    throw this.error(`invalid escape '\\${ch}'`, at);
  }

  private charClass(flags: Flags): Node {
    const at = this.pos - 1;
    let negate = false;
    if (this.is('^')) {
      negate = true;
      this.pos++;
    }
    const ranges: number[] = [];
    const preds: Pred[] = [];
    let first = true;
    for (;;) {
      if (this.pos >= this.cps.length) throw this.error(`missing ']'`, at);
      if (this.is(']') && !first) {
        this.pos++;
        break;
      }
      first = false;
      if (this.is('[') && this.is(':', 1)) {
        const end = this.cps.indexOf(58 /* : */, this.pos + 2);
        if (end > 0 && this.cps[end + 1] === 93 /* ] */) {
          let name = String.fromCodePoint(...this.cps.slice(this.pos + 2, end));
          const neg = name.startsWith('^');
          if (neg) name = name.slice(1);
          const p = POSIX[name];
          if (!p) throw this.error(`unknown class [:${name}:]`);
          preds.push(neg ? (c) => !p(c) : p);
          this.pos = end + 2;
          continue;
        }
      }
      const lo = this.classChar(preds);
      if (lo === undefined) continue;
      if (this.is('-') && !this.is(']', 1) && this.pos + 1 < this.cps.length) {
        this.pos++;
        const hi = this.classChar(preds);
        if (hi === undefined || hi < lo) throw this.error(`invalid character class range`, at);
        ranges.push(lo, hi);
      } else ranges.push(lo, lo);
    }
    let test: Pred = (c) => {
      for (let k = 0; k < ranges.length; k += 2) if (c >= ranges[k]! && c <= ranges[k + 1]!) return true;
      for (const p of preds) if (p(c)) return true;
      return false;
    };
    if (flags.i) test = fold(test);
    return { t: 'char', test: negate ? ((inner) => (c: number) => !inner(c))(test) : test };
  }

  /** One class member: a character (returned) or a \d-like class (added to preds; undefined). */
  private classChar(preds: Pred[]): number | undefined {
    const at = this.pos;
    const c = this.cps[this.pos++]!;
    if (c !== 92 /* \ */) return c;
    const e = this.cps[this.pos];
    if (e === undefined) throw this.error(`trailing backslash`, at);
    const cls = perlClass(String.fromCodePoint(e));
    if (cls) {
      this.pos++;
      preds.push(cls);
      return undefined;
    }
    this.pos++;
    return this.escapedChar(String.fromCodePoint(e), at);
  }
}

function hexValue(hex: string): number | undefined {
  if (!hex.length || hex.length > 8) return undefined;
  let v = 0;
  for (const h of hex) {
    const d = h >= '0' && h <= '9' ? h.charCodeAt(0) - 48 : h >= 'a' && h <= 'f' ? h.charCodeAt(0) - 87 : h >= 'A' && h <= 'F' ? h.charCodeAt(0) - 55 : -1;
    if (d < 0) return undefined;
    v = v * 16 + d;
  }
  return v;
}

function perlClass(ch: string): Pred | undefined {
  switch (ch) {
    case 'd':
      return isDigitCp;
    case 'D':
      return (c) => !isDigitCp(c);
    case 's':
      return isSpaceCp;
    case 'S':
      return (c) => !isSpaceCp(c);
    case 'w':
      return isWordCp;
    case 'W':
      return (c) => !isWordCp(c);
  }
  return undefined;
}

function literal(cp: number, flags: Flags): Node {
  if (flags.i) {
    const vs = caseVariants(cp);
    if (vs.length > 1) return { t: 'char', test: (c) => vs.includes(c) };
  }
  return { t: 'char', test: (c) => c === cp, lit: cp };
}

// --- the program and its simulation -------------------------------------------------

const CHAR = 0;
const SPLIT = 1;
const JMP = 2;
const ASSERT = 3;
const MATCH = 4;

interface Inst {
  op: number;
  out: number;
  out1: number;
  test?: Pred;
  kind?: Assert;
}

function compile(root: Node): Inst[] {
  const prog: Inst[] = [];
  const emit = (inst: Omit<Inst, 'out' | 'out1'> & Partial<Inst>): Inst => {
    if (prog.length >= MAX_PROGRAM) throw new RegexSyntaxError(`the pattern is too large (over ${MAX_PROGRAM} instructions once repetitions are expanded)`, 0);
    const full: Inst = { out: prog.length + 1, out1: -1, ...inst };
    prog.push(full);
    return full;
  };
  const gen = (n: Node): void => {
    switch (n.t) {
      case 'empty':
        return;
      case 'char':
        emit({ op: CHAR, test: n.test });
        return;
      case 'assert':
        emit({ op: ASSERT, kind: n.kind });
        return;
      case 'cat':
        for (const item of n.items) gen(item);
        return;
      case 'alt': {
        const jumps: Inst[] = [];
        n.items.forEach((item, k) => {
          if (k < n.items.length - 1) {
            const split = emit({ op: SPLIT });
            gen(item);
            jumps.push(emit({ op: JMP }));
            split.out1 = prog.length;
          } else gen(item);
        });
        for (const j of jumps) j.out = prog.length;
        return;
      }
      case 'repeat': {
        const { node, min, max } = n;
        if (max === -1) {
          for (let k = 0; k < min - 1; k++) gen(node);
          if (min >= 1) {
            // x+ : L: x; split(L, next)
            const loop = prog.length;
            gen(node);
            const split = emit({ op: SPLIT });
            split.out1 = split.out;
            split.out = loop;
          } else {
            // x* : L: split(body, end); body; jmp L
            const loop = prog.length;
            const split = emit({ op: SPLIT });
            gen(node);
            emit({ op: JMP, out: loop });
            split.out1 = prog.length;
          }
          return;
        }
        for (let k = 0; k < min; k++) gen(node);
        // x{0,k}: each optional copy may end the repetition
        const splits: Inst[] = [];
        for (let k = min; k < max; k++) {
          splits.push(emit({ op: SPLIT }));
          gen(node);
        }
        for (const s of splits) s.out1 = prog.length;
        return;
      }
    }
  };
  gen(root);
  emit({ op: MATCH });
  return prog;
}

function literalText(root: Node): string | undefined {
  const items = root.t === 'cat' ? root.items : root.t === 'empty' ? [] : [root];
  let s = '';
  for (const n of items) {
    if (n.t !== 'char' || n.lit === undefined) return undefined;
    s += String.fromCodePoint(n.lit);
  }
  return s;
}

/** Compiles a pattern; throws RegexSyntaxError for what it does not support or cannot parse. */
export function compileSafeRegex(pattern: string): SafeRegex {
  if (pattern.length > MAX_PATTERN_LENGTH) throw new RegexSyntaxError(`the pattern is longer than ${MAX_PATTERN_LENGTH} characters`, MAX_PATTERN_LENGTH);
  const root = new Parser(pattern).parse();
  const lit = literalText(root);
  if (lit !== undefined) return { source: pattern, test: (text) => text === lit };
  const prog = compile(root);
  const size = prog.length;
  return {
    source: pattern,
    test(text: string): boolean {
      const cps = Array.from(text, (ch) => ch.codePointAt(0)!);
      const n = cps.length;
      let clist = new Int32Array(size);
      let nlist = new Int32Array(size);
      const marks = new Int32Array(size);
      const stack = new Int32Array(2 * size + 2);
      let gen = 0;
      let matched = false;
      /** Adds pc and everything reachable from it without consuming a character, at text position pos. */
      const add = (list: Int32Array, len: number, start: number, pos: number): number => {
        let sp = 0;
        stack[sp++] = start;
        while (sp > 0) {
          const pc = stack[--sp]!;
          if (marks[pc] === gen) continue;
          marks[pc] = gen;
          const inst = prog[pc]!;
          switch (inst.op) {
            case CHAR:
              list[len++] = pc;
              break;
            case MATCH:
              if (pos === n) matched = true;
              break;
            case JMP:
              stack[sp++] = inst.out;
              break;
            case SPLIT:
              stack[sp++] = inst.out1;
              stack[sp++] = inst.out;
              break;
            case ASSERT:
              if (holds(inst.kind!, cps, pos)) stack[sp++] = inst.out;
              break;
          }
        }
        return len;
      };
      gen++;
      let clen = add(clist, 0, 0, 0);
      for (let i = 0; i < n && clen > 0; i++) {
        gen++;
        let nlen = 0;
        const c = cps[i]!;
        for (let k = 0; k < clen; k++) {
          const inst = prog[clist[k]!]!;
          if (inst.test!(c)) nlen = add(nlist, nlen, inst.out, i + 1);
        }
        [clist, nlist] = [nlist, clist];
        clen = nlen;
      }
      return matched;
    },
  };
}

function holds(kind: Assert, cps: number[], pos: number): boolean {
  const n = cps.length;
  switch (kind) {
    case 'bot':
      return pos === 0;
    case 'eot':
      return pos === n;
    case 'bol':
      return pos === 0 || cps[pos - 1] === LF;
    case 'eol':
      return pos === n || cps[pos] === LF;
    case 'word':
    case 'nonword': {
      const boundary = (pos > 0 && isWordCp(cps[pos - 1]!)) !== (pos < n && isWordCp(cps[pos]!));
      return kind === 'word' ? boundary : !boundary;
    }
  }
}
