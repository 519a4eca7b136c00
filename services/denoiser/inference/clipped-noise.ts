/**
 * Gaussian noise clipped to the 8-bit range: an 8-bit file holds y = clip(μ + σz, 0, 255), whose
 * variance is below σ² wherever μ is within a few σ of 0 or 255. The PCA estimator measures that
 * reduced variance; `unclipSigma` finds the σ that explains it, given the image's local levels.
 */
import type { Rgb8Image } from './image.ts';

const WHITE = 255;

/** Complementary error function (Numerical Recipes' erfcc; fractional error < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const value = t * Math.exp(-z * z + poly);
  return x >= 0 ? value : 2 - value;
}

const cdf = (x: number) => 0.5 * erfc(-x / Math.SQRT2);
const pdf = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);

/** Mean and variance of clip(μ + σz, 0, 255) for z ~ N(0, 1). */
export function clippedMoments(mu: number, sigma: number): { mean: number; variance: number } {
  if (sigma <= 0) return { mean: mu, variance: 0 };
  const a = -mu / sigma;
  const b = (WHITE - mu) / sigma;
  const [ca, cb, pa, pb] = [cdf(a), cdf(b), pdf(a), pdf(b)];
  const inside = cb - ca;
  const mean = WHITE * (1 - cb) + mu * inside + sigma * (pa - pb);
  const square =
    WHITE * WHITE * (1 - cb) +
    mu * mu * inside +
    2 * mu * sigma * (pa - pb) +
    sigma * sigma * (inside + a * pa - b * pb);
  return { mean, variance: Math.max(0, square - mean * mean) };
}

/** The clean level μ ∈ [0, 255] whose clipped mean is `observedMean` (bisection). */
function levelForMean(observedMean: number, sigma: number): number {
  let low = 0;
  let high = WHITE;
  for (let i = 0; i < 30; i++) {
    const mid = (low + high) / 2;
    if (clippedMoments(mid, sigma).mean < observedMean) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/**
 * Histogram (256 bins) of per-channel means of 3×3 blocks: a local estimate of the clean level.
 * Blocks are taken on a grid thinned so that at most ~`maxBlocks` are read.
 */
export function localLevelHistogram(image: Rgb8Image, maxBlocks = 200_000): Float64Array {
  const histogram = new Float64Array(256);
  const blocks = Math.floor(image.width / 3) * Math.floor(image.height / 3);
  const step = 3 * Math.max(1, Math.ceil(Math.sqrt(blocks / maxBlocks)));
  for (let y = 0; y + 3 <= image.height; y += step) {
    for (let x = 0; x + 3 <= image.width; x += step) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let dy = 0; dy < 3; dy++) {
          const row = ((y + dy) * image.width + x) * 3 + c;
          sum += (image.data[row] ?? 0) + (image.data[row + 3] ?? 0) + (image.data[row + 6] ?? 0);
        }
        const bin = Math.round(sum / 9);
        histogram[bin] = (histogram[bin] ?? 0) + 1;
      }
    }
  }
  return histogram;
}

/** Average variance of clipped noise of level σ over an image with the given level histogram. */
export function meanClippedVariance(histogram: Float64Array, sigma: number): number {
  let total = 0;
  let count = 0;
  histogram.forEach((n, observedMean) => {
    if (n === 0) return;
    total += n * clippedMoments(levelForMean(observedMean, sigma), sigma).variance;
    count += n;
  });
  return count > 0 ? total / count : sigma * sigma;
}

/** The σ whose clipped noise has, on average over the image's levels, the observed spread. */
export function unclipSigma(observedSigma: number, histogram: Float64Array): number {
  if (observedSigma <= 0) return 0;
  let low = observedSigma;
  let high = 4 * observedSigma;
  for (let i = 0; i < 40; i++) {
    const mid = (low + high) / 2;
    if (meanClippedVariance(histogram, mid) < observedSigma * observedSigma) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}
