import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clippedMoments, unclipSigma } from './clipped-noise.ts';
import { symmetricEigenvalues } from './eigen.ts';
import { syntheticImage } from './fixtures.ts';
import { estimateNoiseSigma, noiseVarianceFromEigenvalues } from './noise-estimate.ts';

const close = (actual: number, expected: number, tolerance: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what} ${actual} ≠ ${expected} ± ${tolerance}`);

describe('symmetricEigenvalues', () => {
  test('2×2 and a rotated diagonal 3×3', () => {
    assert.deepEqual(
      symmetricEigenvalues(Float64Array.of(2, 1, 1, 2), 2).map((e) => Number(e.toFixed(12))),
      [1, 3],
    );
    // Q·diag(5, −1, 2)·Qᵀ with Q a rotation by 30° in the (0,1) plane.
    const [c, s] = [Math.cos(Math.PI / 6), Math.sin(Math.PI / 6)];
    const m = Float64Array.of(
      5 * c * c + -1 * s * s,
      (5 + 1) * c * s,
      0,
      (5 + 1) * c * s,
      5 * s * s - c * c,
      0,
      0,
      0,
      2,
    );
    const eigenvalues = symmetricEigenvalues(m, 3);
    for (const [i, e] of [-1, 2, 5].entries()) close(eigenvalues[i] ?? Number.NaN, e, 1e-9);
  });
});

describe('noiseVarianceFromEigenvalues', () => {
  test('ignores the large signal eigenvalues', () => {
    const noise = Array.from({ length: 40 }, (_, i) => 9 + (i - 19.5) * 0.01);
    close(noiseVarianceFromEigenvalues([...noise, 50, 120, 900, 4000]), 9, 1e-9);
  });
});

describe('clipped noise model', () => {
  test('far from 0 and 255 the noise is untouched', () => {
    const { mean, variance } = clippedMoments(128, 10);
    close(mean, 128, 1e-6);
    close(variance, 100, 1e-3);
  });

  test('at level 0 half the noise is clipped (half-normal moments)', () => {
    const { mean, variance } = clippedMoments(0, 20);
    close(mean, 20 / Math.sqrt(2 * Math.PI), 1e-4);
    close(variance, 400 * (0.5 - 1 / (2 * Math.PI)), 1e-3);
  });

  test('unclipSigma is the identity for mid-grey images and inflates for dark ones', () => {
    const grey = new Float64Array(256);
    grey[128] = 1000;
    close(unclipSigma(20, grey), 20, 1e-3);
    const dark = new Float64Array(256);
    dark[10] = 1000;
    assert.ok(unclipSigma(20, dark) > 25);
  });
});

describe('estimateNoiseSigma on a synthetic test card', () => {
  for (const sigma of [0, 5, 15, 30]) {
    test(`σ=${sigma}`, () => {
      close(
        estimateNoiseSigma(syntheticImage(256, 256, sigma, sigma + 1)),
        sigma,
        Math.max(0.6, 0.05 * sigma),
      );
    });
  }
});
