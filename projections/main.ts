import { ensureDatabase, migrateToLatest } from '../db/migrator.ts';
import { connectBus } from '../shared/bus/connect.ts';
import { consumeLoop } from '../shared/bus/consume.ts';
import { createLogger } from '../shared/log.ts';
import { readConfig } from './config.ts';
import { createDb } from './database.ts';
import { onEvent } from './projector.ts';

const { infra } = readConfig(process.env);
const log = createLogger('projections', { level: infra.logLevel, pretty: infra.logPretty });
await ensureDatabase(infra.databaseUrl);
const db = createDb(infra.databaseUrl);
await migrateToLatest(db);
const bus = await connectBus({ ...infra, url: infra.natsUrl, name: 'projections' });
const stop = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stop.abort());

log.info('projections consuming');
await consumeLoop({
  js: bus.js,
  stream: bus.names.eventsStream,
  durable: bus.names.durable.projections,
  concurrency: 1,
  heartbeatMs: null,
  handle: onEvent(db, log),
  log,
  signal: stop.signal,
});
await bus.nc.drain();
await db.destroy();
log.info('projections stopped');
