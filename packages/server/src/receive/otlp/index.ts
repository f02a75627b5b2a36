// OTLP trace wire formats: protobuf and JSON decoders producing model Spans,
// the protobuf encoder (their inverse) and the export responses.

export type { DecodeResult, DecodeOutcome } from './result.js';
export { MAX_REJECTION_REASONS } from './result.js';
export { decodeTraceRequestProto, MAX_ANY_VALUE_DEPTH } from './decode-proto.js';
export { validateTraceRequestProto, type ValidateOutcome } from './validate-proto.js';
export { decodeTraceRequestJson } from './decode-json.js';
export type { ExportResponseJson } from './encode.js';
export { encodeTraceRequestProto, encodeExportResponseProto, exportResponseJson } from './encode.js';
export { referenceDecode, referenceEncode, referenceDecodeResponse } from './reference.js';
export { OTLP_TRACE_PROTOS } from './proto-text.js';
