import { createDb } from '../../projections/database.ts';
import { connectBus } from '../../shared/bus/connect.ts';
import { sleep } from '../../shared/bus/consume.ts';
import { createLogger } from '../../shared/log.ts';
import { Storage } from '../../shared/storage/storage.ts';
import { readConfig } from './config.ts';
import { sweepExpired } from './sweep.ts';

const config = readConfig(process.env);
const { infra } = config;
const log = createLogger('expiry', { level: infra.logLevel, pretty: infra.logPretty });
const storage = new Storage(infra.s3);
const db = createDb(infra.databaseUrl, 2, (error) =>
  log.warn({ err: error }, 'idle database connection lost'),
);
const bus = await connectBus({ ...infra, url: infra.natsUrl, name: 'expiry' });
const deps = { db, bus, storage, log, now: () => new Date() };
const stop = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stop.abort());

log.info({ intervalMs: config.intervalMs }, 'expiry sweeping');
while (!stop.signal.aborted) {
  // A full batch means more are due: sweep again at once.
  const swept = await sweepExpired(deps, config.batchSize).catch((error: unknown) => {
    log.warn({ err: error }, 'expiry sweep failed; retrying next interval');
    return 0;
  });
  if (swept < config.batchSize) await sleep(config.intervalMs, stop.signal);
}
await bus.nc.drain();
await db.destroy();
storage.destroy();
log.info('expiry stopped');
