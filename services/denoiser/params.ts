import { z } from 'zod';
import { DenoiseParams as DenoiseContract } from '../../shared/events/operations.ts';

/**
 * Parameters of the `denoise` operation: the shared contract (what intake validates and the bus carries),
 * with the models this denoiser runs and its defaults.
 */
export const DenoiseParams = DenoiseContract.extend({
  model: z.enum(['blind', 'clip']).default('blind'),
  sigma: DenoiseContract.shape.sigma.unwrap().default('auto'),
});
export type DenoiseParams = z.infer<typeof DenoiseParams>;
