import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import yauzl from 'yauzl';
import { type Harness, startHarness } from '../support/harness.ts';
import { appendJob } from '../support/jobs.ts';
import { cameraJpeg } from './support/images.ts';
import { download, finished, succeeded } from './support/jobs.ts';

describe('the bundle step', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    h.start();
  });
  after(() => h.close());

  it('streams a valid ZIP of earlier outputs, named after their downloads', async () => {
    const jobId = await appendJob(h, {
      image: await cameraJpeg(),
      name: 'holiday.jpg',
      pipeline: [
        { id: 'png', op: 'png', params: {}, inputs: ['source'], result: 'png' },
        { id: 'webp', op: 'webp', params: {}, inputs: ['source'], result: 'webp' },
        { id: 'meta', op: 'metadata', params: {}, inputs: ['source'], result: 'metadata' },
        { id: 'zip', op: 'bundle', params: {}, inputs: ['png', 'webp', 'meta'], result: null },
      ],
    });
    const step = succeeded(await finished(h, jobId, 'COMPLETED'), 'zip');
    assert.deepEqual(
      [step.output?.format, step.output?.contentType, step.output?.width, step.output?.filename],
      ['zip', 'application/zip', null, 'pixtools_bundle_holiday.zip'],
    );
    const zip = await download(h, step.output);
    assert.equal(zip.length, step.output?.bytes);
    const entries = await readZip(zip);
    assert.deepEqual([...entries.keys()].sort(), [
      'pixtools_metadata_holiday.json',
      'pixtools_png_holiday.png',
      'pixtools_webp_holiday.webp',
    ]);
    assert.equal((await sharp(entries.get('pixtools_png_holiday.png')).metadata()).format, 'png');
    assert.equal((await sharp(entries.get('pixtools_webp_holiday.webp')).metadata()).format, 'webp');
    const summary = JSON.parse(entries.get('pixtools_metadata_holiday.json')?.toString() ?? '{}');
    assert.equal(summary.camera_make, 'Canon');
  });
});

function readZip(zip: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (error, file) => {
      if (error) return reject(error);
      const entries = new Map<string, Buffer>();
      file.on('error', reject);
      file.on('end', () => resolve(entries));
      file.on('entry', (entry: yauzl.Entry) => {
        file.openReadStream(entry, (streamError, stream) => {
          if (streamError) return reject(streamError);
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => {
            entries.set(entry.fileName, Buffer.concat(chunks));
            file.readEntry();
          });
        });
      });
      file.readEntry();
    });
  });
}
