import { connectBus } from '../../shared/bus/connect.ts';
import { runStepWorker } from '../../shared/bus/worker.ts';
import { createLogger } from '../../shared/log.ts';
import { lowerPriority } from '../../shared/os/priority.ts';
import { Storage } from '../../shared/storage/storage.ts';
import { readConfig } from './config.ts';
import { executeDenoise } from './execute.ts';
import { prepareModels } from './models.ts';
import { ioQueueProbe } from './threads.ts';

const config = readConfig(process.env);
const { infra } = config;
const log = createLogger('denoiser', { level: infra.logLevel, pretty: infra.logPretty });
const storage = new Storage(infra.s3);
await storage.ensureBucketWhenUp(log);

// Lower priority than the converter, so conversions get a core first (thread policy, threads.ts).
lowerPriority(config.nice);
const sessions = await prepareModels({
  dirs: { weightsDir: config.weightsDir, ffdnetWeightsDir: config.ffdnetWeightsDir, onnxDir: config.onnxDir },
  fetchMissing: config.fetchWeights,
  threads: config.threads,
  maxThreads: config.maxThreads,
  log,
});

lowerPriority(config.nice); // again, for threads the model set-up started
const bus = await connectBus({ ...infra, url: infra.natsUrl, name: 'denoiser', log });
const stop = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stop.abort());
const execute = executeDenoise({
  storage,
  sessions,
  tileSize: config.tileSize,
  maxInputPixels: config.maxInputPixels,
  ioIdle: ioQueueProbe(bus),
});
log.info(
  {
    concurrency: config.concurrency,
    threads: config.threads,
    maxThreads: config.maxThreads,
    nice: config.nice,
    tileSize: config.tileSize,
  },
  'denoiser consuming',
);
await runStepWorker({
  bus,
  log,
  durable: 'denoiser',
  concurrency: config.concurrency,
  ackWaitMs: infra.ackWaitMs,
  maxDeliver: infra.maxDeliver,
  retryBudgetMs: infra.stepRetryBudgetMs,
  execute,
  signal: stop.signal,
});
await bus.nc.drain();
storage.destroy();
log.info('denoiser stopped');
