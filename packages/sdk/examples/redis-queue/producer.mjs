// Enqueues a few jobs. Run with a worker (worker.mjs) and an Ariadne server:
//   REDIS_URL=redis://127.0.0.1:6379 node examples/redis-queue/producer.mjs
import { init, track } from '@ariadne/sdk';
import { Redis } from 'ioredis';
import { JobQueue } from './queue.mjs';

const sdk = init({ serviceName: 'orders-api', instrumentations: { ioredis: true } });
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const queue = new JobQueue(redis, 'orders');

await sdk.tracer.startActiveSpan('submit orders', async (span) => {
  for (let i = 0; i < 3; i++) {
    track.write('orders.submitted', i, i + 1);
    const job = await queue.enqueue('order.created', { orderId: 1000 + i, amount: 25 * (i + 1) });
    console.log(`enqueued ${job.id} in trace ${span.spanContext().traceId}`);
  }
  span.end();
});

redis.disconnect();
await sdk.shutdown();
