import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { ensureDatabase, migrateToLatest } from '../../db/migrator.ts';
import { createDb, type Database } from '../../projections/database.ts';
import { startProjections } from '../../projections/projections.ts';
import { findJob, type JobView } from '../../projections/queries.ts';
import { readConfig as readConverterConfig } from '../../services/converter/config.ts';
import { executeConvert } from '../../services/converter/execute.ts';
import { ExpiryState } from '../../services/expiry/state.ts';
import { sweepExpired } from '../../services/expiry/sweep.ts';
import { createApp } from '../../services/intake/app.ts';
import { readConfig as readIntakeConfig } from '../../services/intake/config.ts';
import { createRedis } from '../../services/intake/redis.ts';
import { onDispatch, onMaxDeliveries, onEvent as planEvent } from '../../services/planner/handlers.ts';
import { JobStates } from '../../services/planner/states.ts';
import { type Bus, connectBus } from '../../shared/bus/connect.ts';
import { consumeLoop } from '../../shared/bus/consume.ts';
import { stepWorker } from '../../shared/bus/worker.ts';
import { readInfraConfig } from '../../shared/config/infra.ts';
import { createLogger } from '../../shared/log.ts';
import { Storage } from '../../shared/storage/storage.ts';
import { freshEnv } from './env.ts';
import { ensureS3Server } from './moto.ts';
import { standInDenoise } from './stand-in-denoiser.ts';

/** `denoise-standin` is never started by default: it is started by name where no real denoiser runs. */
export type Loop = 'planner' | 'dispatcher' | 'advisories' | 'converter' | 'projections' | 'denoise-standin';
const ALL: readonly Loop[] = ['planner', 'dispatcher', 'advisories', 'converter', 'projections'];

export type Harness = Awaited<ReturnType<typeof startHarness>>;

/**
 * The system wired in one process against the real NATS, Postgres and S3 server, with a fresh
 * namespace, database and bucket. Loops can be started and stopped one by one.
 */
