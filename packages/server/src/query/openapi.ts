// OpenAPI 3.1 description of /api/v1, served at /api/openapi.json.

import { analysisPaths, seedRestPaths, seedRestSchemas } from './analysis-openapi.js';
import { causalPaths, causalSchemas, racewayPaths } from './causal-openapi.js';

const error = { type: 'object', properties: { error: { type: 'string' }, param: { type: 'string' } }, required: ['error'] };
const anyValue = {
  type: 'object',
  description: 'OTLP/JSON AnyValue: exactly one of the properties is set',
  properties: {
    stringValue: { type: 'string' },
    boolValue: { type: 'boolean' },
    intValue: { type: 'string', description: 'int64 as decimal text' },
    doubleValue: { type: 'number' },
    bytesValue: { type: 'string', format: 'byte' },
    arrayValue: { type: 'object', properties: { values: { type: 'array', items: { $ref: '#/components/schemas/AnyValue' } } } },
    kvlistValue: { type: 'object', properties: { values: { type: 'array', items: { $ref: '#/components/schemas/KeyValue' } } } },
  },
};
const keyValue = { type: 'object', properties: { key: { type: 'string' }, value: { $ref: '#/components/schemas/AnyValue' } }, required: ['key', 'value'] };
const attrs = { type: 'array', items: { $ref: '#/components/schemas/KeyValue' } };
const nanosText = { type: 'string', pattern: '^[0-9]+$', description: 'unix nanoseconds as decimal text' };
const hex = (n: number) => ({ type: 'string', pattern: `^[0-9a-f]{${n}}$` });

const span = {
  type: 'object',
  properties: {
    traceId: hex(32),
    spanId: hex(16),
    parentSpanId: { type: 'string', description: "16 hex, or '' for a root span" },
    traceState: { type: 'string' },
    flags: { type: 'integer' },
    name: { type: 'string' },
    kind: { type: 'integer', description: '0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer' },
    startTimeUnixNano: nanosText,
    endTimeUnixNano: nanosText,
    attributes: attrs,
    droppedAttributesCount: { type: 'integer' },
    events: {
      type: 'array',
      items: { type: 'object', properties: { timeUnixNano: nanosText, name: { type: 'string' }, attributes: attrs, droppedAttributesCount: { type: 'integer' } } },
    },
    droppedEventsCount: { type: 'integer' },
    links: {
      type: 'array',
      items: {
        type: 'object',
        properties: { traceId: hex(32), spanId: hex(16), traceState: { type: 'string' }, attributes: attrs, droppedAttributesCount: { type: 'integer' }, flags: { type: 'integer' } },
      },
    },
    droppedLinksCount: { type: 'integer' },
    status: { type: 'object', properties: { code: { type: 'integer', description: '0 unset, 1 ok, 2 error' }, message: { type: 'string' } } },
    resource: { type: 'object', properties: { attributes: attrs, droppedAttributesCount: { type: 'integer' }, schemaUrl: { type: 'string' } } },
    scope: {
      type: 'object',
      properties: { name: { type: 'string' }, version: { type: 'string' }, attributes: attrs, droppedAttributesCount: { type: 'integer' }, schemaUrl: { type: 'string' } },
    },
    service: { type: 'string', description: 'resource service.name' },
  },
};

const summary = {
  type: 'object',
  properties: {
    traceId: hex(32),
    rootService: { type: 'string' },
    rootOperation: { type: 'string' },
    startTimeUnixNano: nanosText,
    durationNanos: { type: 'integer' },
    spanCount: { type: 'integer' },
    errorCount: { type: 'integer' },
    services: { type: 'array', items: { type: 'string' } },
  },
};

const q = (name: string, description: string, schema: object = { type: 'string' }) => ({ name, in: 'query', required: false, description, schema });
const json = (schema: object) => ({ content: { 'application/json': { schema } } });

export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'Ariadne API', version: '1', description: 'Query and analysis API of the Ariadne tracing server.' },
  paths: {
    '/api/v1/traces/{traceId}': {
      get: {
        summary: 'Every span of a trace, exactly as received',
        parameters: [{ name: 'traceId', in: 'path', required: true, schema: hex(32) }],
        responses: {
          '200': { description: 'the trace', ...json({ type: 'object', properties: { traceId: hex(32), spans: { type: 'array', items: { $ref: '#/components/schemas/Span' } } } }) },
          '400': { description: 'malformed trace id', ...json(error) },
          '404': { description: 'no such trace', ...json(error) },
        },
      },
    },
    '/api/v1/traces': {
      get: {
        summary: 'Search traces: every condition must hold on one span; or a TraceQL query (q); newest first',
        parameters: [
          q(
            'q',
            'TraceQL query (the subset in docs/traceql.md), e.g. { resource.service.name = "checkout" && duration > 100ms } && { status = error }. Combines with start, end and limit only; start/end bound the spans the query may select. When more than limit traces match, those whose latest selected span started last are returned.',
          ),
          q('service', 'service name'),
          q('operation', 'span name'),
          q('attr.<key>', 'attribute equality on span or resource attributes; repeatable (AND)'),
          q('minDuration', 'e.g. 250ms, 1.5s, 800us'),
          q('maxDuration', 'e.g. 2s'),
          q('status', 'span status', { type: 'string', enum: ['error', 'ok', 'unset'] }),
          q('start', 'span start lower bound, inclusive: RFC 3339 or unix ns'),
          q('end', 'span start upper bound, inclusive: RFC 3339 or unix ns'),
          q('limit', 'most traces (1-10000, default 20)', { type: 'integer' }),
        ],
        responses: {
          '200': {
            description: 'trace summaries',
            ...json({
              type: 'object',
              properties: {
                traces: { type: 'array', items: { $ref: '#/components/schemas/TraceSummary' } },
                truncated: { type: 'boolean', description: 'with q only: the scan of candidate traces hit its bound (10,000) before the answer was sure; narrow the query or the time range' },
              },
            }),
          },
          '400': {
            description: 'a parameter is malformed (named in `param`); for invalid TraceQL, `offset` is where in q',
            ...json({ ...error, properties: { ...error.properties, offset: { type: 'integer', description: '0-based character offset into q' } } }),
          },
        },
      },
    },
    '/api/v1/services': {
      get: { summary: 'Service names', responses: { '200': { description: 'services', ...json({ type: 'object', properties: { services: { type: 'array', items: { type: 'string' } } } }) } } },
    },
    '/api/v1/services/{service}/operations': {
      get: {
        summary: 'Operations of a service with their span kinds',
        parameters: [{ name: 'service', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': {
            description: 'operations',
            ...json({
              type: 'object',
              properties: { operations: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, spanKind: { type: 'integer' } } } } },
            }),
          },
        },
      },
    },
    ...analysisPaths,
    ...causalPaths,
    ...seedRestPaths,
    ...racewayPaths,
  },
  components: { schemas: { AnyValue: anyValue, KeyValue: keyValue, Span: span, TraceSummary: summary, ...seedRestSchemas, ...causalSchemas } },
};
