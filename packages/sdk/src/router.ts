// The global TracerProvider init() installs. With one service (the usual case)
// it hands every span to that service's NodeTracerProvider. When a process
// hosts several services (each init() call adds one), a span goes to the
// provider of the service it belongs to (identity.ts): an `sdk.run()` scope,
// else the parent span's service, else the scope active when the server
// started listening — so one set of auto-instrumentations serves all of them.

import { context, INVALID_SPAN_CONTEXT, trace, type Context, type Span, type SpanOptions, type Tracer, type TracerOptions, type TracerProvider } from '@opentelemetry/api';
import { getDefaultIdentity, identityOf, type ServiceIdentity } from './identity.js';

export class ServiceRouter implements TracerProvider {
  private readonly providers = new Map<ServiceIdentity, TracerProvider>();
  /** The only service's provider, while there is exactly one. */
  single: TracerProvider | undefined;
  private readonly tracers = new Map<string, RoutedTracer>();

  add(identity: ServiceIdentity, provider: TracerProvider): void {
    this.providers.set(identity, provider);
    this.single = this.providers.size === 1 ? provider : undefined;
  }

  remove(identity: ServiceIdentity): void {
    this.providers.delete(identity);
    this.single = this.providers.size === 1 ? this.providers.values().next().value : undefined;
  }

  get size(): number {
    return this.providers.size;
  }

  pick(ctx: Context): TracerProvider | undefined {
    if (this.single !== undefined) return this.single;
    return this.providers.get(identityOf(ctx)) ?? this.providers.get(getDefaultIdentity()) ?? this.providers.values().next().value;
  }

  getTracer(name: string, version?: string, options?: TracerOptions): Tracer {
    const key = `${name}@${version ?? ''}:${options?.schemaUrl ?? ''}`;
    let t = this.tracers.get(key);
    if (t === undefined) {
      t = new RoutedTracer(this, name, version, options);
      this.tracers.set(key, t);
    }
    return t;
  }
}

class RoutedTracer implements Tracer {
  private lastProvider: TracerProvider | undefined;
  private lastTracer: Tracer | undefined;

  constructor(
    private readonly router: ServiceRouter,
    private readonly name: string,
    private readonly version: string | undefined,
    private readonly options: TracerOptions | undefined,
  ) {}

  private tracerFor(ctx: Context): Tracer {
    const provider = this.router.pick(ctx);
    if (provider === undefined) return NOOP_TRACER;
    if (provider !== this.lastProvider || this.lastTracer === undefined) {
      this.lastProvider = provider;
      this.lastTracer = provider.getTracer(this.name, this.version, this.options);
    }
    return this.lastTracer;
  }

  startSpan(name: string, options?: SpanOptions, ctx: Context = context.active()): Span {
    return this.tracerFor(ctx).startSpan(name, options, ctx);
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, ctx: Context, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, a: F | SpanOptions, b?: F | Context, c?: F): ReturnType<F> {
    let options: SpanOptions | undefined;
    let ctx: Context;
    let fn: F;
    if (typeof a === 'function') {
      fn = a;
      ctx = context.active();
    } else if (typeof b === 'function') {
      options = a;
      fn = b;
      ctx = context.active();
    } else {
      options = a;
      ctx = b ?? context.active();
      fn = c as F;
    }
    const span = this.startSpan(name, options, ctx);
    return context.with(trace.setSpan(ctx, span), fn as (span: Span) => ReturnType<F>, undefined, span);
  }
}

/** Used only between the last service's shutdown and the globals being cleared. */
const NOOP_TRACER: Tracer = {
  startSpan: () => trace.wrapSpanContext(INVALID_SPAN_CONTEXT),
  startActiveSpan: ((name: string, ...rest: unknown[]) => {
    const fn = rest[rest.length - 1] as (span: Span) => unknown;
    return fn(trace.wrapSpanContext(INVALID_SPAN_CONTEXT));
  }) as Tracer['startActiveSpan'],
};
