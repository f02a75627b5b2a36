/// <reference types="node" />
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTree, renderTree, walkTree } from './tree.js';
import { emptyResource, emptyScope, SpanKind, StatusCode, type Span } from './span.js';

function span(id: string, parent: string, name: string, service: string, startMs: number, durMs: number): Span {
  return {
    traceId: 'a'.repeat(32),
    spanId: id.padStart(16, '0'),
    parentSpanId: parent ? parent.padStart(16, '0') : '',
    traceState: '',
    flags: 1,
    name,
    kind: SpanKind.INTERNAL,
    startTimeUnixNano: BigInt(startMs) * 1_000_000n,
    endTimeUnixNano: BigInt(startMs + durMs) * 1_000_000n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: StatusCode.UNSET, message: '' },
    resource: emptyResource(),
    scope: emptyScope(),
    service,
  };
}

describe('span tree', () => {
  const spans = [
    span('3', '2', 'AuthService.handle_request', 'AuthService', 10, 312),
    span('1', '', 'frontend.handle_user_request', 'Frontend', 0, 1523),
    span('4', '2', 'DataService.handle_request', 'DataService', 400, 634),
    span('2', '1', 'APIGateway.handle_request', 'APIGateway', 5, 1321),
  ];

  it('renders in seed 002 form, children by start time', () => {
    assert.deepEqual(renderTree(buildTree(spans)), [
      '└─ frontend.handle_user_request (Frontend) - 1.523s',
      '   └─ APIGateway.handle_request (APIGateway) - 1.321s',
      '      ├─ AuthService.handle_request (AuthService) - 312ms',
      '      └─ DataService.handle_request (DataService) - 634ms',
    ]);
  });

  it('marks spans', () => {
    const lines = renderTree(buildTree(spans), { mark: (s) => (s.spanId.endsWith('4') ? '⚠ bottleneck' : undefined) });
    assert.equal(lines[3], '      └─ DataService.handle_request (DataService) - 634ms ⚠ bottleneck');
  });

  it('makes orphans roots and survives parent cycles', () => {
    const roots = buildTree([span('5', '9', 'orphan', 'x', 0, 1), span('6', '7', 'a', 'x', 0, 1), span('7', '6', 'b', 'x', 1, 1)]);
    const names: string[] = [];
    walkTree(roots, (n) => names.push(n.span.name));
    assert.deepEqual(names.sort(), ['a', 'b', 'orphan']);
  });

  it('handles a 100k-deep chain without recursion', () => {
    const chain: Span[] = [];
    for (let i = 1; i <= 100_000; i++) chain.push(span(i.toString(16), i > 1 ? (i - 1).toString(16) : '', 'op', 's', i, 1));
    const roots = buildTree(chain);
    assert.equal(roots.length, 1);
    let depth = 0;
    walkTree(roots, (n) => (depth = Math.max(depth, n.depth)));
    assert.equal(depth, 99_999);
    assert.equal(renderTree(roots).length, 100_000);
  });
});
