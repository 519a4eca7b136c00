import sharp from 'sharp';
import { connectBus } from '../../shared/bus/connect.ts';
import { runStepWorker } from '../../shared/bus/worker.ts';
import { createLogger } from '../../shared/log.ts';
import { Storage } from '../../shared/storage/storage.ts';
import { readConfig } from './config.ts';
import { executeConvert } from './execute.ts';

// Every image is different: libvips' operation cache would only hold memory.
sharp.cache(false);
const config = readConfig(process.env);
const { infra } = config;
const log = createLogger('converter', { level: infra.logLevel, pretty: infra.logPretty });
const storage = new Storage(infra.s3);
await storage.ensureBucket(log);
const bus = await connectBus({ ...infra, url: infra.natsUrl, name: 'converter' });
const stop = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stop.abort());

log.info({ concurrency: config.concurrency }, 'converter consuming');
await runStepWorker({
  bus,
  log,
  durable: 'converter',
  concurrency: config.concurrency,
  ackWaitMs: infra.ackWaitMs,
  maxDeliver: infra.maxDeliver,
  execute: executeConvert({
    storage,
    maxInputPixels: config.maxInputPixels,
    maxOutputPixels: config.maxOutputPixels,
    keepGps: config.keepGps,
  }),
  signal: stop.signal,
});
await bus.nc.drain();
storage.destroy();
log.info('converter stopped');
