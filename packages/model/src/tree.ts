// The span tree of one trace and its text rendering (seed 002's form):
//
//   └─ frontend.handle_user_request (Frontend) - 1.523s
//     └─ APIGateway.handle_request (APIGateway) - 1.321s
//       ├─ AuthService.handle_request (AuthService) - 312ms
//       └─ DataService.handle_request (DataService) - 634ms

import type { Span } from './span.js';
import { spanDurationNanos } from './span.js';
import { formatDuration } from './units.js';

export interface SpanNode {
  span: Span;
  children: SpanNode[];
  depth: number;
}

/**
 * Builds the forest of a trace. Spans whose parent is missing become roots
 * (a partial trace still renders); children are ordered by start time.
 * Duplicate span ids keep the first occurrence. Iterative, so a 100k-deep
 * chain cannot overflow the stack.
 */
export function buildTree(spans: readonly Span[]): SpanNode[] {
  const byId = new Map<string, SpanNode>();
  for (const span of spans) if (!byId.has(span.spanId)) byId.set(span.spanId, { span, children: [], depth: 0 });
  const roots: SpanNode[] = [];
  for (const node of byId.values()) {
    const parent = node.span.parentSpanId ? byId.get(node.span.parentSpanId) : undefined;
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  const byStart = (a: SpanNode, b: SpanNode) =>
    a.span.startTimeUnixNano < b.span.startTimeUnixNano ? -1 : a.span.startTimeUnixNano > b.span.startTimeUnixNano ? 1 : 0;
  roots.sort(byStart);
  // A parent cycle (a->b->a) leaves nodes unreachable from any root: surface them as roots.
  const seen = new Set<SpanNode>();
  const stack = [...roots];
  while (stack.length) {
    const n = stack.pop()!;
    seen.add(n);
    n.children.sort(byStart);
    for (const c of n.children) {
      c.depth = n.depth + 1;
      stack.push(c);
    }
  }
  if (seen.size !== byId.size) {
    for (const node of byId.values()) {
      if (seen.has(node)) continue;
      roots.push(node);
      const st = [node];
      while (st.length) {
        const n = st.pop()!;
        if (seen.has(n)) continue;
        seen.add(n);
        n.children = n.children.filter((c) => !seen.has(c));
        n.children.sort(byStart);
        for (const c of n.children) {
          c.depth = n.depth + 1;
          st.push(c);
        }
      }
    }
  }
  return roots;
}

/** Pre-order walk, without recursion. */
export function walkTree(roots: readonly SpanNode[], visit: (n: SpanNode) => void): void {
  const stack = [...roots].reverse();
  while (stack.length) {
    const n = stack.pop()!;
    visit(n);
    for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
  }
}

export interface RenderOptions {
  /** text appended to a span's line, e.g. a bottleneck mark */
  mark?: (span: Span) => string | undefined;
}

/** The tree as text lines, one span a line. */
export function renderTree(roots: readonly SpanNode[], opts: RenderOptions = {}): string[] {
  const lines: string[] = [];
  type Item = { node: SpanNode; prefix: string; last: boolean };
  const stack: Item[] = [];
  for (let i = roots.length - 1; i >= 0; i--) stack.push({ node: roots[i]!, prefix: '', last: i === roots.length - 1 });
  while (stack.length) {
    const { node, prefix, last } = stack.pop()!;
    const s = node.span;
    const mark = opts.mark?.(s);
    lines.push(
      `${prefix}${last ? '└─' : '├─'} ${s.name} (${s.service}) - ${formatDuration(Number(spanDurationNanos(s)))}${mark ? ' ' + mark : ''}`,
    );
    const childPrefix = prefix + (last ? '   ' : '│  ');
    const cs = node.children;
    for (let i = cs.length - 1; i >= 0; i--) stack.push({ node: cs[i]!, prefix: childPrefix, last: i === cs.length - 1 });
  }
  return lines;
}
