// `ariadne trace <traceId>`: the span tree as text; with --analyze, the
// analyzed tree (critical path and bottleneck marks, clock skew removed),
// the critical path and the per-service breakdown, computed here with the
// model's analysis functions from the spans the server returns.

import {
  analyzeTrace,
  buildTree,
  formatDuration,
  renderAnalyzedTree,
  renderTree,
  spanFromJson,
  type Span,
  type SpanJson,
} from '@ariadne/model';
import { parseArgs } from '../config/config.js';
import { baseUrl, getJson } from './client.js';

export async function traceCommand(argv: string[]): Promise<number> {
  const { flags, positional } = parseArgs(argv, ['json', 'analyze']);
  const id = positional[0];
  if (!id) {
    console.error('usage: ariadne trace <traceId> [--analyze] [--url http://localhost:3000] [--json]');
    return 2;
  }
  const { status, body } = await getJson<{ spans?: SpanJson[]; error?: string }>(`${baseUrl(flags)}/api/v1/traces/${encodeURIComponent(id.toLowerCase())}`);
  if (status !== 200 || !body.spans) {
    console.error(`ariadne: ${body.error ?? `server answered ${status}`}`);
    return 1;
  }
  if (flags.json) {
    console.log(JSON.stringify(body, null, 2));
    return 0;
  }
  const spans = body.spans.map(spanFromJson);
  let min = spans[0]!.startTimeUnixNano;
  let max = spans[0]!.endTimeUnixNano;
  for (const s of spans) {
    if (s.startTimeUnixNano < min) min = s.startTimeUnixNano;
    if (s.endTimeUnixNano > max) max = s.endTimeUnixNano;
  }
  console.log(`Trace ${id} — ${spans.length} spans, ${formatDuration(Number(max - min))}, services: ${[...new Set(spans.map((s) => s.service))].sort().join(', ')}`);
  if (!flags.analyze) {
    for (const line of renderTree(buildTree(spans))) console.log(line);
    return 0;
  }
  for (const line of analyzedReport(spans)) console.log(line);
  return 0;
}

/** The --analyze text: the marked tree, then the critical path, the service breakdown and any skew adjustments. */
export function analyzedReport(spans: readonly Span[]): string[] {
  const a = analyzeTrace(spans);
  const out = renderAnalyzedTree(spans);
  const total = a.totalDurationNanos;
  const pct = (ns: number) => (total > 0 ? `${((ns / total) * 100).toFixed(1)}%` : '-');
  let base = a.criticalPath[0]?.startTimeUnixNano ?? 0n;
  for (const s of spans) if (s.startTimeUnixNano < base) base = s.startTimeUnixNano;

  out.push('', `Critical path (${a.criticalPath.length} segments):`);
  const rows = a.criticalPath.map((seg) => {
    const len = Number(seg.endTimeUnixNano - seg.startTimeUnixNano);
    return [`+${formatDuration(Number(seg.startTimeUnixNano - base))}`, formatDuration(len), pct(len), `${seg.operation} (${seg.service})`];
  });
  out.push(...table(rows));

  out.push('', 'Service breakdown (self time; parallel spans each count their own):');
  const services = Object.entries(a.serviceBreakdown).sort(([x, a1], [y, b1]) => b1 - a1 || (x < y ? -1 : 1));
  out.push(...table(services.map(([svc, ns]) => [svc, formatDuration(ns), pct(ns)])));

  if (a.bottlenecks.length) {
    out.push('', 'Bottlenecks (self time > 10% of the trace):');
    out.push(...table(a.bottlenecks.map((b) => [`${b.operation} (${b.service})`, formatDuration(b.selfTimeNanos), `${b.percentage.toFixed(2)}%`, b.spanId])));
  }
  if (a.skewAdjustments.length) {
    out.push('', 'Clock skew adjusted:');
    out.push(...table(a.skewAdjustments.map((s) => [s.spanId, s.service, `${s.deltaNanos >= 0 ? '+' : '-'}${formatDuration(Math.abs(s.deltaNanos))}`, s.reason, `${s.shiftedSpans} spans`])));
  }
  return out;
}

function table(rows: string[][]): string[] {
  if (!rows.length) return ['  (none)'];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => '  ' + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
}
