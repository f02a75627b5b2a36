// A recursive-descent parser for Ariadne's TraceQL subset (docs/traceql.md).
// Precedence, loosest first:
//
//   query      := spansets ( '|' stage )*
//   spansets   := and ( '||' and )*
//   and        := structural ( '&&' structural )*
//   structural := primary ( ( '>' | '>>' | '<' | '<<' | '~' ) primary )*
//   primary    := '{' condition? '}' | '(' query ')'
//   condition  := conj ( '||' conj )*         conj := unary ( '&&' unary )*
//   unary      := '!' unary | '(' condition ')' | operand ( op operand )?
//
// Tempo's grammar puts `&&` and `||` on one level; here `&&` binds tighter, as
// in most languages (docs/traceql.md says so). Types are checked while
// parsing, so `status = "error"` is an error with a position, not a query
// that silently matches nothing.

import type { AggregateFn, CompareOp, Condition, Field, Intrinsic, PipelineStage, SpansetExpr, SpansetOp, Static, TraceQLQuery } from './ast.js';
import { TraceQLError, tokenize, type Token } from './lexer.js';
import { compileSafeRegex, RegexSyntaxError } from './regex.js';

const MAX_DEPTH = 64;
const INT64_MAX = 2n ** 63n - 1n;

const INTRINSICS: Record<string, Intrinsic> = {
  name: 'name',
  status: 'status',
  statusMessage: 'statusMessage',
  kind: 'kind',
  duration: 'duration',
  rootName: 'rootName',
  rootServiceName: 'rootServiceName',
  traceDuration: 'traceDuration',
  'span:name': 'name',
  'span:status': 'status',
  'span:statusMessage': 'statusMessage',
  'span:kind': 'kind',
  'span:duration': 'duration',
  'trace:rootName': 'rootName',
  'trace:rootService': 'rootServiceName',
  'trace:duration': 'traceDuration',
};
const UNSUPPORTED_INTRINSICS = new Set(['childCount', 'parent', 'nestedSetLeft', 'nestedSetRight', 'nestedSetParent', 'traceID', 'spanID', 'parentID', 'event', 'link', 'instrumentation']);
const STATUSES = new Set(['error', 'ok', 'unset']);
const KINDS = new Set(['unspecified', 'internal', 'server', 'client', 'producer', 'consumer']);
const AGGREGATES = new Set(['count', 'avg', 'min', 'max', 'sum']);
const UNSUPPORTED_STAGES: Record<string, string> = {
  by: `grouping ('by()') is not supported`,
  coalesce: `'coalesce()' is not supported`,
  rate: `metrics queries ('rate()') are not supported`,
  count_over_time: `metrics queries ('count_over_time()') are not supported`,
  quantile_over_time: `metrics queries ('quantile_over_time()') are not supported`,
  histogram_over_time: `metrics queries ('histogram_over_time()') are not supported`,
};
const MIRROR: Record<CompareOp, CompareOp> = { '=': '=', '!=': '!=', '>': '<', '>=': '<=', '<': '>', '<=': '>=', '=~': '=~', '!~': '!~' };

type Operand = { kind: 'field'; field: Field; offset: number } | { kind: 'static'; value: Static; offset: number };

/** Parses a TraceQL query; throws TraceQLError (message and offset) on anything it does not accept. */
export function parseTraceQL(source: string): TraceQLQuery {
  const p = new Parser(source, tokenize(source));
  return { source, root: p.query() };
}

