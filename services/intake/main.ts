import { randomUUID } from 'node:crypto';
import { serve } from '@hono/node-server';
import { ensureDatabase, migrateToLatest } from '../../db/migrator.ts';
import { createDb } from '../../projections/database.ts';
import { connectBus } from '../../shared/bus/connect.ts';
import { createLogger } from '../../shared/log.ts';
import { Storage } from '../../shared/storage/storage.ts';
import { createApp } from './app.ts';
import { readConfig } from './config.ts';
import { createRedis } from './redis.ts';

const config = readConfig(process.env);
const { infra } = config;
const log = createLogger('intake', { level: infra.logLevel, pretty: infra.logPretty });
const storage = new Storage(infra.s3);
await storage.ensureBucket(log);
const bus = await connectBus({ ...infra, url: infra.natsUrl, name: 'intake' });
const db = createDb(infra.databaseUrl, 10, (error) =>
  log.warn({ err: error }, 'idle database connection lost'),
);
const redis = createRedis(infra.redisUrl);
// Submissions need no Postgres: if it is down now, reads fail with 503 until it is back.
await ensureDatabase(infra.databaseUrl)
  .then(() => migrateToLatest(db))
  .catch((error: unknown) => log.warn({ err: error }, 'database not ready; job reads will fail until it is'));
const stopping = new AbortController();
const app = createApp({
  ...{ config, bus, storage, db, redis, log },
  ...{ now: () => new Date(), newId: randomUUID, shutdown: stopping.signal },
});

const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) =>
  log.info({ port: info.port }, `intake listening on http://localhost:${info.port}`),
);
/** Connections still open this long after SIGTERM are closed. */
const SHUTDOWN_GRACE_MS = 10_000;
const shutdown = () => {
  log.info('intake shutting down');
  stopping.abort(); // ends every open event stream
  // keep-alive connections become idle as their streams end: close them as they do, the rest after the grace
  const idle = setInterval(() => 'closeIdleConnections' in server && server.closeIdleConnections(), 100);
  idle.unref();
  setTimeout(
    () => 'closeAllConnections' in server && server.closeAllConnections(),
    SHUTDOWN_GRACE_MS,
  ).unref();
  server.close(async () => {
    clearInterval(idle);
    await bus.nc.drain();
    await db.destroy();
    redis.disconnect();
    storage.destroy();
  });
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
