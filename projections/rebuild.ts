import { ensureDatabase } from '../db/migrator.ts';
import { connectBus } from '../shared/bus/connect.ts';
import { createLogger } from '../shared/log.ts';
import { readConfig } from './config.ts';
import { createDb } from './database.ts';
import { rebuild } from './projector.ts';

// `npm run projections:rebuild`: drop every read model and replay the event stream from sequence 1.
const { infra } = readConfig(process.env);
const log = createLogger('rebuild', { level: infra.logLevel, pretty: infra.logPretty });
await ensureDatabase(infra.databaseUrl);
const db = createDb(infra.databaseUrl);
const bus = await connectBus({ ...infra, url: infra.natsUrl, name: 'projections-rebuild' });
const { events, seconds } = await rebuild(db, bus, log);
console.log(
  `replayed ${events} events in ${seconds.toFixed(2)} s (${Math.round(events / Math.max(seconds, 1e-9))} events/s)`,
);
await bus.nc.drain();
await db.destroy();
