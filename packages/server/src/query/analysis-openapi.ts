// OpenAPI 3.1 paths of the analysis API (./analysis-api.ts) and of seed
// 004's REST API (../receive/seed-rest), merged into ./openapi.ts.

const error = { type: 'object', properties: { error: { type: 'string' }, param: { type: 'string' } }, required: ['error'] };
const fieldError = { type: 'object', properties: { error: { type: 'string' }, field: { type: 'string', description: 'the body field or header at fault' } }, required: ['error'] };
const nanosText = { type: 'string', pattern: '^[0-9]+$', description: 'unix nanoseconds as decimal text' };
const nanos = { type: 'integer', description: 'nanoseconds' };
const hex = (n: number) => ({ type: 'string', pattern: `^[0-9a-f]{${n}}$` });
const str = { type: 'string' };
const num = { type: 'number' };
const int = { type: 'integer' };
const bool = { type: 'boolean' };
const obj = (properties: Record<string, object>, extra: object = {}) => ({ type: 'object', properties, ...extra });
const arr = (items: object) => ({ type: 'array', items });
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const q = (name: string, description: string, schema: object = str, required = false) => ({ name, in: 'query', required, description, schema });
const path = (name: string, schema: object = hex(32)) => ({ name, in: 'path', required: true, schema });
const ok = (description: string, schema: object) => ({ description, ...json(schema) });
const bad = { '400': { description: 'a parameter is malformed (named in `param`)', ...json(error) } };
const notFound = { '404': { description: 'no such trace', ...json(error) } };

const windowParams = [
  q('start', 'span start lower bound, inclusive: RFC 3339 or unix ns; default end minus 1 hour'),
  q('end', 'span start upper bound, inclusive: RFC 3339 or unix ns; default now'),
  q('maxTraces', 'most traces read, newest first (1-10000, default 500); `truncated` says when the bound was hit', int),
];
const windowFields = { start: nanosText, end: nanosText, tracesScanned: int, truncated: bool };

const summary = { $ref: '#/components/schemas/TraceSummary' };
const segment = obj({ spanId: hex(16), service: str, operation: str, startTimeUnixNano: nanosText, endTimeUnixNano: nanosText });
const bottleneck = obj({ spanId: hex(16), service: str, operation: str, selfTimeNanos: nanos, percentage: { type: 'number', description: 'self time / trace duration × 100, two decimals' } });
const byName = (description: string) => ({ type: 'object', additionalProperties: nanos, description });

