// Function tracking: `traced(fn, opts)` and the standard (TC39) decorator
// `@traced(opts)`. One span per call, active inside the call (across `await`
// too), optional arguments/result as redacted, size-limited JSON, exceptions
// recorded and re-thrown. The hot path is what a careful hand-written span
// does — startSpan, context.with, end — plus one `instanceof Promise`.

import {
  context,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type ProxyTracerProvider,
  type Span,
  type SpanOptions,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { ServiceRouter } from './router.js';
import { argsToJson, captureConfig, parameterNames, toJson } from './serialize.js';
import { SDK_NAME, SDK_VERSION } from './version.js';

export interface TracedOptions {
  /** Span name. Default: the function name, `Class.method` for methods. */
  name?: string;
  /** Record the arguments as `ariadne.args` (JSON array). Default false. */
  captureArgs?: boolean;
  /** Record the return (or resolved) value as `ariadne.result` (JSON). Default false. */
  captureResult?: boolean;
  /** Parameter names, for redaction of whole arguments; read from the function's source when omitted. */
  argNames?: readonly (string | undefined)[];
  /** Longest `ariadne.args` / `ariadne.result` text; default from `configureCapture` (1024). */
  maxLength?: number;
  /** Extra span attributes. */
  attributes?: Attributes;
  /** Span kind. Default INTERNAL. */
  kind?: SpanKind;
  /** Tracer to use. Default: the global one (whatever init() installed, resolved per call so late init works). */
  tracer?: Tracer;
}

interface Plan {
  readonly captureArgs: boolean;
  readonly captureResult: boolean;
  readonly argNames: readonly (string | undefined)[] | undefined;
  readonly maxLength: number | undefined;
  readonly tracer: Tracer | undefined;
}

let cachedProvider: TracerProvider | undefined;
let cachedTracer: Tracer | undefined;

/**
 * The global tracer, re-resolved only when the global provider changes. With
 * one service behind init()'s router, its own provider's tracer directly.
 */
function globalTracer(): Tracer {
  const proxy = trace.getTracerProvider() as ProxyTracerProvider;
  let provider = typeof proxy.getDelegate === 'function' ? proxy.getDelegate() : proxy;
  if (provider instanceof ServiceRouter) provider = provider.single ?? provider;
  if (provider !== cachedProvider || cachedTracer === undefined) {
    cachedProvider = provider;
    cachedTracer = provider.getTracer(SDK_NAME, SDK_VERSION);
  }
  return cachedTracer;
}

function planOf(fn: Function, o: TracedOptions): Plan {
  const captureArgs = o.captureArgs ?? false;
  return {
    captureArgs,
    captureResult: o.captureResult ?? false,
    argNames: captureArgs ? (o.argNames ?? parameterNames(fn)) : undefined,
    maxLength: o.maxLength,
    tracer: o.tracer,
  };
}

function spanOptions(o: TracedOptions, fnName: string): SpanOptions {
  // (The class is in the span name; a second attribute would cost every call.)
  const attributes: Attributes = { 'code.function': fnName };
  if (o.attributes) Object.assign(attributes, o.attributes);
  return { kind: o.kind ?? SpanKind.INTERNAL, attributes };
}

function fail(span: Span, err: unknown): void {
  if (err instanceof Error) {
    span.recordException(err);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
  } else {
    const text = typeof err === 'string' ? err : toJson(err, 256).text;
    span.recordException(text);
    span.setStatus({ code: SpanStatusCode.ERROR, message: text });
  }
}

function recordResult(span: Span, p: Plan, value: unknown): void {
  if (!span.isRecording()) return;
  const j = toJson(value, p.maxLength ?? captureConfig().maxLength);
  span.setAttribute('ariadne.result', j.text);
  if (j.truncated) span.setAttribute('ariadne.result_truncated', true);
}

const apply = Reflect.apply as (fn: Function, self: unknown, args: ArrayLike<unknown>) => unknown;

function run(p: Plan, name: string, opts: SpanOptions, fn: Function, self: unknown, args: unknown[]): unknown {
  const tracer = p.tracer ?? globalTracer();
  const parent = context.active();
  const span = tracer.startSpan(name, opts, parent);
  if (p.captureArgs && span.isRecording()) {
    const j = argsToJson(args, p.argNames, p.maxLength ?? captureConfig().maxLength);
    span.setAttribute('ariadne.args', j.text);
    if (j.truncated) span.setAttribute('ariadne.args_truncated', true);
  }
  let result: unknown;
  try {
    result = context.with(trace.setSpan(parent, span), apply, undefined, fn, self, args);
  } catch (err) {
    fail(span, err);
    span.end();
    throw err;
  }
  if (result instanceof Promise) {
    return result.then(
      (value: unknown) => {
        if (p.captureResult) recordResult(span, p, value);
        span.end();
        return value;
      },
      (err: unknown) => {
        fail(span, err);
        span.end();
        throw err;
      },
    );
  }
  // Other thenables (query builders...) may be lazy: calling then() could run
  // them twice, so the span covers only the synchronous call.
  if (p.captureResult) recordResult(span, p, result);
  span.end();
  return result;
}

function wrapFunction<F extends Function>(fn: F, o: TracedOptions): F {
  const p = planOf(fn, o);
  const fnName = fn.name || 'anonymous';
  const name = o.name ?? fnName;
  const opts = spanOptions(o, fnName);
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    return run(p, name, opts, fn, this, args);
  };
  Object.defineProperty(wrapper, 'name', { value: fn.name, configurable: true });
  Object.defineProperty(wrapper, 'length', { value: fn.length, configurable: true });
  return wrapper as unknown as F;
}

