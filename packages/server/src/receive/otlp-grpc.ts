// OTLP/gRPC trace receiver: opentelemetry.proto.collector.trace.v1.TraceService/Export.
// Messages are passed as raw bytes to our own decoder; grpc-js handles gzip
// and enforces the size limit on the decompressed message.

import * as grpc from '@grpc/grpc-js';
import type { Ingester } from '../pipeline/ingest.js';
import { WalFormat } from '../pipeline/ingest.js';
import type { Metrics } from '../metrics.js';
import { encodeExportResponseProto, validateTraceRequestProto } from './otlp/index.js';

const RECEIVER = 'otlp_grpc';

const identity = (b: Buffer) => b;

export const traceServiceDefinition: grpc.ServiceDefinition = {
  Export: {
    path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

export interface OtlpGrpcDeps {
  ingester: Ingester;
  metrics: Metrics;
  maxBodyBytes: number;
  /** when non-empty, calls need `authorization: Bearer <key>` or `x-api-key` metadata */
  apiKeys?: readonly string[];
}

export async function startOtlpGrpc(deps: OtlpGrpcDeps, host: string, port: number): Promise<{ port: number; close(): Promise<void> }> {
  const { ingester, metrics } = deps;
  const keys = new Set(deps.apiKeys ?? []);
  const authorized = (md: grpc.Metadata): boolean => {
    if (!keys.size) return true;
    const auth = String(md.get('authorization')[0] ?? '');
    const key = String(md.get('x-api-key')[0] ?? '') || (auth.startsWith('Bearer ') ? auth.slice(7) : '');
    return keys.has(key);
  };
  const server = new grpc.Server({
    'grpc.max_receive_message_length': deps.maxBodyBytes,
    'grpc.max_send_message_length': 4 * 1024 * 1024,
  });
  server.addService(traceServiceDefinition, {
    Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Uint8Array>) => {
      const body = call.request;
      if (!authorized(call.metadata)) {
        metrics.requestsRefused.inc({ receiver: RECEIVER, reason: 'unauthorized' });
        callback({ code: grpc.status.UNAUTHENTICATED, details: 'missing or invalid API key (send authorization: Bearer <key> or x-api-key metadata)' });
        return;
      }
      const refusal = ingester.reserve(body.length);
      if (refusal) {
        metrics.requestsRefused.inc({ receiver: RECEIVER, reason: refusal.reason });
        callback({ code: grpc.status.UNAVAILABLE, details: refusal.message });
        return;
      }
      const release = () => ingester.release(body.length);
      const checked = validateTraceRequestProto(body);
      if (!checked.ok) {
        release();
        metrics.requestsRefused.inc({ receiver: RECEIVER, reason: 'decode_error' });
        callback({ code: grpc.status.INVALID_ARGUMENT, details: `cannot decode OTLP protobuf message: ${checked.error}` });
        return;
      }
      const { spans, rejectedSpans, errorMessage } = checked;
      metrics.spansReceived.inc({ receiver: RECEIVER }, spans + rejectedSpans);
      if (rejectedSpans) metrics.spansRejected.inc({ receiver: RECEIVER, reason: 'invalid_span' }, rejectedSpans);
      ingester.ingestEncoded(RECEIVER, WalFormat.OTLP_PROTO, body, spans).then((out) => {
        release();
        if (!out.ok) callback({ code: grpc.status.UNAVAILABLE, details: out.message });
        else callback(null, encodeExportResponseProto(rejectedSpans, errorMessage));
      });
    },
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000).unref();
      }),
  };
}
