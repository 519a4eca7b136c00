import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from '../support/harness.ts';
import { samplePng } from '../support/images.ts';
import { expectAccepted, expectError, post, type Upload } from './support/http.ts';
import { pngClaiming } from './support/photos.ts';

const step = (id: string, op: string, input: string, params: object = {}) => ({ id, op, input, params });

describe('POST /api/process: the pipeline DAG and the size limits', () => {
  let h: Harness;
  let png: Upload;
  const send = (pipeline: unknown, operations = '["webp"]') =>
    post(h.app, png, {
      operations,
      pipeline: typeof pipeline === 'string' ? pipeline : JSON.stringify(pipeline),
    });
  before(async () => {
    h = await startHarness();
    png = { bytes: await samplePng(), name: 'p.png' };
  });
  after(() => h.close());

  it('accepts a chain with a branch: denoise → resize → webp, and denoise → avif', async () => {
    await expectAccepted(
      send([
        step('clean', 'denoise', 'source'),
        step('small', 'resize', 'clean', { width: 32 }),
        step('web', 'webp', 'small', { quality: 70 }),
        step('av', 'avif', 'clean'),
      ]),
    );
  });

  it('refuses a malformed pipeline with a 422 that names the step', async () => {
    await expectError(send('[{'), 422, /^Invalid pipeline JSON: /);
    await expectError(send({ id: 'a' }), 422, 'Invalid pipeline: expected a JSON array of steps');
    await expectError(
      send([step('a', 'sharpen', 'source')]),
      422,
      /^Invalid pipeline: step "a" has an unknown operation "sharpen"/,
    );
    await expectError(
      send([step('a', 'webp', 'ghost')]),
      422,
      'Invalid pipeline: step "a" reads "ghost", which does not exist',
    );
    await expectError(
      send([step('a', 'resize', 'b', { width: 5 }), step('b', 'webp', 'a')]),
      422,
      /^Invalid pipeline: step "[ab]" is part of a cycle/,
    );
    const many = Array.from({ length: 21 }, (_, i) => step(`s${i}`, 'webp', 'source'));
    await expectError(send(many), 422, 'Invalid pipeline: a job has at most 20 steps');
    await expectError(
      send([step('bundle', 'webp', 'source')]),
      422,
      'Invalid pipeline: step id "bundle" is reserved',
    );
    await expectError(
      send([{ op: 'webp', input: 'source' }]),
      422,
      /^Invalid pipeline: step 1 needs an "id"/,
    );
  });

  it('checks pipeline parameters with the same rules as operation_params', async () => {
    await expectError(
      send([step('a', 'avif', 'source', { quality: 3 })]),
      422,
      'pipeline step "a" quality is only supported for jpg/webp',
    );
    await expectError(
      send([step('r', 'resize', 'source')]),
      422,
      'pipeline step "r" resize requires width or height',
    );
    await expectError(
      send([step('r', 'resize', 'source', { width: 0 })]),
      422,
      'pipeline step "r" resize width must be > 0',
    );
    await expectError(
      send([step('same', 'png', 'source')]),
      422,
      'Cannot convert png to png - source and target formats are the same (step "same")',
    );
    // a PNG may become a PNG again after another step
    await expectAccepted(
      send([step('r', 'resize', 'source', { width: 10 }), step('p', 'png', 'r')], '["png"]'),
    );
  });

  it('refuses a decompression bomb from its header with 413, before decoding', async () => {
    const bomb = { bytes: await pngClaiming(30_000, 30_000), name: 'bomb.png' };
    await expectError(
      post(h.app, bomb, { operations: '["webp"]' }),
      413,
      'Image exceeds the 100 megapixel limit (30000x30000)',
    );
  });

  it('refuses outputs above the configured maximum with 422', async () => {
    const huge = { operations: '["avif"]', operation_params: '{"avif":{"resize":{"width":20000}}}' };
    await expectError(
      post(h.app, png, huge),
      422,
      /^Output of step "avif" would be 20000x15000 \(300000000 pixels\)/,
    );
    const wide = { operations: '["webp"]', operation_params: '{"webp":{"resize":{"width":17000}}}' };
    const panorama = { bytes: await samplePng(400, 10), name: 'pano.png' };
    await expectError(
      post(h.app, panorama, wide),
      422,
      /x425; webp images are at most 16383 pixels per side$/,
    );
    await expectError(
      send([step('big', 'resize', 'source', { height: 12_000 }), step('w', 'jpg', 'big')]),
      422,
      /^Output of step "big"/,
    );
  });
});
