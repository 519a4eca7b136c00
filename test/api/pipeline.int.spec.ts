import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { type Harness, startHarness } from '../support/harness.ts';
import { samplePng } from '../support/images.ts';
import { download, runJob, zipEntries } from './support/jobs.ts';

const describeEvent = (event: { type: string; data: unknown }) => {
  const { stepId } = event.data as { stepId?: string };
  return stepId === undefined ? event.type : `${event.type}:${stepId}`;
};

// The denoise step runs on the ML queue; here a test stand-in (copies the image) consumes it, so the
// DAG itself is what is under test. `test/denoiser` runs the real network.
describe('a pipeline DAG: denoise → resize → webp, and the denoised image → avif', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    h.start();
    h.start('denoise-standin');
  });
  after(() => h.close());

  it('runs the chain and the branch in one job, the branches in parallel, then bundles the results', async () => {
    const pipeline = [
      { id: 'clean', op: 'denoise', input: 'source', params: {} },
      { id: 'small', op: 'resize', input: 'clean', params: { width: 32 } },
      { id: 'web', op: 'webp', input: 'small', params: { quality: 75 } },
      { id: 'av', op: 'avif', input: 'clean', params: {} },
    ];
    const job = await runJob(
      h,
      { bytes: await samplePng(), name: 'street.png' },
      {
        operations: '["denoise","webp","avif"]',
        pipeline: JSON.stringify(pipeline),
      },
    );
    assert.equal(job.status, 'COMPLETED', job.error_message ?? '');
    assert.deepEqual(job.operations, ['denoise', 'webp', 'avif']);
    assert.deepEqual(
      job.steps.map((step) => [step.id, step.operation, step.result, step.status]),
      [
        ['clean', 'denoise', null, 'succeeded'],
        ['small', 'resize', null, 'succeeded'],
        ['web', 'webp', 'web', 'succeeded'],
        ['av', 'avif', 'av', 'succeeded'],
        ['bundle', 'bundle', null, 'succeeded'],
      ],
    );
    assert.deepEqual(Object.keys(job.result_urls).sort(), ['av', 'web']);
    const web = await sharp((await download(job.result_urls.web ?? '')).bytes).metadata();
    assert.deepEqual([web.format, web.width, web.height], ['webp', 32, 24]);
    const av = await sharp((await download(job.result_urls.av ?? '')).bytes).metadata();
    assert.deepEqual([av.format, av.width, av.height], ['heif', 64, 48]);
    assert.deepEqual(job.steps[1]?.output, {
      format: 'png',
      bytes: job.steps[1]?.output?.bytes,
      width: 32,
      height: 24,
    });
    const entries = await zipEntries((await download(job.archive_url ?? '')).bytes);
    assert.deepEqual(entries.map((entry) => entry.name).sort(), [
      'pixtools_avif_street.avif',
      'pixtools_webp_street.webp',
    ]);

    const history = (await h.history(job.job_id)).map(describeEvent);
    const afterDenoise = history.indexOf('StepSucceeded:clean');
    assert.deepEqual(
      history.slice(afterDenoise + 1, afterDenoise + 3),
      ['StepDispatched:small', 'StepDispatched:av'],
      'both branches are dispatched by the same decision, as soon as the denoised image exists',
    );
    const bundle = history.indexOf('StepDispatched:bundle');
    assert.ok(bundle > history.indexOf('StepSucceeded:web') && bundle > history.indexOf('StepSucceeded:av'));
  });
});
