// Test support for the OTLP codecs: an independent, plainly written mapping
// from protobufjs's view of a request to model Spans (the oracle), the reverse
// mappings used to build payloads, and fast-check generators.

import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import type { AnyValue, InstrumentationScope, KeyValue, Resource, Span, SpanEvent, SpanKind, SpanLink, StatusCode } from '@ariadne/model';
import { serviceOf } from '@ariadne/model';

// ---- protobufjs object view -> model ----

type Obj = Record<string, unknown>;
const o = (x: unknown): Obj => (x ?? {}) as Obj;
const list = (x: unknown): unknown[] => (x ?? []) as unknown[];
const bytesOf = (x: unknown): Buffer => (x === undefined ? Buffer.alloc(0) : Buffer.from(x as Uint8Array));

function refAnyValue(x: unknown): AnyValue {
  const v = o(x);
  if (v['stringValue'] !== undefined) return { stringValue: v['stringValue'] as string };
  if (v['boolValue'] !== undefined) return { boolValue: v['boolValue'] as boolean };
  if (v['intValue'] !== undefined) return { intValue: String(v['intValue']) };
  if (v['doubleValue'] !== undefined) return { doubleValue: v['doubleValue'] as number };
  if (v['arrayValue'] !== undefined) return { arrayValue: { values: list(o(v['arrayValue'])['values']).map(refAnyValue) } };
  if (v['kvlistValue'] !== undefined) return { kvlistValue: { values: refKeyValues(o(v['kvlistValue'])['values']) } };
  if (v['bytesValue'] !== undefined) return { bytesValue: bytesOf(v['bytesValue']).toString('base64') };
  return {};
}

function refKeyValues(x: unknown): KeyValue[] {
  return list(x).map((kv) => ({ key: (o(kv)['key'] as string | undefined) ?? '', value: refAnyValue(o(kv)['value']) }));
}

const num = (x: unknown): number => (x as number | undefined) ?? 0;
const text = (x: unknown): string => (x as string | undefined) ?? '';
const nanos = (x: unknown): bigint => BigInt((x as string | undefined) ?? '0');
const isZero = (b: Buffer): boolean => b.every((x) => x === 0);

/** The spans a correct decoder must produce for referenceDecode's output, and how many it must reject. */
export function referenceToSpans(request: unknown): { spans: Span[]; rejected: number } {
  const spans: Span[] = [];
  let rejected = 0;
  for (const rsx of list(o(request)['resourceSpans'])) {
    const rs = o(rsx);
    const r = o(rs['resource']);
    const resource: Resource = {
      attributes: refKeyValues(r['attributes']),
      droppedAttributesCount: num(r['droppedAttributesCount']),
      schemaUrl: text(rs['schemaUrl']),
    };
    for (const ssx of list(rs['scopeSpans'])) {
      const ss = o(ssx);
      const sc = o(ss['scope']);
      const scope: InstrumentationScope = {
        name: text(sc['name']),
        version: text(sc['version']),
        attributes: refKeyValues(sc['attributes']),
        droppedAttributesCount: num(sc['droppedAttributesCount']),
        schemaUrl: text(ss['schemaUrl']),
      };
      for (const sx of list(ss['spans'])) {
        const s = o(sx);
        const traceId = bytesOf(s['traceId']);
        const spanId = bytesOf(s['spanId']);
        const parent = bytesOf(s['parentSpanId']);
        if (traceId.length !== 16 || isZero(traceId) || spanId.length !== 8 || isZero(spanId) || (parent.length !== 0 && parent.length !== 8)) {
          rejected++;
          continue;
        }
        const st = o(s['status']);
        spans.push({
          traceId: traceId.toString('hex'),
          spanId: spanId.toString('hex'),
          parentSpanId: parent.length === 8 && !isZero(parent) ? parent.toString('hex') : '',
          traceState: text(s['traceState']),
          flags: num(s['flags']),
          name: text(s['name']),
          kind: num(s['kind']) as SpanKind,
          startTimeUnixNano: nanos(s['startTimeUnixNano']),
          endTimeUnixNano: nanos(s['endTimeUnixNano']),
          attributes: refKeyValues(s['attributes']),
          droppedAttributesCount: num(s['droppedAttributesCount']),
          events: list(s['events']).map((ex): SpanEvent => {
            const e = o(ex);
            return {
              timeUnixNano: nanos(e['timeUnixNano']),
              name: text(e['name']),
              attributes: refKeyValues(e['attributes']),
              droppedAttributesCount: num(e['droppedAttributesCount']),
            };
          }),
          droppedEventsCount: num(s['droppedEventsCount']),
          links: list(s['links']).map((lx): SpanLink => {
            const l = o(lx);
            return {
              traceId: bytesOf(l['traceId']).toString('hex'),
              spanId: bytesOf(l['spanId']).toString('hex'),
              traceState: text(l['traceState']),
              attributes: refKeyValues(l['attributes']),
              droppedAttributesCount: num(l['droppedAttributesCount']),
              flags: num(l['flags']),
            };
          }),
          droppedLinksCount: num(s['droppedLinksCount']),
          status: { code: num(st['code']) as StatusCode, message: text(st['message']) },
          resource,
          scope,
          service: serviceOf(resource),
        });
      }
    }
  }
  return { spans, rejected };
}

