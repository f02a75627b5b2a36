// A deterministic synthetic dataset in the shape of Jaeger's ClickHouse
// benchmark: traces of 10 spans across several services, 11 attributes per
// span with realistic cardinality, ~2% errors and a long-tailed latency.
// The same seed always yields the same spans.

import {
  bytesToHex,
  emptyScope,
  serviceOf,
  SpanKind,
  StatusCode,
  type KeyValue,
  type Resource,
  type Span,
} from '@ariadne/model';

/** mulberry32: small, fast, good enough for synthetic data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SERVICES = ['frontend', 'api-gateway', 'auth', 'cart', 'inventory', 'payment', 'shipping', 'recommendation', 'email', 'postgres'];
const ROUTES = ['/api/cart', '/api/checkout', '/api/products/:id', '/api/login', '/api/orders', '/api/recommendations', '/api/shipping/quote', '/health'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const REGIONS = ['eu-west-1', 'us-east-1', 'us-west-2', 'ap-south-1'];
const TIERS = ['free', 'pro', 'enterprise'];
const OPS: Record<string, string[]> = {
  frontend: ['GET /', 'GET /cart', 'POST /checkout'],
  'api-gateway': ['route', 'authorize', 'proxy'],
  auth: ['verify_token', 'load_session'],
  cart: ['get_cart', 'add_item', 'update_cart'],
  inventory: ['check_stock', 'reserve'],
  payment: ['charge', 'refund', 'fraud_check'],
  shipping: ['quote', 'create_label'],
  recommendation: ['list_recommendations'],
  email: ['send_confirmation'],
  postgres: ['SELECT', 'INSERT', 'UPDATE'],
};

const resources = new Map<string, Resource>();
function resourceFor(service: string, instance: number): Resource {
  const key = `${service}#${instance}`;
  let r = resources.get(key);
  if (!r) {
    r = {
      attributes: [
        { key: 'service.name', value: { stringValue: service } },
        { key: 'service.instance.id', value: { stringValue: `${service}-${instance}` } },
        { key: 'host.name', value: { stringValue: `node-${instance}` } },
        { key: 'deployment.environment', value: { stringValue: 'production' } },
      ],
      droppedAttributesCount: 0,
      schemaUrl: '',
    };
    resources.set(key, r);
  }
  return r;
}
const scope = { ...emptyScope(), name: 'ariadne-bench', version: '1.0.0' };

const SPANS_PER_TRACE = 10;

function randomHex(rand: () => number, bytes: number): string {
  const b = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (rand() * 256) | 0;
  if (b.every((x) => x === 0)) b[0] = 1;
  return bytesToHex(b);
}

/**
 * Generates `traceCount` traces of 10 spans each, starting at `startUnixNano`
 * and spread over `spreadNanos`.
 */
export function generateTraces(seed: number, traceCount: number, startUnixNano: bigint, spreadNanos = 3_600_000_000_000n): Span[] {
  const rand = prng(seed);
  const out: Span[] = [];
  for (let t = 0; t < traceCount; t++) {
    const traceId = randomHex(rand, 16);
    const traceStart = startUnixNano + BigInt(Math.floor(rand() * Number(spreadNanos)));
    const userId = `user-${Math.floor(rand() * 100_000)}`;
    const region = REGIONS[Math.floor(rand() * REGIONS.length)]!;
    const tier = TIERS[Math.floor(rand() * TIERS.length)]!;
    const route = ROUTES[Math.floor(rand() * ROUTES.length)]!;
    const method = METHODS[Math.floor(rand() * METHODS.length)]!;
    const isError = rand() < 0.02;
    // Long tail: log-normal-ish root latency, 5 ms median.
    const rootDur = Math.max(200_000, Math.round(5e6 * Math.exp(rand() * rand() * 4)));
    const spans: Span[] = [];
    for (let i = 0; i < SPANS_PER_TRACE; i++) {
      const service = i === 0 ? 'frontend' : SERVICES[1 + Math.floor(rand() * (SERVICES.length - 1))]!;
      const parent = i === 0 ? undefined : spans[Math.floor(rand() * i)]!;
      const pStart = parent ? parent.startTimeUnixNano : traceStart;
      const pDur = parent ? Number(parent.endTimeUnixNano - parent.startTimeUnixNano) : rootDur;
      const offset = parent ? Math.floor(rand() * pDur * 0.3) : 0;
      const dur = parent ? Math.max(1000, Math.floor((pDur - offset) * (0.2 + rand() * 0.7))) : rootDur;
      const start = pStart + BigInt(offset);
      const ops = OPS[service]!;
      const err = isError && i === SPANS_PER_TRACE - 1;
      const attributes: KeyValue[] = [
        { key: 'http.method', value: { stringValue: method } },
        { key: 'http.route', value: { stringValue: route } },
        { key: 'http.status_code', value: { intValue: err ? '500' : '200' } },
        { key: 'net.peer.name', value: { stringValue: `${service}.svc.cluster.local` } },
        { key: 'user.id', value: { stringValue: userId } },
        { key: 'customer.tier', value: { stringValue: tier } },
        { key: 'cloud.region', value: { stringValue: region } },
        { key: 'feature.new_checkout', value: { boolValue: rand() < 0.5 } },
        { key: 'retry.count', value: { intValue: String(Math.floor(rand() * 3)) } },
        { key: 'response.size', value: { doubleValue: Math.round(rand() * 1e6) / 100 } },
        { key: 'request.id', value: { stringValue: randomHex(rand, 8) } },
      ];
      const resource = resourceFor(service, Math.floor(rand() * 3));
      spans.push({
        traceId,
        spanId: randomHex(rand, 8),
        parentSpanId: parent?.spanId ?? '',
        traceState: '',
        flags: 1,
        name: ops[Math.floor(rand() * ops.length)]!,
        kind: i === 0 ? SpanKind.SERVER : rand() < 0.5 ? SpanKind.CLIENT : SpanKind.SERVER,
        startTimeUnixNano: start,
        endTimeUnixNano: start + BigInt(dur),
        attributes,
        droppedAttributesCount: 0,
        events: err ? [{ timeUnixNano: start + BigInt(dur >> 1), name: 'exception', attributes: [{ key: 'exception.type', value: { stringValue: 'TimeoutError' } }], droppedAttributesCount: 0 }] : [],
        droppedEventsCount: 0,
        links: [],
        droppedLinksCount: 0,
        status: err ? { code: StatusCode.ERROR, message: 'upstream timeout' } : { code: StatusCode.UNSET, message: '' },
        resource,
        scope,
        service: serviceOf(resource),
      });
    }
    out.push(...spans);
  }
  return out;
}
