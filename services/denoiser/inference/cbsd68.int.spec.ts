/**
 * Denoising quality on three CBSD68 images at σ = 25 with seeded noise. Thresholds are the measured
 * PSNRs minus 0.05 dB (room for float differences between CPUs/onnxruntime builds, far less than a
 * real regression). The full 68-image table comes from bench/denoise-quality.ts.
 * Needs DNCNN_WEIGHTS_DIR and CBSD68_DIR.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { denoiseImage, denoisePlanar } from './denoise.ts';
import {
  addFloatNoise,
  addNoise8,
  convertAndOpen,
  loadRgb8,
  once,
  planarToRgb8,
  psnr8,
  requireEnvDir,
} from './fixtures.ts';

const SIGMA = 25;
const SEED = 25;
/** Minimum PSNR (dB): blind on float noise, clip with the true σ and with σ 'auto' on 8-bit noise. */
const THRESHOLDS = [
  { image: '101085.png', blindFloat: 28.2, clipTrue: 28.11, clipAuto: 28.11 },
  { image: '163085.png', blindFloat: 31.81, clipTrue: 31.83, clipAuto: 31.82 },
  { image: '167062.png', blindFloat: 35.06, clipTrue: 34.96, clipAuto: 34.96 },
] as const;

describe(`CBSD68 at σ=${SIGMA}: PSNR thresholds`, () => {
  const context = once(async () => ({
    dataset: requireEnvDir('CBSD68_DIR', 'the CBSD68 folder (68 clean PNGs)'),
    models: await convertAndOpen(requireEnvDir('DNCNN_WEIGHTS_DIR', 'the DnCNN .mat weights')),
  }));
  after(async () => {
    await (await context().catch(() => undefined))?.models.dispose();
  });

  for (const expected of THRESHOLDS) {
    test(expected.image, async () => {
      const { dataset, models } = await context();
      const clean = await loadRgb8(join(dataset, expected.image));
      const floatNoisy = addFloatNoise(clean, SIGMA, SEED);
      const floatOut = await denoisePlanar(models.blind, floatNoisy, { model: 'blind' });
      const blindFloat = psnr8(clean.data, planarToRgb8({ ...floatNoisy, data: floatOut }).data);
      const noisy = addNoise8(clean, SIGMA, SEED);
      const clipTrue = psnr8(
        clean.data,
        await denoiseImage(models.clip, noisy, { model: 'clip', sigma: SIGMA }),
      );
      const clipAuto = psnr8(
        clean.data,
        await denoiseImage(models.clip, noisy, { model: 'clip', sigma: 'auto' }),
      );
      const measured = { blindFloat, clipTrue, clipAuto };
      for (const key of ['blindFloat', 'clipTrue', 'clipAuto'] as const) {
        assert.ok(
          measured[key] >= expected[key],
          `${key}: ${measured[key].toFixed(3)} dB < ${expected[key]} dB`,
        );
      }
    });
  }
});
