import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { type Harness, startHarness } from '../support/harness.ts';
import { samplePng } from '../support/images.ts';
import { expectError, post } from './support/http.ts';
import { download, runJob, zipEntries } from './support/jobs.ts';
import { EXPECTED_EXIF, photoWithExif } from './support/photos.ts';

/** The reference contract, exactly: results, resize sizes and download names of finished jobs. */
describe('the reference contract on finished jobs', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    h.start();
  });
  after(() => h.close());

  it('keeps EXIF out of result_urls: metadata in the body, the JSON at metadata_url and in the ZIP', async () => {
    const photo = { bytes: await photoWithExif(), name: 'cam.jpg' };
    const only = await runJob(h, photo, { operations: '["metadata"]' });
    assert.equal(only.status, 'COMPLETED', only.error_message ?? '');
    assert.deepEqual(only.result_urls, {});
    assert.deepEqual(only.metadata, EXPECTED_EXIF);
    assert.equal(only.archive_url, null);
    const both = await runJob(h, photo, { operations: '["webp","metadata"]' });
    assert.equal(both.status, 'COMPLETED', both.error_message ?? '');
    assert.deepEqual(Object.keys(both.result_urls), ['webp']);
    assert.deepEqual(both.metadata, EXPECTED_EXIF);
    const json = await download(both.metadata_url ?? '');
    assert.deepEqual(JSON.parse(json.bytes.toString()), EXPECTED_EXIF);
    assert.equal(json.disposition, 'attachment; filename="pixtools_metadata_cam.json"');
    const entries = await zipEntries((await download(both.archive_url ?? '')).bytes);
    assert.deepEqual(entries.map((entry) => entry.name).sort(), [
      'pixtools_metadata_cam.json',
      'pixtools_webp_cam.webp',
    ]);
  });

  it('resizes to exactly width × height by default, and offers the other fits additively', async () => {
    const source = { bytes: await samplePng(64, 32), name: 'wide.png' };
    const exact = await runJob(h, source, {
      operations: '["webp"]',
      operation_params: '{"webp":{"resize":{"width":20,"height":5}}}',
    });
    const meta = await sharp((await download(exact.result_urls.webp ?? '')).bytes).metadata();
    assert.deepEqual([meta.width, meta.height], [20, 5]);
    const box = { width: 20, height: 5 };
    const fits = {
      fill: [20, 5],
      inside: [10, 5],
      cover: [20, 5],
      contain: [20, 5],
      outside: [20, 10],
    } as const;
    const pipeline = Object.keys(fits).map((fit) => ({
      id: fit,
      op: 'webp',
      input: 'source',
      params: { resize: { ...box, fit, ...(fit === 'cover' ? { position: 'attention' } : {}) } },
    }));
    const job = await runJob(h, source, { operations: '["webp"]', pipeline: JSON.stringify(pipeline) });
    assert.equal(job.status, 'COMPLETED', job.error_message ?? '');
    for (const [fit, size] of Object.entries(fits)) {
      const out = await sharp((await download(job.result_urls[fit] ?? '')).bytes)
        .raw()
        .toBuffer({ resolveWithObject: true });
      assert.deepEqual([out.info.width, out.info.height], size, fit);
      if (fit === 'contain') {
        // letterboxed: the sides are transparent, the middle is the image
        assert.equal(out.info.channels, 4);
        assert.equal(out.data[3], 0, 'left edge transparent');
        assert.equal(out.data[(2 * 20 + 10) * 4 + 3], 255, 'centre opaque');
      }
    }
    const png = { bytes: source.bytes, name: 'p.png' };
    await expectError(
      post(h.app, png, {
        operations: '["webp"]',
        operation_params: '{"webp":{"resize":{"width":5,"fit":"squash"}}}',
      }),
      422,
      "operation_params['webp'] resize fit must be one of fill, inside, cover, contain, outside",
    );
    await expectError(
      post(h.app, png, {
        operations: '["webp"]',
        operation_params: '{"webp":{"resize":{"width":5,"height":5,"position":"north"}}}',
      }),
      422,
      `operation_params['webp'] resize position needs fit "cover" or "contain"`,
    );
  });

  it('completes jobs whatever the file is called; downloads carry an RFC 6266 name, never a path', async () => {
    const bytes = await samplePng();
    const cases = [
      [
        '日本.png',
        `attachment; filename="pixtools_webp___.webp"; filename*=UTF-8''pixtools_webp_%E6%97%A5%E6%9C%AC.webp`,
      ],
      [
        'ü\u0007.png',
        `attachment; filename="pixtools_webp_u.webp"; filename*=UTF-8''pixtools_webp_%C3%BC.webp`,
      ],
      [
        `${'../'.repeat(30)}${'n'.repeat(300)}.png`,
        `attachment; filename="pixtools_webp_${'n'.repeat(101)}.webp"`,
      ],
      ['C:\\Users\\me\\photo.png', 'attachment; filename="pixtools_webp_photo.webp"'],
    ] as const;
    for (const [name, disposition] of cases) {
      const job = await runJob(h, { bytes, name }, { operations: '["webp","avif"]' });
      assert.equal(job.status, 'COMPLETED', `${JSON.stringify(name)}: ${job.error_message}`);
      const webp = await download(job.result_urls.webp ?? '');
      assert.equal(webp.disposition, disposition, JSON.stringify(name));
      assert.equal((await sharp(webp.bytes).metadata()).format, 'webp');
      const zip = await zipEntries((await download(job.archive_url ?? '')).bytes);
      for (const entry of zip) assert.doesNotMatch(entry.name, /[/\\\p{Cc}]/u, entry.name);
    }
  });
});
