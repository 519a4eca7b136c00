import { z } from 'zod';
import { MAX_SIGMA } from './inference/denoise.ts';

/** What a denoise step can write: PNG (the reference), or a smaller lossless WebP, AVIF or JPEG. */
export const DENOISE_FORMATS = ['png', 'webp', 'avif', 'jpg'] as const;

/**
 * Parameters of the `denoise` operation (the API validates the same shape at submission).
 * `model`: `fast` (FFDNet-Clip, the default: 3.1× fewer operations per pixel and, on CBSD68 with clipped
 * 8-bit noise and σ auto, 0.02–0.08 dB better than `clip`; table in docs/BENCHMARKS.md), `clip` (FDnCNN)
 * or `blind` (CDnCNN-B, the default before FFDNet).
 * `format`: `png` (default), `webp` (lossless), `avif` (lossless) or `jpg` (quality 95).
 */
export const DenoiseParams = z.object({
  model: z.enum(['blind', 'clip', 'fast']).default('fast'),
  sigma: z.union([z.literal('auto'), z.number().int().min(1).max(MAX_SIGMA)]).default('auto'),
  format: z.enum(DENOISE_FORMATS).default('png'),
  resize: z
    .object({ width: z.number().int().positive().optional(), height: z.number().int().positive().optional() })
    .optional(),
});
export type DenoiseParams = z.infer<typeof DenoiseParams>;