class Parser {
  private pos = 0;
  private depth = 0;
  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
  ) {}

  query(): SpansetExpr {
    if (this.peek().type === 'eof') throw new TraceQLError(`the query is empty (match every trace with '{ }')`, 0);
    const root = this.pipeline();
    const t = this.peek();
    if (t.type !== 'eof') throw new TraceQLError(`unexpected ${describe(t)}${t.type === 'rparen' ? ` (no '(' to close)` : ''}`, t.offset);
    return root;
  }

  // --- tokens -----------------------------------------------------------------------

  private peek(k = 0): Token {
    return this.tokens[Math.min(this.pos + k, this.tokens.length - 1)]!;
  }
  private next(): Token {
    return this.tokens[Math.min(this.pos++, this.tokens.length - 1)]!;
  }
  private expect(type: Token['type'], what: string): Token {
    const t = this.peek();
    if (t.type !== type) throw new TraceQLError(`expected ${what}, found ${describe(t)}`, t.offset);
    return this.next();
  }
  private enter(t: Token): void {
    if (++this.depth > MAX_DEPTH) throw new TraceQLError(`the query nests more than ${MAX_DEPTH} levels deep`, t.offset);
  }

  // --- spansets and pipelines ----------------------------------------------------------

  private pipeline(): SpansetExpr {
    const input = this.spansetOr();
    const stages: PipelineStage[] = [];
    while (this.peek().type === 'pipe') {
      this.next();
      stages.push(this.stage());
    }
    return stages.length ? { type: 'pipeline', input, stages } : input;
  }

  private stage(): PipelineStage {
    const t = this.peek();
    if (t.type === 'ident') {
      const word = t.value as string;
      if (UNSUPPORTED_STAGES[word]) throw new TraceQLError(UNSUPPORTED_STAGES[word]!, t.offset);
      if (AGGREGATES.has(word)) return this.aggregate();
      if (word === 'select') {
        this.next();
        this.expect('lparen', `'(' after select`);
        const fields: Field[] = [];
        for (;;) {
          const o = this.operand();
          if (o.kind !== 'field') throw new TraceQLError(`select() takes fields, e.g. select(span.http.url, duration)`, o.offset);
          fields.push(o.field);
          if (this.peek().type !== 'comma') break;
          this.next();
        }
        this.expect('rparen', `')' or ','`);
        return { type: 'select', fields };
      }
    }
    if (t.type !== 'lbrace' && t.type !== 'lparen') throw new TraceQLError(`expected a spanset '{ ... }', an aggregate (count(), avg(...), min(...), max(...), sum(...)) or select(...) after '|', found ${describe(t)}`, t.offset);
    return { type: 'spanset', expr: this.spansetOr() };
  }

  private aggregate(): PipelineStage {
    const t = this.next();
    const fn = t.value as AggregateFn;
    this.expect('lparen', `'(' after ${fn}`);
    let field: Field | undefined;
    if (fn !== 'count') {
      const o = this.operand();
      if (o.kind !== 'field') throw new TraceQLError(`${fn}() takes a field, e.g. ${fn}(duration)`, o.offset);
      const f = o.field;
      if (f.type === 'intrinsic' && f.name !== 'duration' && f.name !== 'traceDuration') throw new TraceQLError(`${fn}() needs a numeric field: duration, traceDuration or an attribute`, o.offset);
      field = f;
    }
    this.expect('rparen', `')'${fn === 'count' ? ' (count() takes no argument)' : ''}`);
    const opTok = this.peek();
    if (opTok.type !== 'op' || opTok.text === '=~' || opTok.text === '!~') throw new TraceQLError(`expected a comparison (=, !=, <, <=, >, >=) after ${fn}(), found ${describe(opTok)}`, opTok.offset);
    this.next();
    const v = this.operand();
    if (v.kind !== 'static' || !isNumeric(v.value)) throw new TraceQLError(`${fn}() compares with a number${fn === 'count' ? '' : ' or a duration'}`, v.offset);
    if (fn === 'count' && v.value.type === 'duration') throw new TraceQLError(`count() compares with a number, not a duration`, v.offset);
    const stage: PipelineStage = { type: 'aggregate', fn, op: opTok.text as '=', value: v.value };
    if (field) stage.field = field;
    return stage;
  }

  private spansetOr(): SpansetExpr {
    let left = this.spansetAnd();
    while (this.peek().type === 'or') {
      this.next();
      left = { type: 'spansetOp', op: '||', left, right: this.spansetAnd() };
    }
    return left;
  }

  private spansetAnd(): SpansetExpr {
    let left = this.structural();
    while (this.peek().type === 'and') {
      this.next();
      left = { type: 'spansetOp', op: '&&', left, right: this.structural() };
    }
    return left;
  }

  private structural(): SpansetExpr {
    let left = this.spansetPrimary();
    for (;;) {
      const t = this.peek();
      let op: SpansetOp | undefined;
      if (t.type === 'desc') op = '>>';
      else if (t.type === 'ance') op = '<<';
      else if (t.type === 'tilde') op = '~';
      else if (t.type === 'op' && (t.text === '>' || t.text === '<')) op = t.text;
      else if (t.type === 'op') throw new TraceQLError(`'${t.text}' cannot join spansets (spanset operators: &&, ||, >, >>, <, <<, ~)`, t.offset);
      if (!op) return left;
      this.next();
      left = { type: 'spansetOp', op, left, right: this.spansetPrimary() };
    }
  }

  private spansetPrimary(): SpansetExpr {
    const t = this.peek();
    if (t.type === 'lparen') {
      this.enter(this.next());
      const inner = this.pipeline();
      this.expect('rparen', `')'`);
      this.depth--;
      return inner;
    }
    if (t.type !== 'lbrace') {
      const hint = t.type === 'attribute' || t.type === 'ident' ? ` (conditions go inside braces: { ${this.source.slice(t.offset, t.offset + t.text.length)} ... })` : '';
      throw new TraceQLError(`expected '{' to start a spanset, found ${describe(t)}${hint}`, t.offset);
    }
    this.enter(this.next());
    if (this.peek().type === 'rbrace') {
      this.next();
      this.depth--;
      return { type: 'filter', condition: { type: 'const', value: true } };
    }
    const condition = this.condOr();
    this.expect('rbrace', `'}' or a condition operator (&&, ||)`);
    this.depth--;
    return { type: 'filter', condition };
  }

  // --- conditions on one span ------------------------------------------------------------

  private condOr(): Condition {
    let left = this.condAnd();
    while (this.peek().type === 'or') {
      this.next();
      left = { type: 'or', left, right: this.condAnd() };
    }
    return left;
  }

  private condAnd(): Condition {
    let left = this.unary();
    while (this.peek().type === 'and') {
      this.next();
      left = { type: 'and', left, right: this.unary() };
    }
    return left;
  }

  private unary(): Condition {
    const t = this.peek();
    if (t.type === 'not') {
      this.enter(this.next());
      const operand = this.unary();
      this.depth--;
      return { type: 'not', operand };
    }
    if (t.type === 'lparen') {
      this.enter(this.next());
      const inner = this.condOr();
      this.expect('rparen', `')'`);
      this.depth--;
      return inner;
    }
    return this.comparison();
  }

  private comparison(): Condition {
    const left = this.operand();
    const opTok = this.peek();
    if (opTok.type !== 'op') {
      if (left.kind === 'field' && left.field.type === 'attribute') return { type: 'compare', field: left.field, op: '=', value: { type: 'bool', value: true } };
      if (left.kind === 'static' && left.value.type === 'bool') return { type: 'const', value: left.value.value };
      const found = opTok.type === 'eof' ? 'the end of the query' : describe(opTok);
      throw new TraceQLError(`expected a comparison (=, !=, <, <=, >, >=, =~, !~) after ${describe(this.tokens[this.pos - 1]!)}, found ${found}`, opTok.offset);
    }
    this.next();
    const right = this.operand();
    let op = opTok.text as CompareOp;
    if (left.kind === 'field' && right.kind === 'field') throw new TraceQLError(`comparing two fields is not supported; compare a field with a value`, opTok.offset);
    if (left.kind === 'static' && right.kind === 'static') throw new TraceQLError(`a comparison needs a field (an attribute or an intrinsic such as name or duration)`, left.offset);
    let field: Field;
    let value: Operand & { kind: 'static' };
    if (left.kind === 'field') {
      field = left.field;
      value = right as Operand & { kind: 'static' };
    } else {
      field = (right as Operand & { kind: 'field' }).field;
      value = left;
      if (op === '=~' || op === '!~') throw new TraceQLError(`the pattern goes on the right of '${op}'`, left.offset);
      op = MIRROR[op];
    }
    checkTypes(field, op, value.value, value.offset, opTok.offset);
    return { type: 'compare', field, op, value: value.value };
  }

  private operand(): Operand {
    const t = this.next();
    const offset = t.offset;
    switch (t.type) {
      case 'attribute':
        return { kind: 'field', field: { type: 'attribute', scope: t.scope!, key: t.value as string }, offset };
      case 'scopedIntrinsic': {
        const name = INTRINSICS[t.value as string];
        if (!name) throw new TraceQLError(`the intrinsic '${t.text}' is not supported`, offset);
        return { kind: 'field', field: { type: 'intrinsic', name }, offset };
      }
      case 'string':
        return { kind: 'static', value: { type: 'string', value: t.value as string }, offset };
      case 'int':
        if ((t.value as bigint) > INT64_MAX) throw new TraceQLError(`the integer ${t.text} is out of the int64 range`, offset);
        return { kind: 'static', value: { type: 'int', value: t.value as bigint }, offset };
      case 'float':
        return { kind: 'static', value: { type: 'float', value: t.value as number }, offset };
      case 'duration':
        return { kind: 'static', value: { type: 'duration', nanos: t.value as bigint }, offset };
      case 'minus': {
        const n = this.next();
        if (n.type === 'int') return { kind: 'static', value: { type: 'int', value: -(n.value as bigint) }, offset };
        if (n.type === 'float') return { kind: 'static', value: { type: 'float', value: -(n.value as number) }, offset };
        if (n.type === 'duration') return { kind: 'static', value: { type: 'duration', nanos: -(n.value as bigint) }, offset };
        throw new TraceQLError(`'-' goes only before a number or a duration (arithmetic is not supported)`, offset);
      }
      case 'ident': {
        const word = t.value as string;
        if (Object.hasOwn(INTRINSICS, word)) return { kind: 'field', field: { type: 'intrinsic', name: INTRINSICS[word]! }, offset };
        if (word === 'true' || word === 'false') return { kind: 'static', value: { type: 'bool', value: word === 'true' }, offset };
        if (word === 'nil') return { kind: 'static', value: { type: 'nil' }, offset };
        if (STATUSES.has(word)) return { kind: 'static', value: { type: 'status', value: word as 'ok' }, offset };
        if (KINDS.has(word)) return { kind: 'static', value: { type: 'kind', value: word as 'server' }, offset };
        if (UNSUPPORTED_INTRINSICS.has(word)) throw new TraceQLError(`the intrinsic '${word}' is not supported`, offset);
        throw new TraceQLError(`unknown name '${word}' (attributes need a scope: span.${word}, resource.${word} or .${word}; strings need quotes)`, offset);
      }
      default:
        throw new TraceQLError(`expected a field or a value, found ${describe(t)}`, offset);
    }
  }
}

