// `ariadne trace <traceId>`: the span tree as text.

import { buildTree, renderTree, spanFromJson, formatDuration, type SpanJson } from '@ariadne/model';
import { parseArgs } from '../config/config.js';
import { baseUrl, getJson } from './client.js';

export async function traceCommand(argv: string[]): Promise<number> {
  const { flags, positional } = parseArgs(argv, ['json']);
  const id = positional[0];
  if (!id) {
    console.error('usage: ariadne trace <traceId> [--url http://localhost:3000] [--json]');
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
  for (const line of renderTree(buildTree(spans))) console.log(line);
  return 0;
}
