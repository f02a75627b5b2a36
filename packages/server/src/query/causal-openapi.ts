// OpenAPI 3.1 paths of the causal API (./causal-api.ts) and of Raceway's
// event ingest (../receive/raceway/http.ts), merged into ./openapi.ts.

const error = { type: 'object', properties: { error: { type: 'string' }, param: { type: 'string' } }, required: ['error'] };
const nanosText = { type: 'string', pattern: '^[0-9]+$', description: 'unix nanoseconds as decimal text' };
const nanos = { type: 'integer', description: 'nanoseconds' };
const hex = (n: number) => ({ type: 'string', pattern: `^[0-9a-f]{${n}}$` });
const str = { type: 'string' };
const strOrNull = { type: ['string', 'null'] };
const int = { type: 'integer' };
const bool = { type: 'boolean' };
const obj = (properties: Record<string, object>, extra: object = {}) => ({ type: 'object', properties, ...extra });
const arr = (items: object) => ({ type: 'array', items });
const counts = (description: string) => ({ type: 'object', additionalProperties: int, description });
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const q = (name: string, description: string, schema: object = str) => ({ name, in: 'query', required: false, description, schema });
const traceIdParam = { name: 'traceId', in: 'path', required: true, schema: hex(32) };
const ok = (description: string, schema: object) => ({ description, ...json(schema) });
const bad = { '400': { description: 'a parameter is malformed (named in `param`)', ...json(error) } };
const notFound = { '404': { description: 'no such trace', ...json(error) } };

const access = { type: 'string', enum: ['read', 'write', 'atomic_read', 'atomic_write', 'atomic_rmw'] };
const clock = { type: 'array', items: { type: 'array', prefixItems: [str, int], minItems: 2, maxItems: 2 }, description: 'vector clock as sent: [[component, counter], ...] ([] when the event had none)' };

const raceAccessProps = {
  service: str,
  instance: { ...strOrNull, description: 'service.instance.id' },
  threadId: str,
  access,
  location: { ...strOrNull, description: 'file:line' },
  oldValue: { ...strOrNull, description: 'JSON text as sent' },
  newValue: { ...strOrNull, description: 'JSON text as sent' },
  clock,
  traceId: hex(32),
  spanId: hex(16),
  timeUnixNano: nanosText,
  locks: arr(str),
};
const raceAccess = obj(raceAccessProps, { required: ['service', 'threadId', 'access', 'location', 'oldValue', 'newValue', 'clock', 'traceId', 'spanId'] });
const race = obj(
  {
    variable: str,
    severity: { type: 'string', enum: ['critical', 'warning'], description: 'critical: write/write; warning: read/write' },
    accesses: { type: 'array', items: { $ref: '#/components/schemas/RaceAccess' }, minItems: 2, maxItems: 2, description: 'earlier in processing order first' },
  },
  { required: ['variable', 'severity', 'accesses'] },
);
const raceSummary = obj({ races: int, critical: int, warning: int, variables: int });
const raceLimits = [
  q('limit', 'most races returned (1-10000, default 1000); `truncated` says when cut', int),
  q('maxPerVariable', 'most races per variable (1-10000, default 100)', int),
];
const races = arr({ $ref: '#/components/schemas/Race' });

export const causalSchemas = { RaceAccess: raceAccess, Race: race };

