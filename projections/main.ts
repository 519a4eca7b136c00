import { ensureDatabase, migrateToLatest } from '../db/migrator.ts';
import { connectBus } from '../shared/bus/connect.ts';
import { createLogger } from '../shared/log.ts';
import { readConfig } from './config.ts';
import { createDb } from './database.ts';
import { startProjections } from './projections.ts';

const { infra, lingerMs } = readConfig(process.env);
const log = createLogger('projections', { level: infra.logLevel, pretty: infra.logPretty });
await ensureDatabase(infra.databaseUrl);
const db = createDb(infra.databaseUrl);
await migrateToLatest(db);
const bus = await connectBus({ ...infra, url: infra.natsUrl, name: 'projections' });
const projections = startProjections({ db, bus, log, lingerMs });
log.info('projections consuming');

await new Promise<void>((resolve) => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve());
});
await projections.stop();
await bus.nc.drain();
await db.destroy();
log.info(projections.counters, 'projections stopped');
