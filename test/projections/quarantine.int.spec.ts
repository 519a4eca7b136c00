import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { post } from '../api/support/http.ts';
import { download, runJob } from '../api/support/jobs.ts';
import { type Harness, startHarness, waitFor } from '../support/harness.ts';
import { samplePng } from '../support/images.ts';
import { appendJob } from '../support/jobs.ts';

describe('an event the read model cannot store does not stop it for everybody', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    h.start();
  });
  after(() => h.close());

  it('quarantines it with the reason, and later jobs are projected and downloadable', async () => {
    // Valid for the contract, refused by Postgres jsonb ("unsupported Unicode escape sequence").
    const poison = await appendJob(h, {
      image: await samplePng(),
      name: 'poison.png',
      operations: ['webp'],
      operationParams: { webp: { x: '\u0000' } },
    });
    const job = await runJob(h, { bytes: await samplePng(), name: 'normal.png' }, { operations: '["webp"]' });
    assert.equal(job.status, 'COMPLETED', job.error_message ?? '');
    const webp = job.result_urls.webp;
    assert.ok(webp, JSON.stringify(job));
    assert.equal((await sharp((await download(webp)).bytes).metadata()).format, 'webp');

    const quarantined = await waitFor(
      () => h.db.selectFrom('projection_quarantine').selectAll().execute(),
      (rows) => rows.length > 0,
      10_000,
    );
    // Every event that carries the parameters (submitted, planned, dispatched) is set aside; nothing else.
    assert.ok(
      quarantined.every((row) => row.job_id === poison),
      JSON.stringify(quarantined),
    );
    assert.ok(quarantined.some((row) => row.type === 'JobSubmitted'));
    for (const row of quarantined) assert.match(row.error, /unicode/i);
  });

  it('a NUL in operation_params over HTTP never blocks the next job', async () => {
    const image = { bytes: await samplePng(), name: 'nul.png' };
    const response = await post(h.app, image, {
      operations: '["webp"]',
      operation_params: JSON.stringify({ webp: { x: '\u0000' } }),
    });
    assert.ok(response.status < 500, `no 5xx for a NUL (${response.status})`);
    const job = await runJob(h, { bytes: await samplePng(), name: 'after.png' }, { operations: '["webp"]' });
    assert.equal(job.status, 'COMPLETED', job.error_message ?? '');
    assert.ok(job.result_urls.webp);
  });
});
