/**
 * Tiled inference equals whole-image inference on an image larger than one tile, for both models.
 * Needs DNCNN_WEIGHTS_DIR.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { denoiseImage, denoisePlanar } from './denoise.ts';
import { convertAndOpen, once, requireEnvDir, syntheticImage, toPlanar } from './fixtures.ts';

const WIDTH = 300;
const HEIGHT = 200;
const TILE = 128;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return max;
}

describe(`tiled (${TILE}px tiles) equals untiled on ${WIDTH}×${HEIGHT}`, () => {
  const models = once(async () =>
    convertAndOpen(
      requireEnvDir('DNCNN_WEIGHTS_DIR', 'the DnCNN .mat weights (e.g. ../shared/models/dncnn)'),
    ),
  );
  after(async () => {
    await (await models().catch(() => undefined))?.dispose();
  });
  const noisy = syntheticImage(WIDTH, HEIGHT, 25, 42);

  for (const model of ['blind', 'clip'] as const) {
    test(`${model}: float outputs within 1e-5, 8-bit outputs within one level`, async () => {
      const session = (await models())[model];
      const options = { model, sigma: 25 };
      const whole = await denoisePlanar(session, toPlanar(noisy), { ...options, tileSize: 512 });
      const tiled = await denoisePlanar(session, toPlanar(noisy), { ...options, tileSize: TILE });
      const floatDiff = maxAbsDiff(whole, tiled);
      assert.ok(floatDiff < 1e-5, `float max diff ${floatDiff} (budget 1/255 = ${1 / 255})`);
      const whole8 = await denoiseImage(session, noisy, { ...options, tileSize: 512 });
      const tiled8 = await denoiseImage(session, noisy, { ...options, tileSize: TILE });
      assert.ok(maxAbsDiff(whole8, tiled8) <= 1, `8-bit max diff ${maxAbsDiff(whole8, tiled8)}`);
    });
  }
});
