import { createDb } from '../../projections/database.ts';
import { readCheckpoint } from '../../projections/projections.ts';
import type { Bus } from '../../shared/bus/connect.ts';
import { sleep } from '../../shared/bus/consume.ts';
import { projectionLag } from '../../shared/bus/lag.ts';
import type { Logger } from '../../shared/log.ts';
import { Storage } from '../../shared/storage/storage.ts';
import type { ExpiryConfig } from './config.ts';
import { ExpiryState } from './state.ts';
import { sweepBucket, sweepLog } from './sweep.ts';

export type ExpiryDeps = Readonly<{ config: ExpiryConfig; bus: Bus; log: Logger; now: () => Date }>;

/**
 * The retention sweeper's loop: the log pass every interval (at once again after a full batch), the
 * bucket pass whenever the last one finished more than `bucketIntervalMs` ago (kept in the sweeper's
 * state, so restarts do not repeat it), and a loud warning while the read model lags the log by more
 * than `lagWarnEvents`. A failed pass is logged and tried again next interval. `main.ts` and the tests
 * run this.
 */
export function startExpiry({ config, bus, log, now }: ExpiryDeps) {
  const stop = new AbortController();
  const storage = new Storage(config.infra.s3);
  const retentionMs = config.infra.s3.retentionSeconds * 1000;
  // Only for the lag signal: the sweep itself never reads the read model.
  const db = createDb(config.infra.databaseUrl, 1, () => {}, config.infra.db);
  const failed = (pass: string) => (error: unknown) => {
    log.warn({ err: error }, `expiry ${pass} pass failed; retrying next interval`);
    return 0;
  };
  const done = (async () => {
    let state: ExpiryState | null = null;
    while (!stop.signal.aborted) {
      let swept = 0;
      state ??= await ExpiryState.open(bus, config.infra.streamReplicas).catch((error: unknown) => {
        failed('state')(error);
        return null;
      });
      if (state !== null) {
        const deps = { bus, storage, log, now, retentionMs, state };
        swept = await sweepLog(deps, config.batchSize).catch(failed('log'));
        const at = now().getTime();
        const last = await state.bucketSweptAt().catch(() => at);
        if (at - last >= config.bucketIntervalMs) {
          const found = await sweepBucket(deps, config.batchSize).catch((error: unknown) => {
            failed('bucket')(error);
            return null; // not finished: tried again next interval
          });
          // A full batch means more may be left: the pass runs again next time round.
          if (found !== null && found < config.batchSize) {
            await state.setBucketSweptAt(at).catch(failed('bucket'));
          }
          swept = Math.max(swept, found ?? 0);
        }
      }
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
