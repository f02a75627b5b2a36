// Works the `orders` queue, continuing each job's trace. Ctrl-C to stop.
//   REDIS_URL=redis://127.0.0.1:6379 node examples/redis-queue/worker.mjs
import { setTimeout as sleep } from 'node:timers/promises';
import { init, traced, track } from '@ariadne/sdk';
import { Redis } from 'ioredis';
import { JobQueue } from './queue.mjs';

const sdk = init({ serviceName: 'orders-worker', instrumentations: { ioredis: true } });
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const queue = new JobQueue(redis, 'orders');
let processed = 0;

const charge = traced(
  async function charge(order) {
    await sleep(20);
    return { charged: order.amount };
  },
  { captureArgs: true, captureResult: true },
);

process.once('SIGINT', () => queue.stop());
console.log('waiting for jobs on queue:orders');
await queue.work(async (job) => {
  const result = await charge(job.payload);
  track.write('orders.processed', processed, ++processed);
  console.log(`processed ${job.id}`, result);
});

redis.disconnect();
await sdk.shutdown();
