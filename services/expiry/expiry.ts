import { createDb } from '../../projections/database.ts';
import { readCheckpoint } from '../../projections/projections.ts';
import type { Bus } from '../../shared/bus/connect.ts';
import { sleep } from '../../shared/bus/consume.ts';
import { projectionLag } from '../../shared/bus/lag.ts';
import type { Logger } from '../../shared/log.ts';
import { Storage } from '../../shared/storage/storage.ts';
import type { ExpiryConfig } from './config.ts';
import { sweepExpired } from './sweep.ts';

export type ExpiryDeps = Readonly<{ config: ExpiryConfig; bus: Bus; log: Logger; now: () => Date }>;

/**
 * The retention sweeper's loop: a pass every interval (at once again after a full batch), and a loud
 * warning while the read model lags the log by more than `lagWarnEvents`. `main.ts` and the tests run this.
 */
export function startExpiry({ config, bus, log, now }: ExpiryDeps) {
  const stop = new AbortController();
  const storage = new Storage(config.infra.s3);
  const deps = { bus, storage, log, now, retentionMs: config.infra.s3.retentionSeconds * 1000 };
  // Only for the lag signal: the sweep itself never reads the read model.
  const db = createDb(config.infra.databaseUrl, 1, () => {}, config.infra.db);
  const done = (async () => {
    while (!stop.signal.aborted) {
      const swept = await sweepExpired(deps, config.batchSize).catch((error: unknown) => {
        log.warn({ err: error }, 'expiry sweep failed; retrying next interval');
        return 0;
      });
      const lag = await projectionLag(bus, () => readCheckpoint(db)).catch(() => null);
      if (lag !== null && lag > config.lagWarnEvents) {
        log.warn({ lag }, 'the read model lags the event log: job reads are stale (see projections)');
      }
      if (swept < config.batchSize) await sleep(config.intervalMs, stop.signal);
    }
  })();
  return {
    done,
    async stop() {
      stop.abort();
      await done;
      storage.destroy();
      await db.destroy();
    },
  };
}
