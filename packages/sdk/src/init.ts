// One-call setup: the official NodeTracerProvider, batch processor and OTLP
// (protobuf over HTTP) exporter pointed at Ariadne, the standard OTEL_* env
// vars, a composite propagator (W3C trace context + baggage + Ariadne clock),
// and optionally the official http / undici (fetch) / ioredis
// instrumentations. This is the SDK's entry point and the only module that
// reads environment variables.
//
// Precedence, as in the OpenTelemetry SDKs: an init() option, else the env
// var, else the default.

import { createRequire } from 'node:module';
import { join } from 'node:path';
import { context, diag, propagation, trace, type Attributes, type TextMapPropagator, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { getBooleanFromEnv, getNumberFromEnv, getStringListFromEnv } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations, type Instrumentation } from '@opentelemetry/instrumentation';
import { HttpInstrumentation, type HttpInstrumentationConfig } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation, type IORedisInstrumentationConfig } from '@opentelemetry/instrumentation-ioredis';
import { UndiciInstrumentation, type UndiciInstrumentationConfig } from '@opentelemetry/instrumentation-undici';
import { defaultResource, detectResources, envDetector, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type BufferConfig,
  type Sampler,
  type SpanExporter,
  type SpanLimits,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { getDefaultIdentity, newInstanceId, registerIdentity, setDefaultIdentity, SERVICE_KEY, unregisterIdentity, type ServiceIdentity } from './identity.js';
import { createPropagator } from './propagation.js';
import { httpResponseHook, undiciResponseHook } from './response-clock.js';
import { ServiceRouter } from './router.js';
import { configureCapture, type CaptureConfig } from './serialize.js';
import { track } from './track.js';
import { SDK_NAME, SDK_VERSION } from './version.js';

export const DEFAULT_ENDPOINT = 'http://localhost:4318';
/** Causal events are span events; the OpenTelemetry default of 128 per span is too few for them. */
export const DEFAULT_EVENT_COUNT_LIMIT = 1024;

export interface InstrumentationOptions {
  /** Incoming and outgoing `node:http`/`node:https` (official HttpInstrumentation). */
  http?: boolean | HttpInstrumentationConfig;
  /** Global `fetch` and undici (official UndiciInstrumentation). */
  fetch?: boolean | UndiciInstrumentationConfig;
  /** ioredis commands (official IORedisInstrumentation). */
  ioredis?: boolean | IORedisInstrumentationConfig;
}

export interface InitOptions {
  /** `service.name`. Else OTEL_SERVICE_NAME, else `service.name` in OTEL_RESOURCE_ATTRIBUTES, else `unknown_service:node`. */
  serviceName?: string;
  serviceVersion?: string;
  /** `service.instance.id`, also the instance part of clock components. Default: random per init(). */
  instanceId?: string;
  /** Ariadne's OTLP/HTTP base URL; `/v1/traces` is appended. Else OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is), OTEL_EXPORTER_OTLP_ENDPOINT, then http://localhost:4318. */
  endpoint?: string;
  /** Extra export request headers (else OTEL_EXPORTER_OTLP_HEADERS). */
  headers?: Record<string, string>;
  /** Else OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, else parent-based always-on. */
  sampler?: Sampler;
  /** Merged over OTEL_RESOURCE_ATTRIBUTES. */
  resourceAttributes?: Attributes;
  instrumentations?: InstrumentationOptions;
  /** Replaces the OTLP exporter (tests: InMemorySpanExporter). */
  exporter?: SpanExporter;
  /** `false`: export each span as it ends (SimpleSpanProcessor), for tests and short scripts. Else batch settings (else OTEL_BSP_*). */
  batch?: boolean | BufferConfig;
  /** More processors after the exporting one. */
  spanProcessors?: SpanProcessor[];
  /** Else OTEL_SPAN_* env vars; event count defaults to 1024. */
  spanLimits?: SpanLimits;
  /** Propagators after the standard ones (the first init() in a process sets the global propagator). */
  propagators?: TextMapPropagator[];
  /** Also write Raceway's `raceway-clock` header (it is always read). */
  raceway?: boolean;
  /** Argument/result/value capture limits and redaction. */
  capture?: Partial<CaptureConfig>;
  /** Record `ariadne.location` on causal events (costs a stack capture). */
  captureLocation?: boolean;
  /**
   * Instrumented HTTP servers add `ariadne-clock` to their responses and
   * instrumented clients merge it, so code after a call happens after the
   * callee's work. Default true (the first init() in a process decides).
   */
  responseClock?: boolean;
}

export interface AriadneSdk {
  /** A tracer of this service (always this service's, even with several services in a process). */
  readonly tracer: Tracer;
  readonly provider: NodeTracerProvider;
  readonly serviceName: string;
  readonly instanceId: string;
  /** Runs `fn` as this service: spans and clock components started inside belong to it (several services in one process). */
  run<T>(fn: () => T): T;
  /** Exports everything ended so far. */
  forceFlush(): Promise<void>;
  /** Flushes and stops this service; the last one also removes the global provider, propagator, context manager and instrumentations. */
  shutdown(): Promise<void>;
}

interface Globals {
  router: ServiceRouter;
  contextManager: AsyncLocalStorageContextManager;
  instrumentations: Map<keyof InstrumentationOptions, Instrumentation>;
  responseClock: boolean;
  ownsTrace: boolean;
  ownsPropagation: boolean;
  ownsContext: boolean;
}

let globals: Globals | undefined;
const services: ServiceIdentity[] = [];

function tracesUrl(endpoint: string): string {
  const base = endpoint.replace(/\/+$/, '');
  return base.endsWith('/v1/traces') ? base : `${base}/v1/traces`;
}

function buildResource(options: InitOptions, instanceId: string): Resource {
  let resource = defaultResource().merge(detectResources({ detectors: [envDetector] }));
  const own: Attributes = {
    'telemetry.distro.name': SDK_NAME,
    'telemetry.distro.version': SDK_VERSION,
    ...options.resourceAttributes,
    'service.instance.id': instanceId,
  };
  if (options.serviceName !== undefined) own[ATTR_SERVICE_NAME] = options.serviceName;
  if (options.serviceVersion !== undefined) own[ATTR_SERVICE_VERSION] = options.serviceVersion;
  resource = resource.merge(resourceFromAttributes(own));
  return resource;
}

function setupGlobals(options: InitOptions): Globals {
  const router = new ServiceRouter();
  const contextManager = new AsyncLocalStorageContextManager().enable();
  const ownsContext = context.setGlobalContextManager(contextManager);
  const { propagator, unknown } = createPropagator({
    names: getStringListFromEnv('OTEL_PROPAGATORS'),
    raceway: options.raceway,
    extra: options.propagators,
  });
  if (unknown.length > 0) diag.warn(`@ariadne/sdk: unsupported OTEL_PROPAGATORS entries ignored: ${unknown.join(', ')}`);
  const ownsPropagation = propagation.setGlobalPropagator(propagator);
  const ownsTrace = trace.setGlobalTracerProvider(router);
  if (!ownsTrace || !ownsPropagation || !ownsContext) {
    diag.warn('@ariadne/sdk: another OpenTelemetry SDK is already registered; init() leaves it in place, so only sdk.tracer records to Ariadne');
  }
  return { router, contextManager, instrumentations: new Map(), responseClock: options.responseClock ?? true, ownsTrace, ownsPropagation, ownsContext };
}

/**
 * Patches modules that were loaded before init(). require-in-the-middle
 * patches on the next require(), so we require them once; builtins and CJS
 * packages imported from ESM share that same exports object. Named ESM
 * imports taken before init (`import { request } from 'node:http'`) stay
 * unpatched — call init() first, or preload it with `node --import`.
 */
function touch(modules: string[]): void {
  const requirers = [createRequire(import.meta.url), createRequire(join(process.cwd(), 'noop.js'))];
  for (const m of modules) {
    for (const req of requirers) {
      try {
        req(m);
      } catch {
        // not installed where this requirer looks
      }
    }
  }
}

/** Our responseHook first, then the caller's. */
function chain<A extends unknown[]>(ours: ((...a: A) => void) | undefined, theirs: ((...a: A) => void) | undefined): ((...a: A) => void) | undefined {
  if (ours === undefined) return theirs;
  if (theirs === undefined) return ours;
  return (...a: A) => {
    ours(...a);
    theirs(...a);
  };
}

function enableInstrumentations(g: Globals, wanted: InstrumentationOptions | undefined, responseClock: boolean): void {
  if (wanted === undefined) return;
  const fresh: Instrumentation[] = [];
  const toTouch: string[] = [];
  const config = <T extends object>(v: boolean | T | undefined): T | undefined => (v === undefined || v === false ? undefined : v === true ? ({} as T) : v);
  const http = config(wanted.http);
  if (http !== undefined && !g.instrumentations.has('http')) {
    const i = new HttpInstrumentation({
      ...http,
      responseHook: chain(responseClock ? httpResponseHook : undefined, http.responseHook),
    });
    g.instrumentations.set('http', i);
    fresh.push(i);
    toTouch.push('node:http', 'node:https');
  }
  const fetch = config(wanted.fetch);
  if (fetch !== undefined && !g.instrumentations.has('fetch')) {
    const i = new UndiciInstrumentation({
      ...fetch,
      responseHook: chain(responseClock ? undiciResponseHook : undefined, fetch.responseHook),
    });
    g.instrumentations.set('fetch', i);
    fresh.push(i);
  }
  const ioredis = config(wanted.ioredis);
  if (ioredis !== undefined && !g.instrumentations.has('ioredis')) {
    const i = new IORedisInstrumentation(ioredis);
    g.instrumentations.set('ioredis', i);
    fresh.push(i);
    toTouch.push('ioredis');
  }
  if (fresh.length === 0) return;
  registerInstrumentations({ instrumentations: fresh, tracerProvider: g.router });
  touch(toTouch);
}

/**
 * Sets up tracing for a service and returns its tracer and shutdown().
 *
 *     const sdk = init({ serviceName: 'checkout', instrumentations: { http: true } });
 *     process.on('SIGTERM', () => sdk.shutdown());
 *
 * Calling it again in the same process adds another service (see README,
 * "Several services in one process").
 */
export function init(options: InitOptions = {}): AriadneSdk {
  if (getBooleanFromEnv('OTEL_SDK_DISABLED')) return disabled(options);
  if (options.capture) configureCapture(options.capture);
  if (options.captureLocation !== undefined) track.configure({ captureLocation: options.captureLocation });

  const envInstance = detectResources({ detectors: [envDetector] }).attributes['service.instance.id'];
  const instanceId = options.instanceId ?? (typeof envInstance === 'string' ? envInstance : newInstanceId());
  const resource = buildResource(options, instanceId);
  const serviceName = String(resource.attributes[ATTR_SERVICE_NAME] ?? 'unknown_service:node');

  const exporter =
    options.exporter ??
    new OTLPTraceExporter({
      ...(options.endpoint !== undefined ? { url: tracesUrl(options.endpoint) } : {}),
      ...(options.headers !== undefined ? { headers: options.headers } : {}),
    });
  const processor = options.batch === false ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter, typeof options.batch === 'object' ? options.batch : undefined);
  const provider = new NodeTracerProvider({
    resource,
    ...(options.sampler !== undefined ? { sampler: options.sampler } : {}),
    spanLimits: { eventCountLimit: getNumberFromEnv('OTEL_SPAN_EVENT_COUNT_LIMIT') ?? DEFAULT_EVENT_COUNT_LIMIT, ...options.spanLimits },
    spanProcessors: [processor, ...(options.spanProcessors ?? [])],
  });

  const identity: ServiceIdentity = { service: serviceName, instance: instanceId };
  registerIdentity(identity, resource);
  const g = (globals ??= setupGlobals(options));
  g.router.add(identity, provider);
  services.push(identity);
  if (services.length === 1) setDefaultIdentity(identity);
  enableInstrumentations(g, options.instrumentations, g.responseClock);

  let stopped: Promise<void> | undefined;
  return {
    tracer: provider.getTracer(SDK_NAME, SDK_VERSION),
    provider,
    serviceName,
    instanceId,
    run<T>(fn: () => T): T {
      return context.with(context.active().setValue(SERVICE_KEY, identity), fn);
    },
    forceFlush: () => provider.forceFlush(),
    shutdown(): Promise<void> {
      stopped ??= (async () => {
        try {
          await provider.shutdown();
        } finally {
          teardown(g, identity);
        }
      })();
      return stopped;
    },
  };
}

/** OTEL_SDK_DISABLED=true: same surface, nothing recorded, installed or sent. */
function disabled(options: InitOptions): AriadneSdk {
  const provider = new NodeTracerProvider({ sampler: new AlwaysOffSampler() });
  return {
    tracer: provider.getTracer(SDK_NAME, SDK_VERSION),
    provider,
    serviceName: options.serviceName ?? 'unknown_service:node',
    instanceId: options.instanceId ?? '',
    run: (fn) => fn(),
    forceFlush: () => Promise.resolve(),
    shutdown: () => provider.shutdown(),
  };
}

function teardown(g: Globals, identity: ServiceIdentity): void {
  g.router.remove(identity);
  unregisterIdentity(identity);
  const i = services.indexOf(identity);
  if (i >= 0) services.splice(i, 1);
  if (getDefaultIdentity() === identity) setDefaultIdentity(services[0]);
  if (services.length > 0 || globals !== g) return;
  for (const inst of g.instrumentations.values()) inst.disable();
  if (g.ownsTrace) trace.disable();
  if (g.ownsPropagation) propagation.disable();
  if (g.ownsContext) context.disable();
  globals = undefined;
}
