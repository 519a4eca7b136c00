import { ensureModels } from '../../models/convert.ts';
import { connectBus } from '../../shared/bus/connect.ts';
import { runStepWorker } from '../../shared/bus/worker.ts';
import { createLogger } from '../../shared/log.ts';
import { Storage } from '../../shared/storage/storage.ts';
import { readConfig } from './config.ts';
import { executeDenoise, type Sessions } from './execute.ts';
import { createSession } from './inference/session.ts';

const config = readConfig(process.env);
const { infra } = config;
const log = createLogger('denoiser', { level: infra.logLevel, pretty: infra.logPretty });
const storage = new Storage(infra.s3);
await storage.ensureBucketWhenUp(log);

let sessions: Sessions | null = null;
let unavailableReason = '';
try {
  const paths = await ensureModels({ weightsDir: config.weightsDir, onnxDir: config.onnxDir });
  const options = { intraOpNumThreads: config.threads };
  sessions = {
    blind: await createSession(paths.blind, options),
    clip: await createSession(paths.clip, options),
  };
} catch (error) {
  unavailableReason = `the DnCNN models are not installed on this denoiser: ${(error as Error).message}`;
  log.error(unavailableReason);
}

const bus = await connectBus({ ...infra, url: infra.natsUrl, name: 'denoiser', log });
const stop = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stop.abort());
const execute = executeDenoise({
  storage,
  sessions,
  unavailableReason,
  tileSize: config.tileSize,
  maxInputPixels: config.maxInputPixels,
});
log.info(
  { concurrency: config.concurrency, threads: config.threads, tileSize: config.tileSize },
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
