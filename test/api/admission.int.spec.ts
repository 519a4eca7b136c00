import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Queue } from '../../shared/events/operations.ts';
import { type Harness, startHarness, waitFor } from '../support/harness.ts';
import { samplePng } from '../support/images.ts';
import { post } from './support/http.ts';

// Budgets small enough to fill in a test: io 1 s at 200 ms a step (5 waiting steps fit), ml 50 s at
// 30 s a step (one waiting denoise fits). No worker runs at first, so steps stay queued.
const ENV = {
  ADMISSION_IO_MAX_WAIT_MS: '1000',
  ADMISSION_IO_SERVICE_MS: '200',
  ADMISSION_ML_MAX_WAIT_MS: '50000',
  ADMISSION_ML_SERVICE_MS: '30000',
  ADMISSION_CACHE_MS: '0',
  ADMISSION_TRANSIT_MS: '0', // each submission reads the queue afresh; nothing is in transit
};

describe('admission follows the expected wait of each queue', () => {
  let h: Harness;
  let png: Buffer;
  const submit = (operations: string) => post(h.app, { bytes: png, name: 'a.png' }, { operations });
  const waiting = (queue: Queue, atLeast: number) =>
    waitFor(
      () => h.bus.work.depth(queue),
      (depth) => depth.waiting >= atLeast,
      10_000,
    );

  before(async () => {
    h = await startHarness(ENV);
    h.start('planner', 'dispatcher', 'projections');
    png = await samplePng();
  });
  after(() => h.close());

  it('a full conversion queue refuses conversions with 429 and Retry-After, and still takes a denoise', async () => {
    for (let i = 0; i < 6; i++) assert.equal((await submit('["webp"]')).status, 202, `conversion ${i}`);
    await waiting('io', 6);
    const refused = await submit('["webp"]');
    assert.equal(refused.status, 429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1, `Retry-After ${refused.headers.get('retry-after')}`);
    assert.match(((await refused.json()) as { detail: string }).detail, /conversion queue/);
    assert.equal((await submit('["denoise"]')).status, 202, 'the ML queue is empty');
  });

  it('refuses an over-budget conversion before looking at its upload; a bad field still gets its own 4xx', async () => {
    // The io queue is still full from the test above. A file that is no image would be a 400 once
    // inspected: the 429 shows the queue was checked first, from the text fields alone.
    const notImage = await post(
      h.app,
      { bytes: Buffer.from('not an image at all'), name: 'a.png' },
      {
        operations: '["webp"]',
      },
    );
    assert.equal(notImage.status, 429);
    const badField = await submit('["webp", "no-such-operation"]');
    assert.ok(badField.status >= 400 && badField.status < 429, `status ${badField.status}`);
  });

  it('a full denoise queue refuses denoising, and conversions are taken again once their queue drains', async () => {
    assert.equal((await submit('["denoise"]')).status, 202);
    await waiting('ml', 2);
    const refused = await submit('["denoise"]');
    assert.equal(refused.status, 429);
    assert.match(((await refused.json()) as { detail: string }).detail, /denoising queue/);
    h.start('converter');
    await waitFor(
      () => h.bus.work.depth('io'),
      (depth) => depth.waiting === 0,
      30_000,
    );
    assert.equal((await submit('["webp"]')).status, 202, 'conversions do not wait behind denoising');
    assert.equal((await submit('["denoise"]')).status, 429, 'denoising still over its budget');
    // A job that needs both queues is refused while either is over its budget.
    assert.equal((await submit('["denoise","webp"]')).status, 429);
  });
});