export const causalPaths = {
  '/api/v1/traces/{traceId}/races': {
    get: {
      summary: 'Data races in one trace: conflicting accesses to a variable (one a write) from different threads or processes, concurrent by vector clocks, no common lock',
      parameters: [traceIdParam, ...raceLimits],
      responses: {
        '200': ok('the races (an empty list for a trace without causal events)', obj({ traceId: hex(32), events: { type: 'integer', description: 'causal events analysed' }, summary: raceSummary, races, truncated: bool, truncatedVariables: arr(str) })),
        ...bad,
        ...notFound,
      },
    },
  },
  '/api/v1/races': {
    get: {
      summary: 'Data races across all traces with a span starting in a time window (bounded scan, newest traces first)',
      parameters: [
        q('start', 'span start lower bound, inclusive: RFC 3339 or unix ns; default end minus 1 hour'),
        q('end', 'span start upper bound, inclusive: RFC 3339 or unix ns; default now'),
        q('service', 'only races with an access from this service (the other access may be in any service and trace)'),
        ...raceLimits,
        q('maxTraces', 'most traces read (1-10000, default 500)', int),
      ],
      responses: {
        '200': ok(
          'the races',
          obj({
            start: nanosText,
            end: nanosText,
            service: str,
            tracesScanned: int,
            tracesWithEvents: int,
            events: { type: 'integer', description: 'causal events analysed' },
            summary: raceSummary,
            races,
            truncated: { type: 'boolean', description: 'the answer is incomplete: the scan stopped at maxTraces / a span or event bound, or a race limit cut the list' },
            scanTruncated: { type: 'boolean', description: 'older traces in the window were not read' },
            truncatedVariables: arr(str),
          }),
        ),
        ...bad,
      },
    },
  },
  '/api/v1/traces/{traceId}/causal': {
    get: {
      summary: 'The causal report of one trace: events by type and service, async spawn/await pairs, decorator-tracked functions, a timeline, per-variable audit trails, lock contention, race summary',
      parameters: [
        traceIdParam,
        q('timeline', 'first events listed in `timeline` (0-10000, default 30)', int),
        q('maxAccessesPerVariable', 'audit-trail entries listed per variable (1-100000, default 1000; counts cover all)', int),
        q('variable', 'only this variable’s audit trail'),
      ],
      responses: {
        '200': ok(
          'the report',
          obj({
            traceId: hex(32),
            spanCount: int,
            services: arr(str),
            summary: obj({ events: { type: 'integer', description: 'causal (ariadne.*) events' }, services: int, threads: int, variables: int, racyVariables: int, races: int, criticalRaces: int, warningRaces: int }),
            totalEvents: { type: 'integer', description: 'events of every type, traced calls included' },
            eventTypes: counts('FunctionCall, StateChange (writes), VariableAccess (reads), AsyncSpawn, AsyncAwait, LockAcquire, LockRelease, HttpRequest, ..., Error, SpanEvent (any other span event) → count, most frequent first'),
            eventsByService: arr(obj({ service: str, total: int, types: counts('type → count') })),
            breakdown: arr(
              obj({
                service: str,
                total: int,
                state: counts('access kind → count'),
                lock: obj({ acquire: int, release: int }),
                async: obj({ spawn: int, await: int }),
                variables: int,
                threads: int,
              }),
            ),
            asyncPairs: arr(
              obj({
                taskId: str,
                traceId: hex(32),
                service: str,
                instance: strOrNull,
                spawn: { oneOf: [{ type: 'null' }, obj({ threadId: str, spanId: hex(16), timeUnixNano: nanosText, location: strOrNull })] },
                await: { oneOf: [{ type: 'null' }, obj({ threadId: str, spanId: hex(16), timeUnixNano: nanosText, location: strOrNull })] },
                durationNanos: { type: ['integer', 'null'], description: 'await − spawn' },
                outcome: { type: 'string', enum: ['completed', 'pending', 'await_without_spawn'] },
                status: { ...strOrNull, description: 'status the await reported (status_code, http.response.status_code)' },
                reportedDurationMs: { type: ['number', 'null'], description: 'duration_ms the emitter reported' },
              }),
            ),
            decorated: obj({ total: int, services: arr(obj({ service: str, calls: int, functions: arr(str) })) }, { description: 'decorator-tracked calls: spans from @ariadne/sdk traced (code.function, ariadne.args) and Raceway decorator FunctionCall events' }),
            timeline: arr(obj({ timeUnixNano: nanosText, service: str, type: str, detail: str, traceId: hex(32), spanId: hex(16), threadId: strOrNull })),
            auditTrails: arr(
              obj({
                variable: str,
                accesses: arr(
                  obj({
                    ...raceAccessProps,
                    sequence: int,
                    racy: { type: 'boolean', description: 'races with at least one other access' },
                    link: { type: 'string', enum: ['first', 'happens-before', 'concurrent'], description: 'how it stands to the previous access' },
                  }),
                ),
                accessCount: int,
                racyCount: int,
                truncated: bool,
              }),
            ),
            locks: arr(
              obj({
                lockId: str,
                lockTypes: arr(str),
                services: arr(str),
                acquisitions: int,
                holds: int,
                threads: int,
                totalHoldNanos: nanos,
                maxHoldNanos: nanos,
                meanHoldNanos: nanos,
                waiters: { type: 'integer', description: 'holds that began while another thread held the lock' },
                maxWaitNanos: nanos,
                unreleased: int,
              }),
            ),
            races: obj({ races: int, critical: int, warning: int, variables: int, truncated: bool, byVariable: arr(obj({ variable: str, races: int, critical: int, warning: int, services: arr(str) })) }),
            highlights: obj({ functionCalls: int, asyncSpawned: int, asyncCompleted: int, stateChanges: int, variableAccesses: int, locksAcquired: int, decoratedCalls: int, races: int, criticalRaces: int }),
          }),
        ),
        ...bad,
        ...notFound,
      },
    },
  },
};

const racewayAnswer = obj({
  success: bool,
  data: { ...strOrNull, description: '"Ingested N events" or "Ingested N events, M errors"' },
  error: strOrNull,
  errors: arr(obj({ index: { type: 'integer', description: 'position in `events`; -1 for the batch itself' }, reason: str })),
  accepted: int,
  rejected: int,
  spans: { type: 'integer', description: 'spans stored (one per request context)' },
  traceIds: arr(hex(32)),
});

export const racewayPaths = {
  '/events': {
    post: {
      summary: "Raceway event ingest ({\"events\":[...]} as Raceway's SDKs send it); events become spans with ariadne.* events; optional gzip",
      requestBody: {
        required: true,
        ...json(
          obj(
            {
              events: arr(
                obj({
                  id: str,
                  trace_id: str,
                  parent_id: strOrNull,
                  timestamp: { description: 'RFC 3339, or unix s/ms/µs/ns' },
                  kind: { type: 'object', description: 'exactly one of FunctionCall, AsyncSpawn, AsyncAwait, StateChange, LockAcquire, LockRelease, MemoryFence, HttpRequest, HttpResponse, DatabaseQuery, DatabaseResult, Error, Custom' },
                  metadata: obj({ thread_id: str, process_id: int, service_name: str, environment: str, tags: obj({}), duration_ns: int, instance_id: str, distributed_span_id: str, upstream_span_id: str }),
                  causality_vector: arr({ type: 'array', prefixItems: [str, int] }),
                  lock_set: arr(str),
                }),
              ),
            },
            { required: ['events'] },
          ),
        ),
      },
      responses: {
        '200': ok('every event stored', racewayAnswer),
        '206': ok('the good events stored; the bad ones listed in `errors`', racewayAnswer),
        '400': ok('not JSON, not {"events":[...]}, or no usable event', racewayAnswer),
        '413': ok('body over --max-body-bytes (after decompression)', racewayAnswer),
        '415': ok('not application/json, or an unsupported Content-Encoding', racewayAnswer),
        '503': ok('storage unavailable or overloaded; retry after Retry-After', racewayAnswer),
      },
    },
  },
};
