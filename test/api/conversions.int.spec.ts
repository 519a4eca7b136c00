import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { type Harness, startHarness } from '../support/harness.ts';
import { sampleJpeg, samplePng } from '../support/images.ts';
import { appendJob } from '../support/jobs.ts';
import { download, runJob, settledJob, zipEntries } from './support/jobs.ts';
import { EXPECTED_EXIF, photoWithExif, truncatedPng } from './support/photos.ts';

describe('jobs end to end: conversions, EXIF, failures and the ZIP bundle', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    h.start();
  });
  after(() => h.close());

  it('turns a PNG into JPEG, WebP and AVIF whose bytes decode as such, plus a ZIP of all three', async () => {
    const job = await runJob(
      h,
      { bytes: await samplePng(), name: 'holiday.png' },
      { operations: '["jpg","webp","avif"]' },
    );
    assert.equal(job.status, 'COMPLETED', job.error_message ?? '');
    const expected = { jpg: ['jpeg', 'jpg'], webp: ['webp', 'webp'], avif: ['heif', 'avif'] } as const;
    for (const [op, [format, ext]] of Object.entries(expected)) {
      const { bytes, disposition } = await download(job.result_urls[op] ?? '');
      const meta = await sharp(bytes).metadata();
      assert.equal(meta.format, format, op);
      if (op === 'avif') assert.equal(meta.compression, 'av1');
      assert.deepEqual([meta.width, meta.height], [64, 48]);
      assert.equal(disposition, `attachment; filename="pixtools_${op}_holiday.${ext}"`);
    }
    const zip = await download(job.archive_url ?? '');
    assert.equal(zip.disposition, 'attachment; filename="pixtools_bundle_holiday.zip"');
    const entries = await zipEntries(zip.bytes);
    assert.deepEqual(entries.map((entry) => entry.name).sort(), [
      'pixtools_avif_holiday.avif',
      'pixtools_jpg_holiday.jpg',
      'pixtools_webp_holiday.webp',
    ]);
    for (const entry of entries) assert.ok((await sharp(entry.bytes).metadata()).width === 64, entry.name);
    assert.deepEqual(
      job.steps.map((step) => [step.id, step.status]),
      [
        ['jpg', 'succeeded'],
        ['webp', 'succeeded'],
        ['avif', 'succeeded'],
        ['bundle', 'succeeded'],
      ],
    );
    assert.ok(job.steps.every((step) => step.duration_ms !== null && step.started_at && step.finished_at));
    assert.ok(Date.parse(job.expires_at) > Date.parse(job.created_at));
  });

  it('turns a JPEG into a PNG; a single output gets no ZIP', async () => {
    const job = await runJob(h, { bytes: await sampleJpeg(), name: 'cat.jpeg' }, { operations: '["png"]' });
    assert.equal(job.status, 'COMPLETED');
    assert.equal((await sharp((await download(job.result_urls.png ?? '')).bytes).metadata()).format, 'png');
    assert.equal(job.archive_url, null);
  });

  it('applies EXIF orientation 6: the output comes out rotated', async () => {
    const job = await runJob(
      h,
      { bytes: await photoWithExif({ orientation: 6 }), name: 'turned.jpg' },
      { operations: '["webp"]' },
    );
    const meta = await sharp((await download(job.result_urls.webp ?? '')).bytes).metadata();
    assert.deepEqual([meta.width, meta.height], [48, 64]);
    assert.ok((meta.orientation ?? 1) === 1);
  });

  it('resizes by width alone, keeping the aspect ratio', async () => {
    const job = await runJob(
      h,
      { bytes: await samplePng(200, 100), name: 'wide.png' },
      {
        operations: '["webp"]',
        operation_params: '{"webp":{"resize":{"width":50}}}',
      },
    );
    const meta = await sharp((await download(job.result_urls.webp ?? '')).bytes).metadata();
    assert.deepEqual([meta.width, meta.height], [50, 25]);
    assert.deepEqual(job.steps[0]?.output, {
      format: 'webp',
      bytes: job.steps[0]?.output?.bytes,
      width: 50,
      height: 25,
    });
  });

  it('completes a metadata-only job with all eight EXIF fields', async () => {
    const job = await runJob(
      h,
      { bytes: await photoWithExif(), name: 'exif.jpg' },
      { operations: '["metadata"]' },
    );
    assert.equal(job.status, 'COMPLETED');
    assert.deepEqual(job.metadata, EXPECTED_EXIF);
    // as the reference: no link in result_urls; the JSON is the additive metadata_url; one output, no ZIP
    assert.deepEqual(job.result_urls, {});
    assert.deepEqual(JSON.parse((await download(job.metadata_url ?? '')).bytes.toString()), EXPECTED_EXIF);
    assert.equal(job.archive_url, null);
  });

  it('fails a corrupt PNG once, with a clear message, never retried', async () => {
    const job = await runJob(
      h,
      { bytes: await truncatedPng(), name: 'broken.png' },
      { operations: '["webp"]' },
    );
    assert.equal(job.status, 'FAILED');
    assert.match(job.error_message ?? '', /^Step "webp" \(webp\) failed: cannot decode image: .*read error/);
    const history = await h.history(job.job_id);
    assert.equal(history.filter((event) => event.type === 'StepStarted').length, 1);
    assert.equal(history.filter((event) => event.type === 'StepRetrying').length, 0);
  });

  it('keeps the outputs of steps that succeeded downloadable when another step fails', async () => {
    // Submitted straight to the log, past intake's validation, so that one step is bound to fail.
    const jobId = await appendJob(h, {
      image: await samplePng(),
      name: 'half.png',
      operations: ['webp', 'jpg'],
      // an output over the converter's pixel limit (intake would have refused it with a 422)
      operationParams: { jpg: { resize: { width: 20_000 } } },
    });
    await h.waitForJob(jobId, (view) => view.artifacts.length === 1);
    const job = await settledJob(h, jobId);
    assert.equal(job.status, 'FAILED');
    assert.match(job.error_message ?? '', /^Step "jpg" \(jpg\) failed: output of 20000x15000 exceeds/);
    assert.deepEqual(Object.keys(job.result_urls), ['webp']);
    assert.equal((await sharp((await download(job.result_urls.webp ?? '')).bytes).metadata()).format, 'webp');
  });
});
