// Outlier attribution in the manner of Honeycomb's BubbleUp: which attribute
// values do the selected traces (say, those slower than p95) have far more
// often than the baseline (the rest)?
//
//   dimension               selection   baseline   score
//   span db.shard = 7          9/10        3/90    0.90 - 0.03 = 0.87   ◄ first
//   service = cache            10/10      90/90    1.00 - 1.00 = 0      (everyone has it)
//
// A trace has a value when any of its spans has it. Dimensions are span and
// resource attributes (by their text form) plus the intrinsic service,
// operation, status and kind. The score is the difference of the two
// fractions: it ranks a value that sets the selection apart above one that is
// merely frequent everywhere, and it is bounded, so a rare value cannot win by
// a huge ratio of tiny counts. Attribute keys whose values are nearly unique
// per trace (request ids, timestamps) cannot explain anything and are skipped.

import type { Span } from '../span.js';
import { attributeText } from '../attributes.js';

export type DimensionScope = 'intrinsic' | 'span' | 'resource';

export interface OutlierDimension {
  scope: DimensionScope;
  key: string;
  value: string;
  /** selected traces having the value */
  selectionCount: number;
  baselineCount: number;
  selectionFraction: number;
  baselineFraction: number;
  /** selectionFraction − baselineFraction: the ranking score */
  difference: number;
}

export interface SkippedKey {
  scope: DimensionScope;
  key: string;
  distinctValues: number;
}

export interface OutlierResult {
  /** over-represented values, highest score first */
  dimensions: OutlierDimension[];
  /** keys left out as high-cardinality (ids and the like) */
  skippedKeys: SkippedKey[];
  selectionTraces: number;
  baselineTraces: number;
}

export interface OutlierOptions {
  /** most dimensions returned; default 20 */
  limit?: number;
  /** a value must score above this; default 0 (over-represented at all) */
  minDifference?: number;
  /** a key with more distinct values is skipped; default 100 */
  maxDistinctValues?: number;
  /**
   * a key with at least 10 distinct values, more than this fraction of the
   * traces that have the key, is an id and is skipped; default 0.8
   */
  uniqueRatio?: number;
  /** keys never considered, in any scope; default trace and span id keys */
  ignoreKeys?: readonly string[];
}

const DEFAULT_IGNORED = ['trace_id', 'span_id', 'traceId', 'spanId', 'trace.id', 'span.id', 'parent_id'];
const KIND_NAMES = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS_NAMES = ['unset', 'ok', 'error'];
const SEP = '\u0000';

/** Ranks attribute values over-represented in `selection` relative to `baseline` (each a list of traces). */
export function outliers(selection: readonly (readonly Span[])[], baseline: readonly (readonly Span[])[], opts: OutlierOptions = {}): OutlierResult {
  const { limit = 20, minDifference = 0, maxDistinctValues = 100, uniqueRatio = 0.8 } = opts;
  const ignored = new Set(opts.ignoreKeys ?? DEFAULT_IGNORED);
  // scope + SEP + key -> value -> traces having it, in the selection [0] and the baseline [1]
  const counts = new Map<string, Map<string, [number, number]>>();
  const keyTraces = new Map<string, number>(); // scope + SEP + key -> traces having the key

  const count = (traces: readonly (readonly Span[])[], side: 0 | 1) => {
    for (const trace of traces) {
      const dims = new Map<string, Set<string>>();
      const add = (scope: DimensionScope, key: string, value: string) => {
        if (ignored.has(key)) return;
        const sk = scope + SEP + key;
        let vs = dims.get(sk);
        if (!vs) dims.set(sk, (vs = new Set()));
        vs.add(value);
      };
      const seenResources = new Set<object>();
      for (const s of trace) {
        add('intrinsic', 'service', s.service);
        add('intrinsic', 'operation', s.name);
        add('intrinsic', 'status', STATUS_NAMES[s.status.code] ?? String(s.status.code));
        add('intrinsic', 'kind', KIND_NAMES[s.kind] ?? String(s.kind));
        for (const kv of s.attributes) add('span', kv.key, attributeText(kv.value));
        if (seenResources.has(s.resource)) continue;
        seenResources.add(s.resource);
        for (const kv of s.resource.attributes) if (kv.key !== 'service.name') add('resource', kv.key, attributeText(kv.value));
      }
      for (const [sk, values] of dims) {
        keyTraces.set(sk, (keyTraces.get(sk) ?? 0) + 1);
        let byValue = counts.get(sk);
        if (!byValue) counts.set(sk, (byValue = new Map()));
        for (const v of values) {
          const c = byValue.get(v);
          if (c) c[side]++;
          else byValue.set(v, side === 0 ? [1, 0] : [0, 1]);
        }
      }
    }
  };
  count(selection, 0);
  count(baseline, 1);

  const nSel = selection.length;
  const nBase = baseline.length;
  const skippedKeys: SkippedKey[] = [];
  const dims: OutlierDimension[] = [];
  for (const [sk, byValue] of counts) {
    const cut = sk.indexOf(SEP);
    const scope = sk.slice(0, cut) as DimensionScope;
    const key = sk.slice(cut + 1);
    const distinct = byValue.size;
    const idLike = distinct > maxDistinctValues || (distinct >= 10 && distinct > uniqueRatio * keyTraces.get(sk)!);
    if (idLike && scope !== 'intrinsic') {
      skippedKeys.push({ scope, key, distinctValues: distinct });
      continue;
    }
    for (const [value, [selectionCount, baselineCount]] of byValue) {
      if (selectionCount === 0) continue;
      const selectionFraction = selectionCount / nSel;
      const baselineFraction = nBase === 0 ? 0 : baselineCount / nBase;
      const difference = selectionFraction - baselineFraction;
      if (difference <= minDifference) continue;
      dims.push({ scope, key, value, selectionCount, baselineCount, selectionFraction, baselineFraction, difference });
    }
  }
  dims.sort(
    (a, b) =>
      b.difference - a.difference ||
      b.selectionCount - a.selectionCount ||
      cmp(a.scope, b.scope) ||
      cmp(a.key, b.key) ||
      cmp(a.value, b.value),
  );
  skippedKeys.sort((a, b) => cmp(a.scope, b.scope) || cmp(a.key, b.key));
  return { dimensions: dims.slice(0, limit), skippedKeys, selectionTraces: nSel, baselineTraces: nBase };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
