// TraceQL text from a syntax tree, such that parsing it gives the same tree
// back (the parser tests check this on generated trees).

import type { Condition, Field, PipelineStage, SpansetExpr, Static, TraceQLQuery } from './ast.js';

export function formatTraceQL(q: TraceQLQuery | SpansetExpr): string {
  return spanset('root' in q ? q.root : q);
}

function spanset(e: SpansetExpr): string {
  switch (e.type) {
    case 'filter':
      return e.condition.type === 'const' && e.condition.value ? '{ }' : `{ ${condition(e.condition)} }`;
    case 'spansetOp':
      return `${wrapSpanset(e.left)} ${e.op} ${wrapSpanset(e.right)}`;
    case 'pipeline':
      return [wrapSpanset(e.input), ...e.stages.map(stage)].join(' | ');
  }
}

function wrapSpanset(e: SpansetExpr): string {
  return e.type === 'filter' ? spanset(e) : `(${spanset(e)})`;
}

function stage(s: PipelineStage): string {
  switch (s.type) {
    case 'spanset':
      return s.expr.type === 'pipeline' ? `(${spanset(s.expr)})` : spanset(s.expr);
    case 'select':
      return `select(${s.fields.map(field).join(', ')})`;
    case 'aggregate':
      return `${s.fn}(${s.field ? field(s.field) : ''}) ${s.op} ${literal(s.value)}`;
  }
}

function condition(c: Condition): string {
  switch (c.type) {
    case 'const':
      return String(c.value);
    case 'compare':
      return `${field(c.field)} ${c.op} ${literal(c.value)}`;
    case 'not':
      return `!(${condition(c.operand)})`;
    case 'and':
    case 'or': {
      const wrap = (x: Condition) => (x.type === 'and' || x.type === 'or' ? `(${condition(x)})` : condition(x));
      return `${wrap(c.left)} ${c.type === 'and' ? '&&' : '||'} ${wrap(c.right)}`;
    }
  }
}

const ENDS_ATTRIBUTE = new Set([' ', '\t', '\n', '\r', '\f', '\v', '{', '}', '(', ')', '=', '~', '!', '<', '>', '&', '|', '^', ',', '"']);

function field(f: Field): string {
  if (f.type === 'intrinsic') return f.name;
  const prefix = f.scope === 'unscoped' ? '.' : `${f.scope}.`;
  const bare = [...f.key].every((c) => !ENDS_ATTRIBUTE.has(c));
  return prefix + (bare ? f.key : `"${f.key.replace(/[\\"]/g, (m) => `\\${m}`)}"`);
}

function literal(v: Static): string {
  switch (v.type) {
    case 'string':
      // JSON's escapes are a subset of the ones TraceQL strings accept.
      return JSON.stringify(v.value);
    case 'int':
      return v.value.toString();
    case 'float': {
      const s = Object.is(v.value, -0) ? '-0' : String(v.value);
      return /[.e]/.test(s) ? s : `${s}.0`;
    }
    case 'duration':
      return `${v.nanos}ns`;
    case 'bool':
      return String(v.value);
    case 'status':
    case 'kind':
      return v.value;
    case 'nil':
      return 'nil';
  }
}