// ---- model -> payload objects ----

/** Groups spans by resource, then scope, by identity and in first-seen order (as the encoder does). */
export function groupSpans(spans: readonly Span[]): [Resource, [InstrumentationScope, Span[]][]][] {
  const groups = new Map<Resource, Map<InstrumentationScope, Span[]>>();
  for (const s of spans) {
    let scopes = groups.get(s.resource);
    if (!scopes) groups.set(s.resource, (scopes = new Map()));
    let l = scopes.get(s.scope);
    if (!l) scopes.set(s.scope, (l = []));
    l.push(s);
  }
  return [...groups].map(([r, scopes]) => [r, [...scopes]]);
}

/** Model spans as an OTLP/JSON request object (hex ids, int64 and fixed64 as strings). */
export function spansToOtlpJson(spans: readonly Span[]): object {
  const value = (v: AnyValue): object => {
    if (v.doubleValue !== undefined) {
      const d = v.doubleValue;
      return { doubleValue: Number.isFinite(d) && !Object.is(d, -0) ? d : Object.is(d, -0) ? '-0' : String(d) };
    }
    if (v.arrayValue) return { arrayValue: { values: v.arrayValue.values.map(value) } };
    if (v.kvlistValue) return { kvlistValue: { values: kvs(v.kvlistValue.values) } };
    return v;
  };
  const kvs = (l: KeyValue[]) => l.map((kv) => ({ key: kv.key, value: value(kv.value) }));
  return {
    resourceSpans: groupSpans(spans).map(([resource, scopes]) => ({
      resource: { attributes: kvs(resource.attributes), droppedAttributesCount: resource.droppedAttributesCount },
      schemaUrl: resource.schemaUrl,
      scopeSpans: scopes.map(([scope, list]) => ({
        scope: { name: scope.name, version: scope.version, attributes: kvs(scope.attributes), droppedAttributesCount: scope.droppedAttributesCount },
        schemaUrl: scope.schemaUrl,
        spans: list.map((s) => ({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId,
          traceState: s.traceState,
          flags: s.flags,
          name: s.name,
          kind: s.kind,
          startTimeUnixNano: s.startTimeUnixNano.toString(),
          endTimeUnixNano: s.endTimeUnixNano.toString(),
          attributes: kvs(s.attributes),
          droppedAttributesCount: s.droppedAttributesCount,
          events: s.events.map((e) => ({
            timeUnixNano: e.timeUnixNano.toString(),
            name: e.name,
            attributes: kvs(e.attributes),
            droppedAttributesCount: e.droppedAttributesCount,
          })),
          droppedEventsCount: s.droppedEventsCount,
          links: s.links.map((l) => ({ ...l, attributes: kvs(l.attributes) })),
          droppedLinksCount: s.droppedLinksCount,
          status: s.status,
        })),
      })),
    })),
  };
}

// ---- generators ----

/** fc.record without null-prototype objects (deepStrictEqual compares prototypes). */
const rec = (<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }, constraints?: { requiredKeys?: (keyof T)[] }) =>
  fc.record(model, { noNullPrototype: true, ...constraints })) as typeof fc.record;

/** Strings that survive UTF-8 (no lone surrogates), short and often empty or ASCII. */
export const arbText = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom('', 'service.name', 'GET /api/v1/orders/:id', '日本語', '😀🎉', 'x'.repeat(200)) },
);

export const INT64_EXTREMES = ['0', '-1', '1', '9223372036854775807', '-9223372036854775808', '9007199254740993', '-9007199254740993', '4294967296', '-4294967296', '2147483648'];