export const analysisPaths = {
  '/api/v1/traces/{traceId}/analysis': {
    get: {
      summary: 'One trace explained: critical path, self times, bottlenecks, service breakdown, clock-skew adjustments (after removing skew)',
      parameters: [path('traceId'), q('bottleneckThreshold', 'fraction of the trace a span’s self time must exceed to be a bottleneck (default 0.1)', num)],
      responses: {
        '200': ok(
          'the analysis',
          obj({
            traceId: hex(32),
            spanCount: int,
            criticalPath: arr(segment),
            bottlenecks: arr(bottleneck),
            serviceBreakdown: byName('self time per service'),
            wallTimeBreakdown: byName('covered time per service, concurrency split evenly; sums to coveredTimeNanos'),
            selfTimes: byName('self time per span id'),
            skewAdjustments: arr(
              obj({
                spanId: hex(16),
                service: str,
                deltaNanos: { type: 'integer', description: 'how far the span and its same-clock descendants moved; positive is later' },
                reason: { type: 'string', enum: ['starts-before-parent', 'ends-after-parent', 'longer-than-parent', 'async-starts-before-parent'] },
                shiftedSpans: int,
              }),
            ),
            totalDurationNanos: nanos,
            coveredTimeNanos: nanos,
            serviceCalls: arr(obj({ from: str, to: str, count: int })),
          }),
        ),
        ...bad,
        ...notFound,
      },
    },
  },
  '/api/v1/traces/slow': {
    get: {
      summary: 'Traces lasting at least `threshold`, slowest first (candidates: the newest maxTraces traces with a span that long)',
      parameters: [
        q('threshold', 'e.g. 500ms, 2s', str, true),
        q('service', 'only traces the service took part in'),
        q('limit', 'most traces returned (1-1000, default 20)', int),
        q('start', 'span start lower bound: RFC 3339 or unix ns; default unbounded'),
        q('end', 'span start upper bound; default unbounded'),
        q('maxTraces', 'candidate traces read (1-10000, default 500)', int),
      ],
      responses: { '200': ok('slow traces', obj({ thresholdNanos: nanos, traces: arr(summary), candidates: int, truncated: bool })), ...bad },
    },
  },
  '/api/v1/metrics/red': {
    get: {
      summary:
        'Rate, errors and duration quantiles per service or per operation, over the spans starting in a time window. By default from the store itself over every span (quantiles from per-block log histograms, within 1%); exact=true reads every row for exact nearest-rank quantiles; source=scan uses a bounded sample of whole traces.',
      parameters: [
        q('groupBy', 'service (default) or operation', { type: 'string', enum: ['service', 'operation'] }),
        q('source', 'store (default when the store supports it) or scan', { type: 'string', enum: ['store', 'scan'] }),
        q('exact', 'with source=store: exact quantiles from every row', { type: 'string', enum: ['true', 'false'] }),
        q('service', 'only this service'),
        q('operation', 'only this operation'),
        q('kind', 'only these span kinds, comma-separated: server, client, internal, producer, consumer, unspecified'),
        ...windowParams,
      ],
      responses: {
        '200': ok(
          'one row per group',
          obj({
            groupBy: str,
            ...windowFields,
            windowSeconds: num,
            spansCounted: int,
            metrics: arr(obj({ service: str, operation: str, count: int, errorCount: int, rate: { type: 'number', description: 'spans per second over the window' }, errorRate: { type: 'number', description: '0..1' }, p50Nanos: nanos, p95Nanos: nanos, p99Nanos: nanos, avgNanos: nanos })),
          }),
        ),
        ...bad,
      },
    },
  },
  '/api/v1/dependencies': {
    get: {
      summary: 'Service dependency graph: caller → callee with call count, error count and latency, from traces with a span in the window',
      parameters: windowParams,
      responses: {
        '200': ok('the graph', obj({ ...windowFields, services: arr(str), edges: arr(obj({ from: str, to: str, virtual: { type: 'boolean', description: 'callee not instrumented, named by peer.service / db.name / db.system' }, callCount: int, errorCount: int, p50LatencyNanos: nanos, avgLatencyNanos: nanos })) })),
        ...bad,
      },
    },
  },
  '/api/v1/compare': {
    get: {
      summary: 'Trace b against trace a: spans matched by service+operation path; added, removed, slower, faster, same, with deltas',
      parameters: [
        q('a', 'baseline trace id', hex(32), true),
        q('b', 'compared trace id', hex(32), true),
        q('tolerance', 'relative change of a’s duration still counted as same (default 0.1)', num),
        q('minDelta', 'absolute change still counted as same, e.g. 1ms (default 0)'),
      ],
      responses: {
        '200': ok(
          'the comparison',
          obj({
            a: hex(32),
            b: hex(32),
            changes: arr(obj({ kind: { type: 'string', enum: ['added', 'removed', 'slower', 'faster', 'same'] }, service: str, operation: str, depth: int, parentIndex: { type: 'integer', description: 'index of the parent change, -1 for a root' }, a: obj({ spanId: hex(16), durationNanos: nanos }), b: obj({ spanId: hex(16), durationNanos: nanos }), deltaNanos: { type: 'integer', description: 'b − a' } })),
            summary: obj({ added: int, removed: int, slower: int, faster: int, same: int, durationANanos: nanos, durationBNanos: nanos, deltaNanos: int }),
          }),
        ),
        ...bad,
        '404': { description: 'a trace is unknown (named in `param`)', ...json(error) },
      },
    },
  },
  '/api/v1/outliers': {
    get: {
      summary: 'Attribute values over-represented in slow traces (the selection) against the rest (the baseline), ranked (BubbleUp)',
      parameters: [
        q('service', 'only traces with a span of this service; traces are then judged by its longest such span'),
        q('operation', 'likewise for an operation'),
        q('selection', 'select traces slower than this quantile (default p95)', { type: 'string', enum: ['p50', 'p75', 'p90', 'p95', 'p99'] }),
        q('minDuration', 'instead, select traces lasting at least this, e.g. 500ms'),
        q('limit', 'most dimensions returned (1-100, default 20)', int),
        ...windowParams,
      ],
      responses: {
        '200': ok(
          'ranked dimensions',
          obj({
            selection: obj({ rule: str, thresholdNanos: nanos, measured: str }),
            ...windowFields,
            selectionTraces: int,
            baselineTraces: int,
            dimensions: arr(obj({ scope: { type: 'string', enum: ['intrinsic', 'span', 'resource'] }, key: str, value: str, selectionCount: int, baselineCount: int, selectionFraction: num, baselineFraction: num, difference: num })),
            skippedKeys: arr(obj({ scope: str, key: str, distinctValues: int })),
          }),
        ),
        ...bad,
      },
    },
  },
};

