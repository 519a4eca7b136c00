import { z } from 'zod';
import { MAX_SIGMA } from './inference/denoise.ts';

/** Parameters of the `denoise` operation (the API validates the same shape at submission). */
export const DenoiseParams = z.object({
  model: z.enum(['blind', 'clip']).default('blind'),
  sigma: z.union([z.literal('auto'), z.number().int().min(1).max(MAX_SIGMA)]).default('auto'),
  resize: z
    .object({ width: z.number().int().positive().optional(), height: z.number().int().positive().optional() })
    .optional(),
});
export type DenoiseParams = z.infer<typeof DenoiseParams>;