export const arbInt64Text = fc.oneof(
  fc.constantFrom(...INT64_EXTREMES),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
  fc.integer().map(String),
);

export const arbUint64 = fc.oneof(fc.constantFrom(0n, 1n, 2n ** 64n - 1n, 2n ** 63n, 1_731_000_000_123_456_789n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));

const arbUint32 = fc.oneof(fc.constant(0), fc.nat(10), fc.constant(0xffffffff), fc.nat());

/** Model AnyValues (bytes as canonical base64), nested a few levels. */
export const arbAnyValue: fc.Arbitrary<AnyValue> = fc.letrec<{ value: AnyValue; kv: KeyValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    rec({ stringValue: arbText }),
    rec({ boolValue: fc.boolean() }),
    rec({ intValue: arbInt64Text }),
    rec({ doubleValue: fc.double() }),
    rec({ bytesValue: fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b).toString('base64')) }),
    rec({ arrayValue: rec({ values: fc.array(tie('value'), { maxLength: 3 }) }) }),
    rec({ kvlistValue: rec({ values: fc.array(tie('kv'), { maxLength: 3 }) }) }),
    fc.constant({}),
  ),
  kv: rec({ key: arbText, value: tie('value') }),
})).value;

export const arbKeyValues: fc.Arbitrary<KeyValue[]> = fc.array(rec({ key: arbText, value: arbAnyValue }), { maxLength: 4 });

const hexOf = (n: number, nonZero: boolean) =>
  fc.uint8Array({ minLength: n, maxLength: n }).filter((b) => !nonZero || b.some((x) => x !== 0)).map((b) => Buffer.from(b).toString('hex'));

export const arbResource: fc.Arbitrary<Resource> = rec({
  attributes: fc.oneof(
    arbKeyValues,
    arbKeyValues.map((kvs) => [{ key: 'service.name', value: { stringValue: 'svc-' + kvs.length } }, ...kvs]),
  ),
  droppedAttributesCount: arbUint32,
  schemaUrl: arbText,
});

export const arbScope: fc.Arbitrary<InstrumentationScope> = rec({
  name: arbText,
  version: arbText,
  attributes: arbKeyValues,
  droppedAttributesCount: arbUint32,
  schemaUrl: arbText,
});

const arbSpanBody = rec({
  traceId: hexOf(16, true),
  spanId: hexOf(8, true),
  parentSpanId: fc.oneof(fc.constant(''), hexOf(8, true)),
  traceState: fc.oneof(fc.constant(''), fc.constant('rojo=00f067aa0ba902b7'), arbText),
  flags: fc.oneof(fc.constant(0), fc.constant(0x301), arbUint32),
  name: arbText,
  kind: fc.integer({ min: 0, max: 5 }) as fc.Arbitrary<SpanKind>,
  startTimeUnixNano: arbUint64,
  endTimeUnixNano: arbUint64,
  attributes: arbKeyValues,
  droppedAttributesCount: arbUint32,
  events: fc.array(
    rec({ timeUnixNano: arbUint64, name: arbText, attributes: arbKeyValues, droppedAttributesCount: arbUint32 }),
    { maxLength: 2 },
  ),
  droppedEventsCount: arbUint32,
  links: fc.array(
    rec({
      traceId: hexOf(16, false),
      spanId: hexOf(8, false),
      traceState: arbText,
      attributes: arbKeyValues,
      droppedAttributesCount: arbUint32,
      flags: arbUint32,
    }),
    { maxLength: 2 },
  ),
  droppedLinksCount: arbUint32,
  status: rec({ code: fc.integer({ min: 0, max: 2 }) as fc.Arbitrary<StatusCode>, message: arbText }),
});

/**
 * Valid model spans in encoder order: a few resources, each with a few
 * scopes, each with a few spans sharing those objects.
 */
export const arbModelSpans: fc.Arbitrary<Span[]> = fc
  .array(fc.tuple(arbResource, fc.array(fc.tuple(arbScope, fc.array(arbSpanBody, { maxLength: 3 })), { maxLength: 3 })), { maxLength: 3 })
  .map((groups) => {
    const spans: Span[] = [];
    for (const [resource, scopes] of groups) {
      const service = serviceOf(resource);
      for (const [scope, bodies] of scopes) for (const b of bodies) spans.push({ ...b, resource, scope, service });
    }
    return spans;
  });