// --- seed 004's REST API -------------------------------------------------------------

const tags = { type: 'object', additionalProperties: { oneOf: [str, num, bool, arr({ oneOf: [str, num, bool] })] }, description: 'integers become int64 attributes, other numbers doubles' };
const ms = { type: 'number', description: 'milliseconds' };
const spanStatusIn = { type: 'string', enum: ['success', 'ok', 'error', 'failed', 'failure', 'unset'] };
const kind = { type: 'string', enum: ['server', 'client', 'internal', 'producer', 'consumer', 'unspecified'] };
const seedSpan = obj({
  spanId: hex(16),
  parentSpanId: hex(16),
  serviceName: str,
  operationName: str,
  startTime: { type: 'number', description: 'epoch milliseconds' },
  duration: ms,
  status: { type: 'string', enum: ['success', 'error', 'unset', 'active'] },
  tags: { type: 'object' },
});
const ctxHeaders = [
  { name: 'X-Trace-ID', in: 'header', required: false, description: 'trace to join when the body gives no traceId', schema: hex(32) },
  { name: 'X-Parent-Span-ID', in: 'header', required: false, description: 'parent when the body gives none', schema: hex(16) },
  { name: 'traceparent', in: 'header', required: false, description: 'W3C trace context, used when there is no X-Trace-ID; an invalid one is ignored', schema: str },
];
const body = (schema: object) => ({ required: true, ...json(schema) });
const badBody = { '400': { description: 'malformed body or header (named in `field`)', ...json(fieldError) }, '413': { description: 'body over 64 KiB', ...json(fieldError) } };
const unavailable = { '503': { description: 'storage unavailable or overloaded; retry after Retry-After', ...json(error) } };
const node: object = obj({ spanId: hex(16), serviceName: str, operationName: str, startTime: num, duration: ms, status: str, children: arr({ $ref: '#/components/schemas/SeedTreeNode' }) });

export const seedRestSchemas = { SeedTreeNode: node };

