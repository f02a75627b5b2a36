// protobufjs view of the OTLP trace protos: the benchmark baseline for the
// hand-written decoder and the oracle its tests compare against. Not used on
// the ingest path.

import protobuf from 'protobufjs';
import { OTLP_TRACE_PROTOS } from './proto-text.js';

interface Types {
  request: protobuf.Type;
  response: protobuf.Type;
}
let types: Types | undefined;

/** Parsed on first use: importing the package index should not cost a proto parse. */
function load(): Types {
  if (types === undefined) {
    const root = new protobuf.Root();
    for (const [, text] of OTLP_TRACE_PROTOS) protobuf.parse(text, root);
    root.resolveAll();
    types = {
      request: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
      response: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
    };
  }
  return types;
}

/**
 * What "decoding with protobufjs" means here: camelCase field names, 64-bit
 * integers as decimal strings (int64 signed, fixed64 unsigned), enums as
 * numbers, bytes as the Buffer/Uint8Array protobufjs read, repeated fields
 * always present, other unset fields absent.
 */
const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: Number, arrays: true };

/** Decodes an ExportTraceServiceRequest with protobufjs. Throws on malformed input. */
export function referenceDecode(buf: Uint8Array): unknown {
  const { request } = load();
  return request.toObject(request.decode(buf), TO_OBJECT);
}

/**
 * Encodes a plain object (protobufjs `fromObject` conventions: camelCase
 * names, int64 as string or number, bytes as Uint8Array or base64) as an
 * ExportTraceServiceRequest. Takes content real SDKs never send, which is
 * what tests want.
 */
export function referenceEncode(obj: object): Uint8Array {
  const { request } = load();
  return request.encode(request.fromObject(obj)).finish();
}

/** Decodes an ExportTraceServiceResponse with protobufjs. Throws on malformed input. */
export function referenceDecodeResponse(buf: Uint8Array): unknown {
  const { response } = load();
  return response.toObject(response.decode(buf), { longs: String });
}
