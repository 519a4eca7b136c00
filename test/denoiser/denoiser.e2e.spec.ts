import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { addNoise8, loadRgb8, psnr8 } from '../../services/denoiser/inference/fixtures.ts';
import { type Harness, startHarness, waitFor } from '../support/harness.ts';
import { appendJob } from '../support/jobs.ts';
import { type ServiceProcess, spawnService } from '../support/processes.ts';
import { cbsd68Dir, ffdnetWeightsDir, weightsDir } from '../support/shared-data.ts';

describe('the denoiser service', () => {
  let h: Harness;
  const denoisers: ServiceProcess[] = [];
  const startDenoiser = async () => {
    const service = spawnService('services/denoiser/main.ts', {
      ...h.env,
      DNCNN_WEIGHTS_DIR: weightsDir(),
      FFDNET_WEIGHTS_DIR: ffdnetWeightsDir(),
      DENOISER_THREADS: '1',
    });
    denoisers.push(service);
    await service.waitFor('denoiser consuming', 60_000);
    return service;
  };

  before(async () => {
    h = await startHarness({ WORK_ACK_WAIT_MS: '3000' });
    h.start();
  });
  after(async () => {
    for (const service of denoisers) await service.kill('SIGKILL');
    await h.close();
  });

  async function submit(image: Buffer, operations = '["denoise"]', params?: object) {
    const fields: Record<string, string> = { operations };
    if (params) fields.operation_params = JSON.stringify(params);
    const response = await h.submit(image, 'noisy.png', fields);
    assert.equal(response.status, 202, await response.clone().text());
    return ((await response.json()) as { job_id: string }).job_id;
  }

  async function noisyPng(width: number, height: number): Promise<Buffer> {
    const pixels = Buffer.alloc(width * height * 3);
    let seed = 7;
    for (let i = 0; i < pixels.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      pixels[i] = 96 + (seed % 64);
    }
    return sharp(pixels, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer();
  }

  it('denoises a noisy photo through the whole system: a PNG much closer to the clean image', async () => {
    await startDenoiser();
    const clean = await loadRgb8(path.join(cbsd68Dir(), '101087.png'));
    const noisy = addNoise8(clean, 25, 1);
    const upload = await sharp(noisy.data, { raw: { width: noisy.width, height: noisy.height, channels: 3 } })
      .png()
      .toBuffer();
    const jobId = await submit(upload);
    const view = await h.waitForJob(jobId, (v) => ['COMPLETED', 'FAILED'].includes(v.job.status), 120_000);
    assert.equal(view.job.status, 'COMPLETED', view.job.error_message ?? '');
    const artifact = view.artifacts[0];
    assert.equal(artifact?.format, 'png');
    const output = await sharp(await h.storage.get(artifact?.key ?? ''))
      .raw()
      .toBuffer({ resolveWithObject: true });
    assert.equal(output.info.width, clean.width);
    assert.equal(output.info.height, clean.height);
    const before = psnr8(noisy.data, clean.data);
    const afterDenoise = psnr8(output.data, clean.data);
    assert.ok(afterDenoise > before + 8, `PSNR ${before.toFixed(2)} → ${afterDenoise.toFixed(2)} dB`);
  });

  it('keeps conversions flowing while the ML queue is full', async () => {
    const big = await noisyPng(800, 600);
    // the slow model, so the ML queue stays full while the conversion runs
    const blind = { denoise: { model: 'blind' } };
    const heavy = [
      await submit(big, undefined, blind),
      await submit(big, undefined, blind),
      await submit(big, undefined, blind),
    ];
    const light = await submit(await noisyPng(64, 64), '["webp"]');
    await h.waitForJob(light, (v) => v.job.status === 'COMPLETED', 30_000);
    const states = await Promise.all(
      heavy.map(async (id) => (await h.waitForJob(id, () => true)).job.status),
    );
    const unfinished = states.filter((status) => status !== 'COMPLETED');
    assert.ok(unfinished.length >= 2, `webp finished while denoise jobs were pending: ${states.join(', ')}`);
    for (const id of heavy) await h.waitForJob(id, (v) => v.job.status === 'COMPLETED', 180_000);
  });

  it('redelivers a step whose denoiser was killed mid-inference, and completes it', async () => {
    for (const service of denoisers) await service.kill('SIGKILL');
    const first = await startDenoiser();
    const jobId = await submit(await noisyPng(1000, 800));
    await waitFor(
      () => h.history(jobId),
      (events) => events.some((e) => e.type === 'StepStarted'),
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    await first.kill('SIGKILL');
    await startDenoiser();
    const view = await h.waitForJob(jobId, (v) => v.job.status === 'COMPLETED', 180_000);
    const history = await h.history(jobId);
    const attempts = history.flatMap((event) => (event.type === 'StepStarted' ? [event.data.attempt] : []));
    assert.deepEqual(attempts, [1, 2]);
    assert.equal(history.filter((event) => event.type === 'StepSucceeded').length, 1);
    assert.equal(view.artifacts.length, 1);
  });

  it('fails a job once, with a clear message, when the step cannot succeed', async () => {
    // straight to the log, past intake's sniffing: bytes that cannot be decoded (the event contract
    // itself now refuses out-of-range parameters, so an image is what can still be wrong at the worker)
    const jobId = await appendJob(h, {
      image: Buffer.from('not an image at all'),
      name: 'x.png',
      operations: ['denoise'],
    });
    const view = await h.waitForJob(jobId, (v) => v.job.status === 'FAILED', 30_000);
    assert.match(view.job.error_message ?? '', /Step "denoise" \(denoise\) failed: cannot decode image/);
    const history = await h.history(jobId);
    assert.equal(history.filter((event) => event.type === 'StepStarted').length, 1, 'not retried');
    assert.equal(history.filter((event) => event.type === 'StepRetrying').length, 0);
  });
});