export const seedRestPaths = {
  '/traces/start': {
    post: {
      summary: 'Seed 004: open the root span of a new trace (or join the trace named by the body or headers)',
      parameters: ctxHeaders,
      requestBody: body(obj({ serviceName: str, operationName: str, tags, kind, startTime: { type: 'number', description: 'epoch ms; default now' }, traceId: hex(32), parentSpanId: hex(16) }, { required: ['serviceName', 'operationName'] })),
      responses: { '200': ok('the new span; also a `traceparent` response header', obj({ traceId: hex(32), spanId: hex(16) })), ...badBody },
    },
  },
  '/traces/span': {
    post: {
      summary: 'Seed 004: add a span; with `duration` it is finished and stored, without it stays open until /traces/span/finish',
      parameters: ctxHeaders,
      requestBody: body(
        obj(
          { traceId: hex(32), parentSpanId: hex(16), serviceName: str, operationName: str, tags, kind, duration: ms, startTime: { type: 'number', description: 'epoch ms; default now minus duration (not before an open parent)' }, status: spanStatusIn, statusMessage: str },
          { required: ['serviceName', 'operationName'] },
        ),
      ),
      responses: { '200': ok('the new span', obj({ spanId: hex(16) })), ...badBody, ...unavailable },
    },
  },
  '/traces/span/finish': {
    post: {
      summary: 'Seed 004: finish an open span now, with a status',
      requestBody: body(obj({ spanId: hex(16), traceId: hex(32), status: spanStatusIn, statusMessage: str, tags }, { required: ['spanId'] })),
      responses: { '200': ok('the finished span', obj({ traceId: hex(32), spanId: hex(16), duration: ms, status: str })), ...badBody, '404': { description: 'no such open span', ...json(error) }, ...unavailable },
    },
  },
  '/traces/query': {
    get: {
      summary: 'Seed 004: search traces, newest first (service, operation and minDuration hold on one span); a JSON array',
      parameters: [
        q('serviceName', 'service name'),
        q('operationName', 'span name'),
        q('minDuration', 'milliseconds (1000) or a duration with a unit (1s)'),
        q('status', 'trace status', { type: 'string', enum: ['active', 'completed', 'failed'] }),
        q('limit', 'most traces (1-1000, default 20)', int),
      ],
      responses: {
        '200': ok('traces', arr(obj({ traceId: hex(32), serviceName: str, operationName: str, startTime: num, duration: ms, serviceCalls: int, errorCount: int, services: arr(str), status: { type: 'string', enum: ['active', 'completed', 'failed'] } }))),
        ...bad,
      },
    },
  },
  '/traces/{traceId}': {
    get: {
      summary: 'Seed 004: a trace: its root span, the other spans, span count, duration (ms) and status',
      parameters: [path('traceId')],
      responses: {
        '200': ok('the trace', obj({ traceId: hex(32), rootSpan: seedSpan, spans: arr(seedSpan), serviceCalls: { type: 'integer', description: 'spans in the trace' }, duration: ms, status: { type: 'string', enum: ['active', 'completed', 'failed'] } })),
        ...bad,
        ...notFound,
      },
    },
  },
  '/traces/{traceId}/visualize': {
    get: {
      summary: 'Seed 004: the span tree, nested; subtrees whose parent is not in the trace are in `orphans`',
      parameters: [path('traceId')],
      responses: { '200': ok('the tree', obj({ traceId: hex(32), duration: ms, serviceCalls: int, tree: { $ref: '#/components/schemas/SeedTreeNode' }, orphans: arr({ $ref: '#/components/schemas/SeedTreeNode' }) })), ...bad, ...notFound },
    },
  },
  '/traces/{traceId}/analyze': {
    get: {
      summary: 'Seed 004: bottlenecks (self time > 10%), service breakdown (self time, ms), critical path (service:operation, in path order)',
      parameters: [path('traceId')],
      responses: {
        '200': ok(
          'the analysis',
          obj({
            traceId: hex(32),
            totalDuration: ms,
            serviceCalls: int,
            bottlenecks: arr(obj({ span: { type: 'string', description: 'service:operation' }, spanId: hex(16), duration: { type: 'number', description: 'self time, ms' }, percentage: num })),
            serviceBreakdown: { type: 'object', additionalProperties: ms },
            criticalPath: arr({ type: 'string', description: 'service:operation' }),
          }),
        ),
        ...bad,
        ...notFound,
      },
    },
  },
  '/stats': {
    get: {
      summary: 'Seed 004: trace counts and durations over the newest 10,000 traces (of the window, if given) plus the traces open now',
      parameters: [q('window', 'only traces with a span started this long ago or later, e.g. 1h')],
      responses: {
        '200': ok(
          'statistics',
          obj({
            totalTraces: int,
            activeTraces: int,
            completedTraces: int,
            failedTraces: int,
            avgDuration: ms,
            slowestTraces: arr(obj({ traceId: hex(32), duration: ms })),
            serviceStats: { type: 'object', additionalProperties: obj({ count: { type: 'integer', description: 'traces the service took part in' }, avgDuration: { type: ['number', 'null'], description: 'mean self time per trace, ms, over the newest 100 finished traces' } }) },
            window: obj({ since: { type: ['number', 'null'] }, tracesRead: int, truncated: bool, serviceSampleTraces: int }),
          }),
        ),
        ...bad,
      },
    },
  },
};