// protobufjs fromObject inputs: anything the wire allows, including what SDKs never send.

const arbRefText = fc.oneof(
  { weight: 4, arbitrary: arbText },
  // Lone surrogates cannot be UTF-8; both decoders must agree on what they become.
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('\uD800', '\uDFFF', 'a', '😀', '日'), maxLength: 6 }) },
);

const arbRefAnyValue: fc.Arbitrary<object> = fc.letrec<{ value: object; kv: object }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    rec({ stringValue: arbRefText }),
    rec({ boolValue: fc.boolean() }),
    rec({ intValue: arbInt64Text }),
    rec({ doubleValue: fc.double() }),
    rec({ bytesValue: fc.uint8Array({ maxLength: 12 }) }),
    rec({ arrayValue: rec({ values: fc.array(tie('value'), { maxLength: 3 }) }) }),
    rec({ kvlistValue: rec({ values: fc.array(tie('kv'), { maxLength: 3 }) }) }),
    fc.constant({}),
  ),
  kv: rec({ key: arbRefText, value: tie('value') }, { requiredKeys: ['key'] }),
})).value;

const arbRefAttrs = fc.array(rec({ key: arbRefText, value: arbRefAnyValue }, { requiredKeys: ['key'] }), { maxLength: 4 });

const bytesN = (...lengths: number[]) =>
  fc.oneof(
    ...lengths.map((n) => fc.uint8Array({ minLength: n, maxLength: n })),
    ...lengths.map((n) => fc.constant(new Uint8Array(n))), // all zero
  );

const arbRefSpan = rec(
  {
    traceId: fc.oneof({ weight: 6, arbitrary: fc.uint8Array({ minLength: 16, maxLength: 16 }) }, { weight: 1, arbitrary: bytesN(0, 8, 15, 16, 17) }),
    spanId: fc.oneof({ weight: 6, arbitrary: fc.uint8Array({ minLength: 8, maxLength: 8 }) }, { weight: 1, arbitrary: bytesN(0, 7, 8, 16) }),
    parentSpanId: fc.oneof({ weight: 4, arbitrary: fc.uint8Array({ minLength: 8, maxLength: 8 }) }, { weight: 1, arbitrary: bytesN(0, 5, 8) }),
    traceState: arbRefText,
    flags: arbUint32,
    name: arbRefText,
    kind: fc.integer({ min: 0, max: 7 }),
    startTimeUnixNano: arbUint64.map(String),
    endTimeUnixNano: arbUint64.map(String),
    attributes: arbRefAttrs,
    droppedAttributesCount: arbUint32,
    events: fc.array(
      rec({ timeUnixNano: arbUint64.map(String), name: arbRefText, attributes: arbRefAttrs, droppedAttributesCount: arbUint32 }, { requiredKeys: [] }),
      { maxLength: 2 },
    ),
    droppedEventsCount: arbUint32,
    links: fc.array(
      rec(
        {
          traceId: bytesN(0, 16),
          spanId: bytesN(0, 8, 3),
          traceState: arbRefText,
          attributes: arbRefAttrs,
          droppedAttributesCount: arbUint32,
          flags: arbUint32,
        },
        { requiredKeys: [] },
      ),
      { maxLength: 2 },
    ),
    droppedLinksCount: arbUint32,
    status: rec({ code: fc.integer({ min: 0, max: 3 }), message: arbRefText }, { requiredKeys: [] }),
  },
  { requiredKeys: ['traceId', 'spanId'] },
);

/** ExportTraceServiceRequest objects for referenceEncode. */
export const arbRefRequest: fc.Arbitrary<object> = rec({
  resourceSpans: fc.array(
    rec(
      {
        resource: rec({ attributes: arbRefAttrs, droppedAttributesCount: arbUint32 }, { requiredKeys: [] }),
        schemaUrl: arbRefText,
        scopeSpans: fc.array(
          rec(
            {
              scope: rec({ name: arbRefText, version: arbRefText, attributes: arbRefAttrs, droppedAttributesCount: arbUint32 }, { requiredKeys: [] }),
              schemaUrl: arbRefText,
              spans: fc.array(arbRefSpan, { maxLength: 4 }),
            },
            { requiredKeys: ['spans'] },
          ),
          { maxLength: 3 },
        ),
      },
      { requiredKeys: ['scopeSpans'] },
    ),
    { maxLength: 3 },
  ),
});
