// The OTLP trace messages as the hand-written decoder and validator see them:
// wire types, and per message its field numbers, names and wire types. Used to
// name things in error messages and to tell a known field sent with the wrong
// wire type (corrupt data) from an unknown one (skipped). One table, so the
// decoder and the validator cannot drift apart.

// Wire types.
export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const I32 = 5;
export const WIRE_TYPE_NAMES = ['VARINT', 'I64', 'LEN', 'SGROUP', 'EGROUP', 'I32'];

export interface MessageInfo {
  name: string;
  /** field number -> [field name, wire type] */
  fields: Record<number, readonly [string, number]>;
}

// Only used to name things in error messages and to tell known fields sent
// with the wrong wire type (corrupt data) from unknown ones (skipped).
export const M_REQUEST: MessageInfo = { name: 'ExportTraceServiceRequest', fields: { 1: ['resource_spans', LEN] } };
export const M_RESOURCE_SPANS: MessageInfo = {
  name: 'ResourceSpans',
  fields: { 1: ['resource', LEN], 2: ['scope_spans', LEN], 3: ['schema_url', LEN] },
};
export const M_RESOURCE: MessageInfo = {
  name: 'Resource',
  fields: { 1: ['attributes', LEN], 2: ['dropped_attributes_count', VARINT], 3: ['entity_refs', LEN] },
};
export const M_SCOPE_SPANS: MessageInfo = {
  name: 'ScopeSpans',
  fields: { 1: ['scope', LEN], 2: ['spans', LEN], 3: ['schema_url', LEN] },
};
export const M_SCOPE: MessageInfo = {
  name: 'InstrumentationScope',
  fields: { 1: ['name', LEN], 2: ['version', LEN], 3: ['attributes', LEN], 4: ['dropped_attributes_count', VARINT] },
};
export const M_SPAN: MessageInfo = {
  name: 'Span',
  fields: {
    1: ['trace_id', LEN],
    2: ['span_id', LEN],
    3: ['trace_state', LEN],
    4: ['parent_span_id', LEN],
    5: ['name', LEN],
    6: ['kind', VARINT],
    7: ['start_time_unix_nano', I64],
    8: ['end_time_unix_nano', I64],
    9: ['attributes', LEN],
    10: ['dropped_attributes_count', VARINT],
    11: ['events', LEN],
    12: ['dropped_events_count', VARINT],
    13: ['links', LEN],
    14: ['dropped_links_count', VARINT],
    15: ['status', LEN],
    16: ['flags', I32],
  },
};
export const M_EVENT: MessageInfo = {
  name: 'Span.Event',
  fields: { 1: ['time_unix_nano', I64], 2: ['name', LEN], 3: ['attributes', LEN], 4: ['dropped_attributes_count', VARINT] },
};
export const M_LINK: MessageInfo = {
  name: 'Span.Link',
  fields: {
    1: ['trace_id', LEN],
    2: ['span_id', LEN],
    3: ['trace_state', LEN],
    4: ['attributes', LEN],
    5: ['dropped_attributes_count', VARINT],
    6: ['flags', I32],
  },
};
export const M_STATUS: MessageInfo = { name: 'Status', fields: { 2: ['message', LEN], 3: ['code', VARINT] } };
export const M_KEY_VALUE: MessageInfo = { name: 'KeyValue', fields: { 1: ['key', LEN], 2: ['value', LEN] } };
export const M_ANY_VALUE: MessageInfo = {
  name: 'AnyValue',
  fields: {
    1: ['string_value', LEN],
    2: ['bool_value', VARINT],
    3: ['int_value', VARINT],
    4: ['double_value', I64],
    5: ['array_value', LEN],
    6: ['kvlist_value', LEN],
    7: ['bytes_value', LEN],
  },
};
export const M_ARRAY_VALUE: MessageInfo = { name: 'ArrayValue', fields: { 1: ['values', LEN] } };
export const M_KVLIST_VALUE: MessageInfo = { name: 'KeyValueList', fields: { 1: ['values', LEN] } };
