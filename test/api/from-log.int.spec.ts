import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { type Harness, startHarness, waitFor } from '../support/harness.ts';
import { samplePng } from '../support/images.ts';
import { post } from './support/http.ts';
import { download, getJob, type JobBody, settledJob } from './support/jobs.ts';

/** The body without what is signed afresh on every read. */
const comparable = (body: JobBody) => ({
  ...body,
  result_urls: Object.keys(body.result_urls).sort(),
  archive_url: body.archive_url === null ? null : 'signed',
});

describe('a job the read model has not caught up with is read from its events, links included', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    h.start('planner', 'dispatcher', 'advisories', 'converter'); // no projections yet
  });
  after(() => h.close());

  it('never reports COMPLETED without its links, and says exactly what the read model says later', async () => {
    const response = await post(
      h.app,
      { bytes: await samplePng(), name: 'log.png' },
      { operations: '["webp","avif"]' },
    );
    assert.equal(response.status, 202);
    const { job_id: jobId } = (await response.json()) as { job_id: string };
    const fromLog = await waitFor(
      () => getJob(h, jobId),
      (body) => body.status === 'COMPLETED',
      30_000,
    );
    assert.deepEqual(Object.keys(fromLog.result_urls).sort(), ['avif', 'webp']);
    assert.ok(fromLog.archive_url, 'two outputs: a ZIP');
    const webp = await download(fromLog.result_urls.webp ?? '');
    assert.equal((await sharp(webp.bytes).metadata()).format, 'webp');
    assert.equal(fromLog.steps.length, 3);
    assert.ok(fromLog.steps.every((step) => step.status === 'succeeded' && step.output !== null));

    h.start('projections');
    const fromReadModel = await settledJob(h, jobId);
    assert.deepEqual(comparable(fromReadModel), comparable(fromLog));
  });

  it('answers 404 for a job that does not exist in either', async () => {
    const response = await h.app.request('/api/jobs/00000000-0000-4000-8000-000000000000');
    assert.equal(response.status, 404);
  });
});
