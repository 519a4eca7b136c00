import { Hono } from 'hono';
import { sql } from 'kysely';
import type { IntakeDeps } from './deps.ts';

type Check = () => Promise<unknown>;

async function probe(checks: Readonly<Record<string, Check>>) {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      const ok = await Promise.race([
        check().then(
          () => true,
          () => false,
        ),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000).unref()),
      ]);
      return [name, ok ? 'ok' : 'unreachable'] as const;
    }),
  );
  const dependencies = Object.fromEntries(entries);
  const healthy = entries.every(([, state]) => state === 'ok');
  return { healthy, body: { status: healthy ? 'healthy' : 'unhealthy', dependencies } };
}

/**
 * Liveness; readiness (what a submission needs: NATS, S3, Redis — not Postgres, so a load balancer keeps
 * sending submissions while the read model's database is down); health (every dependency). Each
 * dependency answers `ok` or `unreachable`, 503 when one is down.
 */
export function healthApi({ db, bus, storage, redis }: IntakeDeps) {
  const submissions: Record<string, Check> = {
    redis: () => redis.ping(),
    nats: () => bus.nc.flush(),
    storage: () => storage.ping(),
  };
  const everything: Record<string, Check> = { database: () => sql`select 1`.execute(db), ...submissions };
  const report = async (
    c: { json: (body: unknown, status: 200 | 503) => Response },
    checks: Readonly<Record<string, Check>>,
  ) => {
    const { healthy, body } = await probe(checks);
    return c.json(body, healthy ? 200 : 503);
  };
  return new Hono()
    .get('/livez', (c) => c.json({ status: 'alive' }))
    .get('/readyz', (c) => report(c, submissions))
    .get('/health', (c) => report(c, everything));
}
