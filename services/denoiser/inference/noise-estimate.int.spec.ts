/**
 * The noise estimator on CBSD68 images with seeded, clipped 8-bit Gaussian noise.
 *
 * Tolerance max(1, 0.06·σ), i.e. 1.0 / 1.5 / 3.0 at σ = 15 / 25 / 50: on all 68 CBSD68 images with
 * two noise seeds each (136 draws per σ) the largest error measured was 0.47 / 1.15 / 2.90 and the
 * mean absolute error 0.10 / 0.22 / 0.57. 167062 (a large bright sky, where clipping hides most of
 * the noise) is the hardest image of the set; 101085 is a typical textured one.
 * Needs CBSD68_DIR.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { addNoise8, loadRgb8, requireEnvDir } from './fixtures.ts';
import { estimateNoiseSigma } from './noise-estimate.ts';

const tolerance = (sigma: number) => Math.max(1, 0.06 * sigma);

for (const image of ['101085.png', '167062.png']) {
  for (const sigma of [15, 25, 50]) {
    test(`${image}: σ=${sigma} estimated within ±${tolerance(sigma)}`, async () => {
      const clean = await loadRgb8(join(requireEnvDir('CBSD68_DIR', 'the CBSD68 folder'), image));
      const estimate = estimateNoiseSigma(addNoise8(clean, sigma, 7 * sigma));
      assert.ok(
        Math.abs(estimate - sigma) <= tolerance(sigma),
        `estimated ${estimate.toFixed(2)} for σ=${sigma}`,
      );
    });
  }
}
