// init(): the exporter really sends OTLP/protobuf where the options and OTEL_*
// env vars say, and shutdown() flushes. A tiny local HTTP server stands in for
// the collector.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { AlwaysOnSampler, InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { init, type InitOptions } from './init.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

let collector: Server;
let collectorUrl = '';
const received: Received[] = [];

before(async () => {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => collector.close(() => r())));

const ENV_KEYS = ['OTEL_SDK_DISABLED', 'OTEL_SERVICE_NAME', 'OTEL_RESOURCE_ATTRIBUTES', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG', 'OTEL_PROPAGATORS'];

/** Runs `fn` with exactly these OTEL_* variables set, then restores the environment. */
async function withEnv(vars: Record<string, string>, fn: () => Promise<void>): Promise<void> {
  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  for (const k of ENV_KEYS) delete process.env[k];
  Object.assign(process.env, vars);
  try {
    await fn();
  } finally {
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

/** init() with an in-memory exporter; returns the finished spans after shutdown. */
async function spansOf(options: InitOptions, body: (sdk: ReturnType<typeof init>) => void): Promise<ReadableSpan[]> {
  const exporter = new InMemorySpanExporter();
  const sdk = init({ ...options, exporter });
  try {
    body(sdk);
  } finally {
    await sdk.forceFlush();
  }
  const spans = exporter.getFinishedSpans();
  await sdk.shutdown();
  return spans;
}

describe('export', () => {
  test('OTLP/protobuf to OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces; shutdown flushes', async () => {
    received.length = 0;
    await withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl }, async () => {
      const sdk = init({ serviceName: 'export-env' });
      sdk.tracer.startSpan('span-from-env-endpoint').end();
      assert.equal(received.length, 0, 'batched, not sent yet');
      await sdk.shutdown();
    });
    assert.equal(received.length, 1);
    const r = received[0];
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/v1/traces');
    assert.equal(r.headers['content-type'], 'application/x-protobuf');
    assert.ok(r.body.includes('span-from-env-endpoint'), 'span name in the protobuf body');
    assert.ok(r.body.includes('export-env'), 'service name in the resource');
  });

  test('the endpoint option wins over the env var', async () => {
    received.length = 0;
    await withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' }, async () => {
      const sdk = init({ serviceName: 'export-opt', endpoint: `${collectorUrl}/` });
      sdk.tracer.startSpan('span-from-option').end();
      await sdk.shutdown();
    });
    assert.equal(received.length, 1);
    assert.equal(received[0].url, '/v1/traces');
    assert.ok(received[0].body.includes('span-from-option'));
  });

  test('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as is', async () => {
    received.length = 0;
    await withEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collectorUrl}/custom/traces` }, async () => {
      const sdk = init({ serviceName: 'export-traces-env' });
      sdk.tracer.startSpan('s').end();
      await sdk.shutdown();
    });
    assert.equal(received.length, 1);
    assert.equal(received[0].url, '/custom/traces');
  });

  test('forceFlush sends without shutting down', async () => {
    received.length = 0;
    const sdk = init({ serviceName: 'flush', endpoint: collectorUrl });
    sdk.tracer.startSpan('first').end();
    await sdk.forceFlush();
    assert.equal(received.length, 1);
    sdk.tracer.startSpan('second').end();
    await sdk.shutdown();
    assert.equal(received.length, 2);
  });
});

describe('resource', () => {
  const resourceOf = async (options: InitOptions): Promise<Record<string, unknown>> => {
    const [s] = await spansOf(options, (sdk) => sdk.tracer.startSpan('r').end());
    return s.resource.attributes as Record<string, unknown>;
  };

  test('OTEL_SERVICE_NAME names the service when the option is absent', async () => {
    await withEnv({ OTEL_SERVICE_NAME: 'from-env' }, async () => {
      assert.equal((await resourceOf({}))['service.name'], 'from-env');
    });
  });

  test('OTEL_SERVICE_NAME beats service.name in OTEL_RESOURCE_ATTRIBUTES; the option beats both', async () => {
    await withEnv({ OTEL_SERVICE_NAME: 'from-env', OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,deployment.environment=test,team=core' }, async () => {
      const env = await resourceOf({});
      assert.equal(env['service.name'], 'from-env');
      assert.equal(env['deployment.environment'], 'test');
      assert.equal(env['team'], 'core');
      const opt = await resourceOf({ serviceName: 'from-option', resourceAttributes: { team: 'payments' } });
      assert.equal(opt['service.name'], 'from-option');
      assert.equal(opt['team'], 'payments', 'resourceAttributes override env attributes');
      assert.equal(opt['deployment.environment'], 'test', 'other env attributes stay');
    });
  });

  test('service.instance.id, version and SDK attributes', async () => {
    await withEnv({}, async () => {
      const a = await resourceOf({ serviceName: 's', serviceVersion: '1.2.3', instanceId: 'pod-7' });
      assert.equal(a['service.instance.id'], 'pod-7');
      assert.equal(a['service.version'], '1.2.3');
      assert.equal(a['telemetry.sdk.name'], 'opentelemetry');
      assert.equal(a['telemetry.distro.name'], '@ariadne/sdk');
      const b = await resourceOf({ serviceName: 's' });
      assert.match(String(b['service.instance.id']), /^[0-9a-f]{12}$/);
    });
  });
});

describe('sampling', () => {
  const recording = async (options: InitOptions): Promise<boolean> => {
    let rec = false;
    await spansOf(options, (sdk) => {
      const s = sdk.tracer.startSpan('x');
      rec = s.isRecording();
      s.end();
    });
    return rec;
  };

  test('default: parent-based always on', async () => {
    await withEnv({}, async () => assert.equal(await recording({ serviceName: 's' }), true));
  });
  test('OTEL_TRACES_SAMPLER=always_off', async () => {
    await withEnv({ OTEL_TRACES_SAMPLER: 'always_off' }, async () => assert.equal(await recording({ serviceName: 's' }), false));
  });
  test('OTEL_TRACES_SAMPLER=traceidratio with OTEL_TRACES_SAMPLER_ARG=0', async () => {
    await withEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }, async () => assert.equal(await recording({ serviceName: 's' }), false));
  });
  test('the sampler option wins over the env var', async () => {
    await withEnv({ OTEL_TRACES_SAMPLER: 'always_off' }, async () => assert.equal(await recording({ serviceName: 's', sampler: new AlwaysOnSampler() }), true));
  });
});

describe('globals', () => {
  test('a composite propagator: W3C trace context, baggage and the Ariadne clock', async () => {
    await withEnv({}, async () => {
      const sdk = init({ serviceName: 'p', exporter: new InMemorySpanExporter() });
      try {
        assert.deepEqual(propagation.fields().sort(), ['ariadne-clock', 'baggage', 'traceparent', 'tracestate']);
        const carrier: Record<string, string> = {};
        sdk.tracer.startActiveSpan('s', (span) => {
          propagation.inject(propagation.setBaggage(context.active(), propagation.createBaggage({ k: { value: 'v' } })), carrier);
          span.end();
        });
        assert.ok(carrier.traceparent && carrier.baggage === 'k=v' && carrier['ariadne-clock'].startsWith('v1;'));
      } finally {
        await sdk.shutdown();
      }
    });
  });

  test('OTEL_PROPAGATORS chooses the standard propagators; the clock is always there', async () => {
    await withEnv({ OTEL_PROPAGATORS: 'b3multi,tracecontext' }, async () => {
      const sdk = init({ serviceName: 'p', exporter: new InMemorySpanExporter(), raceway: true });
      try {
        const fields = propagation.fields();
        for (const f of ['x-b3-traceid', 'traceparent', 'ariadne-clock', 'raceway-clock']) assert.ok(fields.includes(f), f);
        assert.ok(!fields.includes('baggage'));
      } finally {
        await sdk.shutdown();
      }
    });
  });

  test('OTEL_SDK_DISABLED=true: nothing recorded or installed', async () => {
    await withEnv({ OTEL_SDK_DISABLED: 'true' }, async () => {
      const sdk = init({ serviceName: 'off', endpoint: collectorUrl });
      assert.equal(sdk.tracer.startSpan('x').isRecording(), false);
      assert.equal(propagation.fields().length, 0);
      await sdk.shutdown();
    });
  });

  test('shutdown removes the globals; init works again', async () => {
    const sdk = init({ serviceName: 'g1', exporter: new InMemorySpanExporter() });
    assert.ok(propagation.fields().length > 0);
    await sdk.shutdown();
    await sdk.shutdown(); // idempotent
    assert.equal(propagation.fields().length, 0);
    assert.equal(trace.getTracer('t').startSpan('x').isRecording(), false);
    const again = await spansOf({ serviceName: 'g2' }, () => trace.getTracer('t').startSpan('via-global').end());
    assert.deepEqual(again.map((s) => s.name), ['via-global']);
  });

  test('span event limit defaults to 1024 (causal events are span events)', async () => {
    const [s] = await spansOf({ serviceName: 'ev' }, (sdk) => {
      const span = sdk.tracer.startSpan('many');
      for (let i = 0; i < 600; i++) span.addEvent(`e${i}`);
      span.end();
    });
    assert.equal(s.events.length, 600);
  });

  test('several services in one process: spans go to the service they belong to', async () => {
    const ea = new InMemorySpanExporter();
    const eb = new InMemorySpanExporter();
    const a = init({ serviceName: 'svc-a', exporter: ea, batch: false });
    const b = init({ serviceName: 'svc-b', exporter: eb, batch: false });
    try {
      const tracer = trace.getTracer('shared');
      tracer.startSpan('default-goes-to-first').end();
      b.run(() => {
        tracer.startActiveSpan('in-b', (span) => {
          a.run(() => tracer.startSpan('a-inside-b').end());
          tracer.startSpan('child-of-b').end();
          span.end();
        });
      });
      a.tracer.startSpan('a-own-tracer', {}, ROOT_CONTEXT).end();
      b.tracer.startSpan('b-own-tracer', {}, ROOT_CONTEXT).end();
      // (read before shutdown: InMemorySpanExporter forgets on shutdown)
      const names = (e: InMemorySpanExporter) => e.getFinishedSpans().map((s) => s.name).sort();
      assert.deepEqual(names(ea), ['a-inside-b', 'a-own-tracer', 'default-goes-to-first']);
      assert.deepEqual(names(eb), ['b-own-tracer', 'child-of-b', 'in-b']);
      assert.equal(eb.getFinishedSpans()[0].resource.attributes['service.name'], 'svc-b');
    } finally {
      await a.shutdown();
      await b.shutdown();
    }
  });
});
