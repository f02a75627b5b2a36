// Which service a piece of work belongs to. Usually one per process, but a
// process may host several (demos, tests, modular monoliths): the identity is
// then read from the context — an explicit `sdk.run()` scope, else the active
// span's resource — and picks the tracer provider and the vector-clock
// component.

import { randomBytes } from 'node:crypto';
import { context, createContextKey, trace, type Context, type Span } from '@opentelemetry/api';

export interface ServiceIdentity {
  readonly service: string;
  readonly instance: string;
}

/** Context key set by `sdk.run(fn)`: work inside belongs to that service. */
export const SERVICE_KEY = createContextKey('ariadne.service');

export function newInstanceId(): string {
  return randomBytes(6).toString('hex');
}

const fallback: ServiceIdentity = {
  service: 'unknown_service:node',
  instance: newInstanceId(),
};
let defaultIdentity: ServiceIdentity = fallback;

const byResource = new WeakMap<object, ServiceIdentity>();
/** Identities of the services init() set up, by `service#instance`, so every lookup yields the same object. */
const registered = new Map<string, ServiceIdentity>();

export function setDefaultIdentity(id: ServiceIdentity | undefined): void {
  defaultIdentity = id ?? fallback;
}

export function getDefaultIdentity(): ServiceIdentity {
  return defaultIdentity;
}

/** Spans whose resource names `id` belong to it (init() registers each service). */
export function registerIdentity(id: ServiceIdentity, resource?: object): void {
  registered.set(`${id.service}#${id.instance}`, id);
  if (resource !== undefined) byResource.set(resource, id);
}

export function unregisterIdentity(id: ServiceIdentity): void {
  registered.delete(`${id.service}#${id.instance}`);
}

function ofSpan(span: Span | undefined): ServiceIdentity | undefined {
  // SDK spans carry their provider's resource; remote and non-recording ones don't.
  const resource = (span as { resource?: { attributes?: Record<string, unknown> } } | undefined)?.resource;
  if (resource === undefined) return undefined;
  let id = byResource.get(resource);
  if (id === undefined) {
    const a = resource.attributes ?? {};
    const service = typeof a['service.name'] === 'string' ? a['service.name'] : defaultIdentity.service;
    const instance = typeof a['service.instance.id'] === 'string' ? a['service.instance.id'] : defaultIdentity.instance;
    id = registered.get(`${service}#${instance}`) ?? { service, instance };
    byResource.set(resource, id);
  }
  return id;
}

/** Explicit scope in `ctx`, else `ctx`'s span, else the same two in the active context, else the default. */
export function identityOf(ctx: Context): ServiceIdentity {
  const explicit = ctx.getValue(SERVICE_KEY) as ServiceIdentity | undefined;
  if (explicit !== undefined) return explicit;
  const fromSpan = ofSpan(trace.getSpan(ctx));
  if (fromSpan !== undefined) return fromSpan;
  const active = context.active();
  if (active !== ctx) {
    const scoped = active.getValue(SERVICE_KEY) as ServiceIdentity | undefined;
    if (scoped !== undefined) return scoped;
    const activeSpan = ofSpan(trace.getSpan(active));
    if (activeSpan !== undefined) return activeSpan;
  }
  return defaultIdentity;
}
