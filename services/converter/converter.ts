import type { Bus } from '../../shared/bus/connect.ts';
import { type StepWorker, startStepWorker } from '../../shared/bus/worker.ts';
import type { Logger } from '../../shared/log.ts';
import { Storage } from '../../shared/storage/storage.ts';
import type { ConverterConfig } from './config.ts';
import { executeConvert } from './execute.ts';

export type ConverterDeps = Readonly<{ config: ConverterConfig; bus: Bus; log: Logger }>;

/** The converter wired: the I/O work consumer running sharp steps. `main.ts` and the tests run this. */
export function startConverter({ config, bus, log }: ConverterDeps): StepWorker {
  const { infra } = config;
  const storage = new Storage(infra.s3);
  const worker = startStepWorker({
    bus,
    log,
    durable: 'converter',
    concurrency: config.concurrency,
    ackWaitMs: infra.ackWaitMs,
    maxDeliver: infra.maxDeliver,
    retryBudgetMs: infra.stepRetryBudgetMs,
    execute: executeConvert({
      storage,
      maxInputPixels: config.maxInputPixels,
      maxOutputPixels: config.maxOutputPixels,
      keepGps: config.keepGps,
    }),
  });
  return {
    done: worker.done,
    async stop() {
      await worker.stop();
      storage.destroy();
    },
  };
}
