import { hostname } from 'node:os';
import { connectBus } from '../../shared/bus/connect.ts';
import { consumeLoop } from '../../shared/bus/consume.ts';
import { stepWorker } from '../../shared/bus/worker.ts';
import { createLogger } from '../../shared/log.ts';
import { Storage } from '../../shared/storage/storage.ts';
import { readConfig } from './config.ts';
import { executeConvert } from './execute.ts';

const config = readConfig(process.env);
const { infra } = config;
const log = createLogger('converter', { level: infra.logLevel, pretty: infra.logPretty });
const storage = new Storage(infra.s3);
await storage.ensureBucket(log);
const bus = await connectBus({ ...infra, url: infra.natsUrl, name: 'converter' });
const stop = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stop.abort());

const handle = stepWorker({
  bus,
  log,
  now: () => new Date(),
  worker: `converter@${hostname()}:${process.pid}`,
  maxDeliver: infra.maxDeliver,
  execute: executeConvert({
    storage,
    maxInputPixels: config.maxInputPixels,
    maxOutputPixels: config.maxOutputPixels,
    keepGps: config.keepGps,
  }),
});
log.info({ concurrency: config.concurrency }, 'converter consuming');
await consumeLoop({
  js: bus.js,
  stream: bus.names.workStream,
  durable: bus.names.durable.converter,
  concurrency: config.concurrency,
  heartbeatMs: Math.floor(infra.ackWaitMs / 3),
  handle,
  log,
  signal: stop.signal,
});
await bus.nc.drain();
storage.destroy();
log.info('converter stopped');
