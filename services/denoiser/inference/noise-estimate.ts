/**
 * Noise-level estimation for additive white Gaussian noise in 8-bit images.
 *
 * 1. PCA estimate, after G. Chen, F. Zhu, P. A. Heng, "An Efficient Statistical Method for Image
 *    Noise Level Estimation", ICCV 2015. Natural-image patches lie near a low-dimensional subspace,
 *    so the smallest eigenvalues of the patch covariance belong to the noise alone. Sorting them,
 *    the longest prefix whose mean equals its median (as many values above the mean as below) is
 *    the noise-only part, and σ = √mean. Unlike filter-based estimators (e.g. Immerkær 1996) it does
 *    not mistake texture for noise. A patch is 7×7 pixels × 3 channels (d = 147): the correlation
 *    between colour channels adds to the redundant dimensions.
 * 2. Clipping correction: an 8-bit file clips the noise at 0 and 255, so the measured spread is
 *    below σ in dark and bright areas (plain PCA: −5 on average at σ = 50 on CBSD68). The σ
 *    reported is the one whose clipped noise, averaged over the image's local levels (3×3 means),
 *    has the measured variance (see clipped-noise.ts).
 */
import { localLevelHistogram, unclipSigma } from './clipped-noise.ts';
import { symmetricEigenvalues } from './eigen.ts';
import type { Rgb8Image } from './image.ts';
import { patchCovariance } from './patch-covariance.ts';

export interface NoiseEstimateOptions {
  /** Patch edge in pixels (default 7, as in the paper). */
  readonly patchSize?: number;
  /** Patches in the covariance (default 20 000): bounds the cost (~0.2 s) for any image size. */
  readonly maxPatches?: number;
  /** Correct for noise clipped at 0 and 255 (default true). */
  readonly clipCorrection?: boolean;
}

/** Chen et al.'s rule on ascending eigenvalues: the mean of the longest prefix whose mean is its median. */
export function noiseVarianceFromEigenvalues(ascending: readonly number[]): number {
  for (let r = ascending.length; r > 0; r--) {
    const prefix = ascending.slice(0, r);
    const mean = prefix.reduce((a, b) => a + b, 0) / r;
    const above = prefix.filter((e) => e > mean).length;
    const below = prefix.filter((e) => e < mean).length;
    if (above === below) return Math.max(0, mean);
  }
  return 0;
}

/** Estimated standard deviation of the image's Gaussian noise, on the 0–255 scale. */
export function estimateNoiseSigma(image: Rgb8Image, options: NoiseEstimateOptions = {}): number {
  const patchSize = options.patchSize ?? 7;
  const cov = patchCovariance(image, patchSize, options.maxPatches ?? 20_000);
  const variance = noiseVarianceFromEigenvalues(symmetricEigenvalues(cov, patchSize * patchSize * 3));
  const measured = Math.sqrt(variance);
  return options.clipCorrection === false ? measured : unclipSigma(measured, localLevelHistogram(image));
}
