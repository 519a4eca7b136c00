import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { startProxy } from '../test/faults/support/proxy.ts';
import { createDb } from './database.ts';

// A connection that dies while a query runs on it (Postgres restarted, a network cut) fails that query;
// it must never crash the process (pg emits `error` on a checked-out client, and nobody else listens).
describe('a Postgres connection cut mid-query', () => {
  it('rejects the query, and the next query works once Postgres is back', async () => {
    const proxy = await startProxy(5432);
    const url = `postgres://root@127.0.0.1:${proxy.port}/postgres`;
    const reported: Error[] = [];
    const db = createDb(url, 2, (error) => reported.push(error));
    try {
      await sql`select 1`.execute(db);
      const running = sql`select pg_sleep(5)`.execute(db);
      const inTransaction = db.transaction().execute(async (trx) => sql`select pg_sleep(5)`.execute(trx));
      const outcomes = Promise.allSettled([running, inTransaction]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      proxy.down();
      assert.deepEqual(
        (await outcomes).map((outcome) => outcome.status),
        ['rejected', 'rejected'],
      );
      proxy.up();
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db);
      assert.equal(rows[0]?.one, 1);
    } finally {
      await db.destroy().catch(() => {});
      await proxy.close();
    }
  });
});
