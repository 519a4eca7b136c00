import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'amqplib';
import { Redis } from 'ioredis';
import { readConfig } from '../services/notifier/config.ts';
import { DeliveryLedger } from '../services/notifier/ledger/ledger.ts';
import { deleteTopology, rabbitNames } from '../services/notifier/rabbit/topology.ts';
import { connectBus } from '../shared/bus/connect.ts';
import { appendJob } from '../test/notifier/support/jobs.ts';
import { freshEnv } from '../test/support/env.ts';
import { spawnService } from '../test/support/processes.ts';
import { summary } from './stats.ts';

// Webhook delivery with the notifier in its own process, against the real NATS, RabbitMQ and Redis:
//   npx tsx bench/webhooks.ts [burst=1000] [paced=100] [appenders=16]
// Paced: one job at a time, so the added latency JobCompleted → receipt at the sink is unloaded.
// Burst: `burst` jobs complete at once; prints deliveries/s and the latency under that load.
const burst = Number(process.argv[2] ?? 1000);
const paced = Number(process.argv[3] ?? 100);
const appenders = Number(process.argv[4] ?? 16);

const receipts = new Map<string, number>(); // job id → latency in ms
let lastReceipt = 0;
const waiters = new Map<string, () => void>();
const sink = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const now = Date.now();
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { job_id: string; completed_at: string };
    if (!receipts.has(body.job_id)) receipts.set(body.job_id, now - Date.parse(body.completed_at));
    lastReceipt = now;
    waiters.get(body.job_id)?.();
    res.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/hook`;

const env = freshEnv({
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  WEBHOOK_SECRET: 'bench-secret-0123456789abcdef',
  WEBHOOK_PREFETCH: '64',
  NOTIFIER_CONCURRENCY: '32',
});
const config = readConfig(env);
const bus = await connectBus({ ...config.infra, url: config.infra.natsUrl, name: 'bench' });
const notifier = spawnService('services/notifier/main.ts', { ...env, LOG_LEVEL: 'warn' });
await notifier.waitFor('webhook deliveries consuming');

const delivered = (jobId: string) =>
  new Promise<void>((resolve) => {
    if (receipts.has(jobId)) resolve();
    else waiters.set(jobId, resolve);
  });

// Paced: measure the path with nothing else in flight.
const pacedLatency: number[] = [];
for (let i = 0; i < paced; i++) {
  const jobId = await appendJob(bus, url);
  await delivered(jobId);
  pacedLatency.push(receipts.get(jobId) ?? Number.NaN);
}

// Burst: every job completes as fast as the appenders can write the events.
const ids: string[] = [];
const started = Date.now();
let next = 0;
await Promise.all(
  Array.from({ length: appenders }, async () => {
    while (next < burst) {
      next++;
      ids.push(await appendJob(bus, url));
    }
  }),
);
const appendedMs = Date.now() - started;
await Promise.all(ids.map(delivered));
const seconds = (lastReceipt - started) / 1000;
const burstLatency = ids.map((id) => receipts.get(id) ?? Number.NaN);

console.log(`paced (${paced} jobs, one at a time): JobCompleted → receipt ${summary(pacedLatency)}`);
console.log(
  `burst (${burst} jobs, ${appenders} appenders, appended in ${(appendedMs / 1000).toFixed(2)} s): ` +
    `${(burst / seconds).toFixed(0)} deliveries/s (${seconds.toFixed(2)} s to the last receipt)`,
);
console.log(`burst: JobCompleted → receipt ${summary(burstLatency)}`);

await notifier.kill('SIGTERM');
const amqp = await connect(config.rabbitUrl);
await deleteTopology(await amqp.createChannel(), rabbitNames(config.infra.namespace));
await amqp.close();
const redis = new Redis(config.infra.redisUrl);
await new DeliveryLedger(redis, config.infra.namespace, 1000).purge();
redis.disconnect();
for (const stream of bus.names.streams) {
  await bus.jsm.streams.delete(stream).catch(() => false);
}
await bus.nc.close();
sink.close();