export async function startHarness(overrides: Record<string, string> = {}) {
  await ensureS3Server();
  const env = freshEnv(overrides);
  const config = readIntakeConfig(env);
  const { infra } = config;
  const log = createLogger('test', { level: infra.logLevel, pretty: false });
  const storage = new Storage(infra.s3);
  await storage.ensureBucket(log);
  await ensureDatabase(infra.databaseUrl);
  const db = createDb(infra.databaseUrl);
  await migrateToLatest(db);
  const bus = await connectBus({ ...infra, url: infra.natsUrl, name: 'test' });
  const redis = createRedis(infra.redisUrl);
  const now = () => new Date();
  const app = createApp({ config, bus, storage, db, redis, log, now, newId: randomUUID });
  const converter = readConverterConfig(env);
  const running = new Map<Loop, { stop: AbortController; done: Promise<void> }>();
  /** The planner loop's per-job states (and its read counters); a fresh one on every planner start. */
  let plannerStates = new JobStates(bus.log);
  let expiryState: ExpiryState | undefined;

  const handlerFor = (loop: Exclude<Loop, 'projections'>) => {
    const deps = { bus, log, now };
    switch (loop) {
      case 'planner':
        return {
          stream: bus.names.eventsStream,
          durable: bus.names.durable.planner,
          handle: planEvent(deps, plannerStates),
        };
      case 'dispatcher':
        return {
          stream: bus.names.eventsStream,
          durable: bus.names.durable.dispatcher,
          handle: onDispatch(deps),
        };
      case 'advisories':
        return {
          stream: bus.names.advisoryStream,
          durable: bus.names.durable.advisories,
          handle: onMaxDeliveries(deps),
        };
      case 'converter':
        return {
          stream: bus.names.workStream,
          durable: bus.names.durable.converter,
          handle: stepWorker({
            ...deps,
            worker: 'test-converter',
            maxDeliver: infra.maxDeliver,
            execute: executeConvert({ storage, ...converter }),
          }),
        };
      case 'denoise-standin':
        return {
          stream: bus.names.workStream,
          durable: bus.names.durable.denoiser,
          handle: stepWorker({
            ...deps,
            worker: 'test-denoise-standin',
            maxDeliver: infra.maxDeliver,
            execute: standInDenoise(storage),
          }),
        };
    }
  };

  const harness = {
    get plannerStates() {
      return plannerStates;
    },
    env,
    config,
    bus,
    db,
    storage,
    redis,
    app,
    log,
    start(...loops: Loop[]) {
      for (const loop of loops.length ? loops : ALL) {
        if (running.has(loop)) continue;
        const stop = new AbortController();
        if (loop === 'projections') {
          const projections = startProjections({ db, bus, log });
          const done = new Promise<void>((resolve) => {
            stop.signal.addEventListener('abort', () => resolve(projections.stop()), { once: true });
          });
          running.set(loop, { stop, done });
          continue;
        }
        if (loop === 'planner') plannerStates = new JobStates(bus.log);
        const { stream, durable, handle } = handlerFor(loop);
        const concurrency = loop === 'advisories' ? 1 : 4;
        const done = consumeLoop({
          js: bus.js,
          stream,
          durable,
          concurrency,
          heartbeatMs: 1000,
          handle,
          log,
          signal: stop.signal,
        });
        running.set(loop, { stop, done });
      }
    },
    async stop(...loops: Loop[]) {
      for (const loop of loops.length ? loops : [...running.keys()]) {
        const entry = running.get(loop);
        if (!entry) continue;
        entry.stop.abort();
        await entry.done;
        running.delete(loop);
      }
    },
    /** POSTs a file as the reference clients do. */
    submit(file: Buffer, name: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
      const form = new FormData();
      form.set('file', new File([new Uint8Array(file)], name));
      for (const [key, value] of Object.entries(fields)) form.set(key, value);
      return app.request('/api/process', { method: 'POST', body: form, headers });
    },
    waitForJob: (jobId: string, until: (view: JobView) => boolean, timeoutMs = 30_000) =>
      waitFor(
        () => findJob(db, jobId),
        (view) => view !== null && until(view),
        timeoutMs,
      ) as Promise<JobView>,
    async history(jobId: string) {
      return (await bus.log.history(jobId)).events.map((stored) => stored.event);
    },
    /** One pass of the retention sweeper, at `at` (default: now): the log pass, then the bucket pass. */
    async sweepExpired(at: Date = new Date()) {
      expiryState ??= await ExpiryState.open(bus);
      const retentionMs = infra.s3.retentionSeconds * 1000;
      return sweepExpired({ bus, storage, log, now: () => at, retentionMs, state: expiryState }, 100);
    },
    async close() {
      await harness.stop();
      await deleteRedisKeys(redis, `${infra.namespace}:*`);
      redis.disconnect();
      await cleanup(bus, storage, db, infra.databaseUrl);
    },
  };
  return harness;
}

export async function waitFor<T>(
  probe: () => Promise<T>,
  until: (value: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!until(last)) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    last = await probe();
  }
  return last;
}

async function deleteRedisKeys(redis: ReturnType<typeof createRedis>, pattern: string) {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    if (found.length > 0) await redis.del(...found);
    cursor = next;
  } while (cursor !== '0');
}

/** Deletes the run's streams, bucket contents and database. */
export async function cleanup(bus: Bus, storage: Storage, db: Kysely<Database>, databaseUrl: string) {
  for (const stream of bus.names.streams) {
    await bus.jsm.streams.delete(stream).catch(() => false);
  }
  await bus.nc.close();
  await storage.deletePrefixes(['']).catch(() => 0);
  storage.destroy();
  await db.destroy();
  const url = new URL(databaseUrl);
  const name = url.pathname.slice(1);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  await client.query(`drop database if exists "${name}" with (force)`);
  await client.end();
}

export { readInfraConfig };