type Method<This, Args extends unknown[], R> = (this: This, ...args: Args) => R;

function decorate<This, Args extends unknown[], R>(
  target: Method<This, Args, R>,
  ctx: ClassMethodDecoratorContext<This, Method<This, Args, R>>,
  o: TracedOptions,
): Method<This, Args, R> {
  if (ctx.kind !== 'method') throw new TypeError(`@traced applies to methods, not ${String(ctx.kind)}`);
  const p = planOf(target, o);
  const method = typeof ctx.name === 'symbol' ? (ctx.name.description ?? 'symbol') : ctx.name;
  const isStatic = ctx.static;
  // The name depends on the runtime class (subclasses show their own name);
  // computed once per class.
  let lastOwner: unknown = undefined;
  let last: { name: string; opts: SpanOptions } = { name: o.name ?? method, opts: spanOptions(o, method) };
  const perOwner = new WeakMap<object, { name: string; opts: SpanOptions }>();
  return function (this: This, ...args: Args): R {
    const owner = isStatic ? (this as unknown) : (this as { constructor?: unknown } | null | undefined)?.constructor;
    if (owner !== lastOwner && typeof owner === 'function') {
      let entry = perOwner.get(owner);
      if (entry === undefined) {
        const cls = owner.name || undefined;
        entry = { name: o.name ?? (cls ? `${cls}.${method}` : method), opts: spanOptions(o, method) };
        perOwner.set(owner, entry);
      }
      lastOwner = owner;
      last = entry;
    }
    return run(p, last.name, last.opts, target, this, args) as R;
  };
}

function isDecoratorContext(x: unknown): x is ClassMethodDecoratorContext {
  return typeof x === 'object' && x !== null && typeof (x as { kind?: unknown }).kind === 'string' && 'addInitializer' in x;
}

export type TracedDecorator = <This, Args extends unknown[], R>(
  target: Method<This, Args, R>,
  context: ClassMethodDecoratorContext<This, Method<This, Args, R>>,
) => Method<This, Args, R>;

/**
 * `@traced` / `@traced({ ... })` on a method, or `traced(fn, { ... })` for a
 * function: a span per call, active inside it; exceptions (and rejections)
 * are recorded with `recordException`, set ERROR status and are re-thrown.
 */
export function traced<This, Args extends unknown[], R>(
  target: Method<This, Args, R>,
  context: ClassMethodDecoratorContext<This, Method<This, Args, R>>,
): Method<This, Args, R>;
export function traced<F extends (...args: any[]) => any>(fn: F, options?: TracedOptions): F;
export function traced(options?: TracedOptions): TracedDecorator;
export function traced(a?: unknown, b?: unknown): unknown {
  if (typeof a === 'function') {
    if (isDecoratorContext(b)) return decorate(a as Method<unknown, unknown[], unknown>, b as ClassMethodDecoratorContext<unknown, Method<unknown, unknown[], unknown>>, {});
    return wrapFunction(a, (b as TracedOptions | undefined) ?? {});
  }
  const o = (a as TracedOptions | undefined) ?? {};
  return ((target: Method<unknown, unknown[], unknown>, ctx: ClassMethodDecoratorContext<unknown, Method<unknown, unknown[], unknown>>) => decorate(target, ctx, o)) as TracedDecorator;
}
