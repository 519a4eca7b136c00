import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { type Harness, startHarness } from './support/harness.ts';
import { samplePng } from './support/images.ts';

describe('a first job end to end (HTTP → planner → converter → projections)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    h.start();
  });
  after(() => h.close());

  it('turns an uploaded PNG into a WebP whose presigned URL downloads real WebP bytes', async () => {
    const response = await h.submit(await samplePng(), 'photo.png', { operations: '["webp"]' });
    assert.equal(response.status, 202);
    const body = (await response.json()) as { job_id: string; status: string };
    assert.equal(body.status, 'PENDING');
    assert.match(body.job_id, /^[0-9a-f-]{36}$/);

    await h.waitForJob(body.job_id, (view) => view.job.status === 'COMPLETED');
    const job = await (await h.app.request(`/api/jobs/${body.job_id}`)).json();
    assert.equal(job.status, 'COMPLETED');
    const url: string = job.result_urls.webp ?? '';
    assert.ok(url.startsWith(h.env.S3_ENDPOINT ?? 'missing'), url);

    const download = await fetch(url);
    assert.equal(download.status, 200);
    assert.equal(
      download.headers.get('content-disposition'),
      'attachment; filename="pixtools_webp_photo.webp"',
    );
    const bytes = Buffer.from(await download.arrayBuffer());
    const meta = await sharp(bytes).metadata();
    assert.equal(meta.format, 'webp');
    assert.equal(meta.width, 64);
    assert.equal(meta.height, 48);

    const types = (await h.history(body.job_id)).map((event) => event.type);
    assert.deepEqual(types, [
      'JobSubmitted',
      'JobPlanned',
      'StepDispatched',
      'StepStarted',
      'StepSucceeded',
      'JobCompleted',
    ]);
  });
});
