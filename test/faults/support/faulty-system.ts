import { randomBytes } from 'node:crypto';
import { connect as amqpConnect } from 'amqplib';
import { createDb } from '../../../projections/database.ts';
import { deleteTopology, rabbitNames } from '../../../services/notifier/rabbit/topology.ts';
import { type Bus, connectBus } from '../../../shared/bus/connect.ts';
import { readInfraConfig } from '../../../shared/config/infra.ts';
import { Storage } from '../../../shared/storage/storage.ts';
import { TEST_S3_ENDPOINT } from '../../support/moto.ts';
import { type ServiceName, startSystem } from '../../support/system.ts';
import { startProxy, type TcpProxy } from './proxy.ts';

export const DEPENDENCIES = ['nats', 'postgres', 'redis', 'rabbitmq', 's3'] as const;
export type Dependency = (typeof DEPENDENCIES)[number];
export const SERVICES: readonly ServiceName[] = [
  'projections',
  'planner',
  'converter',
  'intake',
  'notifier',
  'expiry',
];

const RABBIT_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const DIRECT_NATS = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/**
 * Every service its own process (their `main.ts`), each dependency behind a proxy the test can cut;
 * `natsUrl` replaces the NATS proxy (the cluster test). `bus` and `storage` reach the real servers
 * directly, for the checks.
 */
export async function startFaultySystem(overrides: Record<string, string> = {}, natsUrl?: string) {
  const targets: Record<Dependency, number> = {
    nats: Number(new URL(DIRECT_NATS).port || 4222),
    postgres: 5432,
    redis: 6379,
    rabbitmq: Number(new URL(RABBIT_URL).port || 5672),
    s3: Number(new URL(TEST_S3_ENDPOINT).port),
  };
  const proxies = {} as Record<Dependency, TcpProxy>;
  for (const dep of DEPENDENCIES) proxies[dep] = await startProxy(targets[dep]);
  const ns = `f${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const at = (dep: Dependency) => `127.0.0.1:${proxies[dep].port}`;
  // A system that fails to start leaves no proxy listening, which would keep the test process alive.
  const system = await startSystem(
    {
      PIXTOOLS_NS: ns,
      S3_BUCKET: `pixtools-${ns}`,
      NATS_URL: natsUrl ?? `nats://${at('nats')}`,
      DATABASE_URL: `postgres://root@${at('postgres')}/pixtools_${ns}`,
      REDIS_URL: `redis://${at('redis')}`,
      RABBITMQ_URL: `amqp://guest:guest@${at('rabbitmq')}`,
      S3_ENDPOINT: `http://${at('s3')}`,
      S3_PUBLIC_ENDPOINT: TEST_S3_ENDPOINT,
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      WEBHOOK_SECRET: 'fault-suite-secret-0123456789',
      WEBHOOK_RETRY_DELAYS_MS: '1000,2000,5000,10000,20000,30000',
      EXPIRY_INTERVAL_MS: '5000',
      S3_REQUEST_TIMEOUT_MS: '5000',
      DB_STATEMENT_TIMEOUT_MS: '5000',
      ...overrides,
    },
    SERVICES,
  ).catch(async (error: unknown) => {
    await Promise.all(Object.values(proxies).map((proxy) => proxy.close()));
    throw error;
  });
  const direct = readInfraConfig({
    ...system.env,
    NATS_URL: natsUrl ?? DIRECT_NATS,
    S3_ENDPOINT: TEST_S3_ENDPOINT,
  });
  const bus: Bus = await connectBus({ ...direct, url: direct.natsUrl, name: 'fault-checks' });
  const storage = new Storage(direct.s3);
  const db = createDb(`postgres://root@127.0.0.1:5432/pixtools_${ns}`, 2);
  return {
    db,
    ...system,
    ns,
    proxies,
    bus,
    storage,
    /** SIGKILL, then the same service started again; resolves when it is ready. */
    async crash(name: ServiceName) {
      await system.processes.get(name)?.kill('SIGKILL');
      await system.start(name);
    },
    async close() {
      for (const dep of DEPENDENCIES) proxies[dep].up();
      await bus.nc.close();
      storage.destroy();
      await db.destroy();
      await system.stop();
      const amqp = await amqpConnect(RABBIT_URL);
      const ch = await amqp.createChannel();
      await deleteTopology(ch, rabbitNames(ns)).catch(() => undefined);
      await amqp.close();
      for (const dep of DEPENDENCIES) await proxies[dep].close();
    },
  };
}
