import type { z } from 'zod';
import { DenoiseParams as DenoiseContract } from '../../shared/events/operations.ts';

/**
 * Parameters of the `denoise` operation: the shared contract (what intake validates and the bus carries),
 * with this denoiser's defaults.
 * `model`: `fast` (FFDNet-Clip, the default: 3.1× fewer operations per pixel and, on CBSD68 with clipped
 * 8-bit noise and σ auto, 0.02–0.08 dB better than `clip`; table in docs/BENCHMARKS.md), `clip` (FDnCNN)
 * or `blind` (CDnCNN-B, the default before FFDNet).
 * `format`: `png` (default, the reference), `webp` (lossless), `avif` (lossless) or `jpg` (quality 95).
 */
export const DenoiseParams = DenoiseContract.extend({
  model: DenoiseContract.shape.model.unwrap().default('fast'),
  sigma: DenoiseContract.shape.sigma.unwrap().default('auto'),
  format: DenoiseContract.shape.format.unwrap().default('png'),
});
export type DenoiseParams = z.infer<typeof DenoiseParams>;
