import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { ensureDatabase, migrateToLatest } from '../../db/migrator.ts';
import { createDb } from '../../projections/database.ts';
import type { Bus } from '../../shared/bus/connect.ts';
import type { Logger } from '../../shared/log.ts';
import { Storage } from '../../shared/storage/storage.ts';
import { createApp } from './app.ts';
import type { IntakeConfig } from './config.ts';
import { createRedis } from './redis.ts';

/** Connections still open this long after `stop` are closed. */
const SHUTDOWN_GRACE_MS = 10_000;

export type IntakeStartDeps = Readonly<{ config: IntakeConfig; bus: Bus; log: Logger; now: () => Date }>;

/**
 * The HTTP API wired and listening: waits for S3 (the bucket must exist before an upload), never for
 * Postgres (submissions do not need it: job reads answer 503 until it is back). `main.ts` and the
 * tests run this.
 */
export async function startIntake({ config, bus, log, now }: IntakeStartDeps) {
  const { infra } = config;
  const storage = new Storage(infra.s3);
  await storage.ensureBucketWhenUp(log);
  const db = createDb(
    infra.databaseUrl,
    10,
    (error) => log.warn({ err: error }, 'idle database connection lost'),
    infra.db,
  );
  const redis = createRedis(infra.redisUrl);
  void ensureDatabase(infra.databaseUrl)
    .then(() => migrateToLatest(db))
    .catch((error: unknown) =>
      log.warn({ err: error }, 'database not ready; job reads will fail until it is'),
    );
  const stopping = new AbortController();
  const app = createApp({
    ...{ config, bus, storage, db, redis, log },
    ...{ now, newId: randomUUID, shutdown: stopping.signal },
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const listening = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () =>
      resolve(listening),
    );
  });
  const { port } = server.address() as AddressInfo;
  log.info({ port }, `intake listening on http://localhost:${port}`);
  return {
    port,
    /**
     * Stops accepting, ends every open event stream, lets open requests finish (idle keep-alive
     * connections are closed as they become idle, the rest after the grace), then closes every connection.
     */
    async stop(): Promise<void> {
      stopping.abort();
      const idle = setInterval(() => 'closeIdleConnections' in server && server.closeIdleConnections(), 100);
      idle.unref();
      setTimeout(
        () => 'closeAllConnections' in server && server.closeAllConnections(),
        SHUTDOWN_GRACE_MS,
      ).unref();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      clearInterval(idle);
      await db.destroy();
      redis.disconnect();
      storage.destroy();
    },
  };
}
