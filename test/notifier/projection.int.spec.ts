import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { rebuild } from '../../projections/projector.ts';
import { applyWebhookEvent } from '../../projections/webhooks.ts';
import { waitFor } from '../support/harness.ts';
import { always, type Sink, startSink } from './support/sink.ts';
import { type NotifierSystem, startNotifierSystem } from './support/system.ts';

describe('webhook read models: derived from events only', () => {
  let s: NotifierSystem;
  let sink: Sink;
  const jobs: string[] = [];
  before(async () => {
    sink = await startSink({ '/down': always(500), '/flaky': (nth) => ({ status: nth === 1 ? 502 : 200 }) });
    // Every sink here is on one host: a breaker opened by the failing ones would now delay (not consume)
    // the others' attempts for its half-open time, which is not what this test is about.
    s = await startNotifierSystem({ WEBHOOK_RETRY_DELAYS_MS: '200,200', WEBHOOK_BREAKER_THRESHOLD: '100' });
    jobs.push(await s.completeJob(sink.url('/ok')));
    jobs.push(await s.completeJob(sink.url('/down')));
    jobs.push(await s.completeJob(sink.url('/flaky')));
    jobs.push(await s.completeJob(sink.url('/down'), 'failed'));
    for (const jobId of jobs) {
      await waitFor(
        () => s.history(jobId),
        (events) => events.some((e) => e.type === 'WebhookDelivered' || e.type === 'WebhookFailed'),
        15_000,
      );
    }
    await s.stopNotifier();
    await caughtUp();
  });
  after(async () => {
    await s.close();
    await sink.close();
  });

  async function caughtUp() {
    const info = await s.h.bus.jsm.streams.info(s.h.bus.names.eventsStream);
    await waitFor(
      () => s.h.db.selectFrom('projection_checkpoints').select('seq').executeTakeFirst(),
      (row) => (row?.seq ?? 0) >= info.state.last_seq,
      15_000,
    );
  }

  async function snapshot() {
    const tables: Record<string, unknown[]> = {};
    for (const table of ['jobs', 'webhook_deliveries']) {
      tables[table] = (await sql`select * from ${sql.table(table)} order by 1`.execute(s.h.db)).rows;
    }
    return tables;
  }

  it('folds each outcome into webhook_deliveries and the job row', async () => {
    const rows = await s.h.db.selectFrom('webhook_deliveries').selectAll().execute();
    const byJob = new Map(rows.map((row) => [row.job_id, row]));
    const summary = jobs.map((jobId) => {
      const row = byJob.get(jobId);
      return [row?.status, row?.attempts, row?.status_code ?? null];
    });
    assert.deepEqual(summary, [
      ['delivered', 1, 200],
      ['failed', 3, null],
      ['delivered', 2, 200],
      ['failed', 3, null],
    ]);
    const statuses = await s.h.db
      .selectFrom('jobs')
      .select(['job_id', 'status', 'webhook_status'])
      .where('job_id', 'in', jobs)
      .execute();
    const byId = new Map(statuses.map((job) => [job.job_id, [job.status, job.webhook_status]]));
    assert.deepEqual(
      jobs.map((jobId) => byId.get(jobId)),
      [
        ['COMPLETED', 'delivered'],
        ['COMPLETED_WEBHOOK_FAILED', 'failed'],
        ['COMPLETED', 'delivered'],
        ['FAILED', 'failed'],
      ],
    );
  });

  it('the same webhook events applied twice leave the rows unchanged', async () => {
    const before = await snapshot();
    await s.h.db.transaction().execute(async (trx) => {
      for (const jobId of jobs) {
        for (const { seq, event } of (await s.h.bus.log.history(jobId)).events) {
          const { type } = event;
          if (type === 'WebhookAttempted' || type === 'WebhookDelivered' || type === 'WebhookFailed') {
            await applyWebhookEvent(trx, seq, event);
          }
        }
      }
    });
    assert.deepEqual(await snapshot(), before);
  });

  it('dropping the tables and replaying the stream yields identical rows', async () => {
    const before = await snapshot();
    await s.h.stop('projections');
    await rebuild(s.h.db, s.h.bus, s.h.log);
    assert.deepEqual(await snapshot(), before);
  });
});
