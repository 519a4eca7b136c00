import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { type Harness, startHarness } from '../support/harness.ts';
import { sampleJpeg, samplePng } from '../support/images.ts';
import { appendJob } from '../support/jobs.ts';
import { CAMERA_SUMMARY, cameraJpeg, corruptPng, orientedJpeg } from './support/images.ts';
import { download, finished, succeeded } from './support/jobs.ts';

describe('converter steps through the whole system', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    h.start();
  });
  after(() => h.close());

  it('["jpg","webp","avif"] on a PNG and ["png"] on a JPEG decode in the requested formats', async () => {
    const fromPng = await appendJob(h, {
      image: await samplePng(),
      name: 'a.png',
      operations: ['jpg', 'webp', 'avif'],
    });
    const fromJpeg = await appendJob(h, { image: await sampleJpeg(), name: 'b.jpg', operations: ['png'] });
    const pngHistory = await finished(h, fromPng, 'COMPLETED');
    for (const [op, decoded] of [
      ['jpg', 'jpeg'],
      ['webp', 'webp'],
      ['avif', 'heif'],
    ] as const) {
      const step = succeeded(pngHistory, op);
      const meta = await sharp(await download(h, step.output)).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], [decoded, 64, 48], op);
      assert.equal(step.output?.filename, `pixtools_${op}_a.${op}`);
    }
    const png = succeeded(await finished(h, fromJpeg, 'COMPLETED'), 'png');
    assert.equal((await sharp(await download(h, png.output)).metadata()).format, 'png');
  });

  it('a JPEG with EXIF orientation 6 comes out rotated', async () => {
    const jobId = await appendJob(h, {
      image: await orientedJpeg(64, 48),
      name: 'o.jpg',
      operations: ['webp'],
    });
    const step = succeeded(await finished(h, jobId, 'COMPLETED'), 'webp');
    assert.deepEqual([step.output?.width, step.output?.height], [48, 64]);
    const meta = await sharp(await download(h, step.output)).metadata();
    assert.deepEqual([meta.width, meta.height], [48, 64]);
  });

  it('resize with a width only keeps the aspect ratio', async () => {
    const jobId = await appendJob(h, {
      image: await samplePng(64, 48),
      name: 'r.png',
      operations: ['jpg'],
      operationParams: { jpg: { quality: 70, resize: { width: 32 } } },
    });
    const step = succeeded(await finished(h, jobId, 'COMPLETED'), 'jpg');
    const meta = await sharp(await download(h, step.output)).metadata();
    assert.deepEqual([meta.width, meta.height], [32, 24]);
  });

  it('a metadata-only job completes with all eight fields, also stored as a JSON download', async () => {
    const jobId = await appendJob(h, {
      image: await cameraJpeg(),
      name: 'cam.jpg',
      operations: ['metadata'],
    });
    const step = succeeded(await finished(h, jobId, 'COMPLETED'), 'metadata');
    assert.deepEqual(step.metadata, CAMERA_SUMMARY);
    assert.equal(step.output?.filename, 'pixtools_metadata_cam.json');
    assert.equal(step.output?.contentType, 'application/json');
    assert.deepEqual(JSON.parse((await download(h, step.output)).toString()), CAMERA_SUMMARY);
  });

  it('a corrupt PNG fails with a message after a single attempt', async () => {
    const jobId = await appendJob(h, { image: await corruptPng(), name: 'bad.png', operations: ['webp'] });
    const view = await h.waitForJob(jobId, (v) => v.job.status === 'FAILED', 30_000);
    assert.match(view.job.error_message ?? '', /Step "webp" \(webp\) failed: cannot decode image: /);
    const types = (await h.history(jobId)).map((event) => event.type);
    assert.equal(types.filter((type) => type === 'StepStarted').length, 1);
    assert.equal(types.filter((type) => type === 'StepRetrying').length, 0);
  });

  it('an output above the pixel limit is refused, not attempted again', async () => {
    const jobId = await appendJob(h, {
      image: await samplePng(64, 48),
      name: 'huge.png',
      operations: ['webp'],
      operationParams: { webp: { resize: { width: 20_000 } } },
    });
    const view = await h.waitForJob(jobId, (v) => v.job.status === 'FAILED', 30_000);
    assert.match(view.job.error_message ?? '', /output of 20000x15000 exceeds the limit of 100000000 pixels/);
  });

  it('a pipeline resize → webp completes with a 50-px-wide WebP', async () => {
    const jobId = await appendJob(h, {
      image: await samplePng(64, 48),
      name: 'p.png',
      pipeline: [
        { id: 'd', op: 'resize', params: { width: 50 }, inputs: ['source'], result: null },
        { id: 'w', op: 'webp', params: {}, inputs: ['d'], result: 'w' },
      ],
    });
    const history = await finished(h, jobId, 'COMPLETED');
    const resized = succeeded(history, 'd');
    assert.deepEqual(
      [resized.output?.format, resized.output?.width, resized.output?.height],
      ['png', 50, 38],
    );
    const meta = await sharp(await download(h, succeeded(history, 'w').output)).metadata();
    assert.deepEqual([meta.format, meta.width], ['webp', 50]);
  });
});
