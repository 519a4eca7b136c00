import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { READ_MODEL_TABLES } from '../projections/database.ts';
import { rebuild } from '../projections/projector.ts';
import { type Harness, startHarness } from './support/harness.ts';
import { samplePng } from './support/images.ts';
import { appendJob } from './support/jobs.ts';

describe('projections rebuild from the log', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    h.start();
  });
  after(() => h.close());

  async function snapshot() {
    const tables: Record<string, unknown[]> = {};
    for (const table of READ_MODEL_TABLES) {
      const result = await sql`select * from ${sql.table(table)} order by 1, 2`.execute(h.db);
      tables[table] = result.rows;
    }
    return tables;
  }

  it('drops every read model, replays the stream and yields identical rows', async () => {
    const png = await samplePng();
    const ids: string[] = [];
    for (const operations of ['["webp"]', '["jpg","webp"]', '["avif"]']) {
      const response = await h.submit(png, 'r.png', { operations });
      ids.push(((await response.json()) as { job_id: string }).job_id);
    }
    // a stored source that is not an image: its step fails deterministically, so the log holds failures too
    ids.push(
      await appendJob(h, { image: Buffer.from('not really a png'), name: 'bad.png', operations: ['webp'] }),
    );
    for (const id of ids) await h.waitForJob(id, (view) => ['COMPLETED', 'FAILED'].includes(view.job.status));
    // let the projection catch up with the very last event
    const info = await h.bus.jsm.streams.info(h.bus.names.eventsStream);
    await waitCheckpoint(h, info.state.last_seq);

    const before = await snapshot();
    assert.equal((before.jobs ?? []).length, 4);
    assert.ok((before.job_events ?? []).length >= 4 * 6);
    const statuses = (before.jobs as { status: string }[]).map((job) => job.status).sort();
    assert.deepEqual(statuses, ['COMPLETED', 'COMPLETED', 'COMPLETED', 'FAILED']);

    await h.stop('projections');
    const result = await rebuild(h.db, h.bus, h.log);
    assert.equal(result.events, info.state.last_seq);
    assert.deepEqual(await snapshot(), before);
  });
});

async function waitCheckpoint(h: Harness, seq: number) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const row = await h.db.selectFrom('projection_checkpoints').select('seq').executeTakeFirst();
    if ((row?.seq ?? 0) >= seq) return;
    if (Date.now() > deadline) throw new Error(`projection stuck below ${seq}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
