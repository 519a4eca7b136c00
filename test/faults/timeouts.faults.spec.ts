import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb } from '../../projections/database.ts';
import { readInfraConfig } from '../../shared/config/infra.ts';
import { Storage } from '../../shared/storage/storage.ts';
import { freshEnv } from '../support/env.ts';
import { TEST_S3_ENDPOINT } from '../support/moto.ts';
import { startProxy, type TcpProxy } from './support/proxy.ts';

/** How long `promise` takes to settle, and whether it failed. */
async function settle(promise: Promise<unknown>): Promise<{ ms: number; failed: boolean }> {
  const started = Date.now();
  const failed = await promise.then(
    () => false,
    () => true,
  );
  return { ms: Date.now() - started, failed };
}

describe('every S3 and Postgres call has a deadline', () => {
  let s3: TcpProxy;
  let pg: TcpProxy;
  before(async () => {
    s3 = await startProxy(Number(new URL(TEST_S3_ENDPOINT).port));
    pg = await startProxy(5432);
    s3.stall();
    pg.stall();
  });
  after(async () => {
    await s3.close();
    await pg.close();
  });

  it('an S3 server that accepts and never answers fails the request instead of hanging', async () => {
    const infra = readInfraConfig(
      freshEnv({ S3_ENDPOINT: `http://127.0.0.1:${s3.port}`, S3_REQUEST_TIMEOUT_MS: '500' }),
    );
    const storage = new Storage(infra.s3);
    try {
      const { ms, failed } = await settle(storage.get('raw/none/source.png'));
      assert.ok(failed);
      assert.ok(ms < 10_000, `failed after ${ms} ms (3 attempts of 500 ms and back-off)`);
    } finally {
      storage.destroy();
    }
  });

  it('a Postgres that accepts and never answers fails the query instead of hanging', async () => {
    const db = createDb(`postgres://root@127.0.0.1:${pg.port}/postgres`, 1, () => {}, {
      connectTimeoutMs: 500,
      statementTimeoutMs: 500,
    });
    try {
      const { ms, failed } = await settle(sql`select 1`.execute(db));
      assert.ok(failed);
      assert.ok(ms < 5_000, `failed after ${ms} ms`);
    } finally {
      await db.destroy();
    }
  });
});
