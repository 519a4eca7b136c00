/**
 * The converted models reproduce the DnCNN test vectors exactly (not just the PSNR): a wrong weight
 * layout can score a plausible PSNR while moving pixels by up to 19 levels.
 * Needs DNCNN_WEIGHTS_DIR (the folder with the .mat files and testvec/).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { denoiseImage, denoisePlanar } from './denoise.ts';
import {
  type ConvertedModels,
  convertAndOpen,
  loadRgb8,
  once,
  psnr8,
  requireEnvDir,
  toPlanar,
} from './fixtures.ts';
import type { Rgb8Image } from './image.ts';

const FLOAT_TOLERANCE = 1e-4;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return max;
}

function maxLevelDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return max;
}

async function readF32(path: string): Promise<Float32Array> {
  const bytes = await readFile(path);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

interface Context {
  readonly models: ConvertedModels;
  readonly testvec: string;
  readonly noisy: Rgb8Image;
  readonly clean: Rgb8Image;
}

async function load(): Promise<Context> {
  const weightsDir = requireEnvDir(
    'DNCNN_WEIGHTS_DIR',
    'the DnCNN .mat weights (e.g. ../shared/models/dncnn)',
  );
  const testvec = join(weightsDir, 'testvec');
  const models = await convertAndOpen(weightsDir);
  return {
    models,
    testvec,
    noisy: await loadRgb8(join(testvec, 'noisy.png')),
    clean: await loadRgb8(join(testvec, 'clean.png')),
  };
}

describe('converted DnCNN models match the reference test vectors', () => {
  // Loaded by the first test, so a missing DNCNN_WEIGHTS_DIR fails every test with its message.
  const context = once(load);
  after(async () => {
    const ctx = await context().catch(() => undefined);
    await ctx?.models.dispose();
  });

  const cases = [
    { model: 'blind', sigma: undefined, f32: 'expected.f32', png: 'expected.png', minPsnr: 39.7 },
    {
      model: 'clip',
      sigma: 25,
      f32: 'expected_clip_sigma25.f32',
      png: 'expected_clip_sigma25.png',
      minPsnr: 39.9,
    },
  ] as const;

  for (const c of cases) {
    test(`${c.model}: float output within ${FLOAT_TOLERANCE} of ${c.f32}, untiled and tiled`, async () => {
      const { models, testvec, noisy } = await context();
      const expected = await readF32(join(testvec, c.f32));
      const input = toPlanar(noisy);
      const options = { model: c.model, sigma: c.sigma };
      const untiled = await denoisePlanar(models[c.model], input, { ...options, tileSize: 128 });
      assert.ok(maxAbsDiff(untiled, expected) < FLOAT_TOLERANCE, `untiled: ${maxAbsDiff(untiled, expected)}`);
      const tiled = await denoisePlanar(models[c.model], input, { ...options, tileSize: 64 });
      assert.ok(maxAbsDiff(tiled, expected) < FLOAT_TOLERANCE, `tiled: ${maxAbsDiff(tiled, expected)}`);
    });

    test(`${c.model}: 8-bit output within one level of ${c.png}`, async () => {
      const { models, testvec, noisy, clean } = await context();
      const expected = await loadRgb8(join(testvec, c.png));
      const output = await denoiseImage(models[c.model], noisy, {
        model: c.model,
        sigma: c.sigma,
        tileSize: 96,
      });
      assert.ok(
        maxLevelDiff(output, expected.data) <= 1,
        `max level diff ${maxLevelDiff(output, expected.data)}`,
      );
      assert.ok(psnr8(clean.data, output) > c.minPsnr, `PSNR ${psnr8(clean.data, output)}`);
    });
  }
});