function describe(t: Token): string {
  return t.type === 'eof' ? 'the end of the query' : `'${t.text}'`;
}

function isNumeric(v: Static): boolean {
  return v.type === 'int' || v.type === 'float' || v.type === 'duration';
}

const TYPE_NAMES: Record<Static['type'], string> = {
  string: 'a string',
  int: 'an integer',
  float: 'a number',
  duration: 'a duration',
  bool: 'a boolean',
  status: 'a status',
  kind: 'a span kind',
  nil: 'nil',
};

/** Rejects comparisons that can never be true or make no sense, with the offending position. */
function checkTypes(field: Field, op: CompareOp, value: Static, valueOffset: number, opOffset: number): void {
  const regex = op === '=~' || op === '!~';
  const wrong = (expected: string) => new TraceQLError(`${fieldName(field)} compares with ${expected}, not ${TYPE_NAMES[value.type]}`, valueOffset);
  const badOp = (allowed: string) => new TraceQLError(`'${op}' does not apply to ${fieldName(field)} (use ${allowed})`, opOffset);
  if (field.type === 'intrinsic') {
    switch (field.name) {
      case 'status':
        if (value.type !== 'status') throw wrong('error, ok or unset');
        if (op !== '=' && op !== '!=') throw badOp('= or !=');
        return;
      case 'kind':
        if (value.type !== 'kind') throw wrong('server, client, producer, consumer, internal or unspecified');
        if (op !== '=' && op !== '!=') throw badOp('= or !=');
        return;
      case 'duration':
      case 'traceDuration':
        if (!isNumeric(value)) throw wrong('a duration such as 250ms');
        if (regex) throw badOp('=, !=, <, <=, >, >=');
        return;
      default:
        if (value.type !== 'string') throw wrong('a string');
        break;
    }
  } else {
    if (value.type === 'status' || value.type === 'kind') throw new TraceQLError(`${TYPE_NAMES[value.type]} compares only with ${value.type} (e.g. ${value.type} = ${value.value})`, valueOffset);
    if ((value.type === 'nil' || value.type === 'bool') && op !== '=' && op !== '!=') throw badOp(`= or != with ${TYPE_NAMES[value.type]}`);
    if (regex && value.type !== 'string') throw new TraceQLError(`'${op}' needs a string pattern`, valueOffset);
  }
  if (regex) {
    try {
      compileSafeRegex((value as { value: string }).value);
    } catch (e) {
      if (e instanceof RegexSyntaxError) throw new TraceQLError(`invalid regular expression: ${e.message} (pattern character ${e.index})`, valueOffset);
      throw e;
    }
  }
}

export function fieldName(f: Field): string {
  if (f.type === 'intrinsic') return f.name;
  return (f.scope === 'unscoped' ? '.' : `${f.scope}.`) + f.key;
}
