// The OTLP .proto files of ./proto/, embedded so the runtime needs no file that
// tsc does not emit. proto-text.test.ts fails when the two drift apart.

/** proto/opentelemetry/proto/common/v1/common.proto */
export const COMMON_PROTO = `// OTLP common types (opentelemetry-proto v1), as Ariadne decodes them.
// Field numbers and types are those of the public opentelemetry-proto
// repository; comments are ours.

syntax = "proto3";

package opentelemetry.proto.common.v1;

// An attribute value: exactly one of the fields, or none ("empty").
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}

// A list of values; a message because a oneof cannot hold a repeated field.
message ArrayValue {
  repeated AnyValue values = 1;
}

// A list of key/value pairs (keys unique); used inside AnyValue only.
message KeyValueList {
  repeated KeyValue values = 1;
}

message KeyValue {
  string key = 1;
  AnyValue value = 2;
}

// The library that produced the telemetry.
message InstrumentationScope {
  string name = 1;
  string version = 2;
  repeated KeyValue attributes = 3;
  uint32 dropped_attributes_count = 4;
}

// Development status: a reference to an entity described by keys of the
// enclosing resource's attributes. Ariadne skips it when decoding.
message EntityRef {
  string schema_url = 1;
  string type = 2;
  repeated string id_keys = 3;
  repeated string description_keys = 4;
}
`;

/** proto/opentelemetry/proto/resource/v1/resource.proto */
export const RESOURCE_PROTO = `// OTLP resource (opentelemetry-proto v1). Field numbers as published.

syntax = "proto3";

package opentelemetry.proto.resource.v1;

import "opentelemetry/proto/common/v1/common.proto";

// The entity that produced the telemetry (service, host, process...).
message Resource {
  repeated opentelemetry.proto.common.v1.KeyValue attributes = 1;
  uint32 dropped_attributes_count = 2;
  // Development status; skipped by Ariadne's decoder.
  repeated opentelemetry.proto.common.v1.EntityRef entity_refs = 3;
}
`;

/** proto/opentelemetry/proto/trace/v1/trace.proto */
export const TRACE_PROTO = `// OTLP trace data (opentelemetry-proto v1). Field numbers as published.

syntax = "proto3";

package opentelemetry.proto.trace.v1;

import "opentelemetry/proto/common/v1/common.proto";
import "opentelemetry/proto/resource/v1/resource.proto";

// Traces as stored or embedded outside the OTLP protocol.
message TracesData {
  repeated ResourceSpans resource_spans = 1;
}

// The spans of one resource.
message ResourceSpans {
  reserved 1000;
  opentelemetry.proto.resource.v1.Resource resource = 1;
  repeated ScopeSpans scope_spans = 2;
  // Schema of the data in 'resource' (not of the scope_spans).
  string schema_url = 3;
}

// The spans of one instrumentation scope.
message ScopeSpans {
  opentelemetry.proto.common.v1.InstrumentationScope scope = 1;
  repeated Span spans = 2;
  // Schema of the scope and of all spans and events in 'spans'.
  string schema_url = 3;
}

message Span {
  // 16 bytes, not all zero.
  bytes trace_id = 1;
  // 8 bytes, not all zero.
  bytes span_id = 2;
  // W3C tracestate header value.
  string trace_state = 3;
  // Empty for a root span, else 8 bytes.
  bytes parent_span_id = 4;
  // Bits 0-7: W3C trace flags; bit 8: has-is-remote; bit 9: is-remote.
  fixed32 flags = 16;
  string name = 5;

  enum SpanKind {
    SPAN_KIND_UNSPECIFIED = 0;
    SPAN_KIND_INTERNAL = 1;
    SPAN_KIND_SERVER = 2;
    SPAN_KIND_CLIENT = 3;
    SPAN_KIND_PRODUCER = 4;
    SPAN_KIND_CONSUMER = 5;
  }
  SpanKind kind = 6;

  // Nanoseconds since the Unix epoch.
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;

  repeated opentelemetry.proto.common.v1.KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10;

  message Event {
    fixed64 time_unix_nano = 1;
    string name = 2;
    repeated opentelemetry.proto.common.v1.KeyValue attributes = 3;
    uint32 dropped_attributes_count = 4;
  }
  repeated Event events = 11;
  uint32 dropped_events_count = 12;

  message Link {
    bytes trace_id = 1;
    bytes span_id = 2;
    string trace_state = 3;
    repeated opentelemetry.proto.common.v1.KeyValue attributes = 4;
    uint32 dropped_attributes_count = 5;
    // Same layout as Span.flags.
    fixed32 flags = 6;
  }
  repeated Link links = 13;
  uint32 dropped_links_count = 14;

  // Absent means code UNSET.
  Status status = 15;
}

message Status {
  reserved 1;
  string message = 2;

  enum StatusCode {
    STATUS_CODE_UNSET = 0;
    STATUS_CODE_OK = 1;
    STATUS_CODE_ERROR = 2;
  }
  StatusCode code = 3;
}

// Masks for Span.flags and Link.flags.
enum SpanFlags {
  SPAN_FLAGS_DO_NOT_USE = 0;
  SPAN_FLAGS_TRACE_FLAGS_MASK = 0x000000FF;
  SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK = 0x00000100;
  SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK = 0x00000200;
}
`;

/** proto/opentelemetry/proto/collector/trace/v1/trace_service.proto */
export const TRACE_SERVICE_PROTO = `// OTLP trace export service (opentelemetry-proto v1). Field numbers as
// published. Served on OTLP/gRPC and, as plain messages, on OTLP/HTTP.

syntax = "proto3";

package opentelemetry.proto.collector.trace.v1;

import "opentelemetry/proto/trace/v1/trace.proto";

service TraceService {
  rpc Export(ExportTraceServiceRequest) returns (ExportTraceServiceResponse) {}
}

message ExportTraceServiceRequest {
  repeated opentelemetry.proto.trace.v1.ResourceSpans resource_spans = 1;
}

message ExportTraceServiceResponse {
  // Set when some spans were rejected (rejected_spans > 0), or to carry a
  // warning (rejected_spans = 0, error_message non-empty).
  ExportTracePartialSuccess partial_success = 1;
}

message ExportTracePartialSuccess {
  int64 rejected_spans = 1;
  string error_message = 2;
}
`;

/** [path, text] in dependency order, ready for protobuf.parse. */
export const OTLP_TRACE_PROTOS: ReadonlyArray<readonly [string, string]> = [
  ['opentelemetry/proto/common/v1/common.proto', COMMON_PROTO],
  ['opentelemetry/proto/resource/v1/resource.proto', RESOURCE_PROTO],
  ['opentelemetry/proto/trace/v1/trace.proto', TRACE_PROTO],
  ['opentelemetry/proto/collector/trace/v1/trace_service.proto', TRACE_SERVICE_PROTO],
];
