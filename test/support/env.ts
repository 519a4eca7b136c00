import { randomBytes } from 'node:crypto';
import { TEST_S3_ENDPOINT } from './moto.ts';

/** A fresh namespace, database and bucket per test run, so tests run side by side and leave nothing. */
export function freshEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const id = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const pgBase = process.env.TEST_DATABASE_BASE_URL ?? 'postgres://root@127.0.0.1:5432';
  return {
    PIXTOOLS_NS: id,
    DATABASE_URL: `${pgBase}/pixtools_${id}`,
    S3_ENDPOINT: TEST_S3_ENDPOINT,
    S3_BUCKET: `pixtools-${id}`,
    S3_ACCESS_KEY_ID: 'test',
    S3_SECRET_ACCESS_KEY: 'test',
    NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    WORK_ACK_WAIT_MS: '4000',
    // JetStream reserves each stream's max_bytes: the production default (10 GiB) would let only a
    // handful of parallel test runs (or leftovers of killed ones) fit on one server.
    EVENTS_MAX_BYTES: String(256 * 1024 ** 2),
    // Tests submit jobs back to back, often with no worker running; the production io budget (600 ms of
    // expected queue wait) would turn that into 429s. Admission's own tests set their budgets.
    ADMISSION_IO_MAX_WAIT_MS: '60000',
    MAX_CONCURRENT_UPLOADS: '16',
    ...overrides,
  };
}

/** Deletes a namespace's streams (for tests that let a spawned service provision them). */
export async function deleteStreams(namespace: string): Promise<void> {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const { busNames } = await import('../../shared/bus/names.ts');
  const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
  const jsm = await jetstreamManager(nc);
  const names = busNames(namespace);
  for (const stream of names.streams) {
    await jsm.streams.delete(stream).catch(() => false);
  }
  await nc.close();
}
