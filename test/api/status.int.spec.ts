import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NewEvent } from '../../shared/events/events.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { samplePng } from '../support/images.ts';
import { runJob } from './support/jobs.ts';
import { truncatedPng } from './support/photos.ts';

describe('statuses only move forward', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    h.start();
  });
  after(() => h.close());

  /** Appends late events with fresh ids (past de-duplication), as a slow or replaying writer would. */
  async function late(jobId: string, events: NewEvent[]) {
    const time = new Date().toISOString();
    let n = 0;
    await h.bus.log.append(
      { jobId, correlationId: jobId, causationId: null, time },
      events,
      (event) => `${jobId}:late:${event.type}:${n++}`,
    );
    const info = await h.bus.jsm.streams.info(h.bus.names.eventsStream);
    await waitCheckpoint(h, info.state.last_seq);
  }

  it('a completed job stays COMPLETED whatever arrives late', async () => {
    const job = await runJob(h, { bytes: await samplePng(), name: 'done.png' }, { operations: '["webp"]' });
    assert.equal(job.status, 'COMPLETED');
    await late(job.job_id, [
      { type: 'StepStarted', data: { stepId: 'webp', attempt: 2, worker: 'late' } },
      { type: 'StepFailed', data: { stepId: 'webp', error: 'late failure', attempts: 2 } },
      { type: 'JobFailed', data: { error: 'late', failedStep: 'webp' } },
    ]);
    const view = await h.waitForJob(job.job_id, () => true);
    assert.equal(view.job.status, 'COMPLETED');
    assert.equal(view.job.error_message, null);
    assert.equal(view.steps[0]?.status, 'succeeded');
  });

  it('a failed job stays FAILED when a completion arrives late', async () => {
    const job = await runJob(h, { bytes: await truncatedPng(), name: 'cut.png' }, { operations: '["webp"]' });
    assert.equal(job.status, 'FAILED');
    await late(job.job_id, [{ type: 'JobCompleted', data: {} }]);
    assert.equal((await h.waitForJob(job.job_id, () => true)).job.status, 'FAILED');
  });
});

async function waitCheckpoint(h: Harness, seq: number) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const row = await h.db.selectFrom('projection_checkpoints').select('seq').executeTakeFirst();
    if ((row?.seq ?? 0) >= seq) return;
    if (Date.now() > deadline) throw new Error(`projection stuck below ${seq}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
