import { z } from 'zod';

/** Operations a client can name in `operations` (the reference contract). */
export const OPERATIONS = ['jpg', 'png', 'webp', 'avif', 'denoise', 'metadata'] as const;
export const Operation = z.enum(OPERATIONS);
export type Operation = z.infer<typeof Operation>;

/** What a step of the DAG does. `resize` and `bundle` exist only as steps. */
export const STEP_OPS = [...OPERATIONS, 'resize', 'bundle'] as const;
export const StepOp = z.enum(STEP_OPS);
export type StepOp = z.infer<typeof StepOp>;

export const Queue = z.enum(['io', 'ml']);
export type Queue = z.infer<typeof Queue>;

export function queueOf(op: StepOp): Queue {
  return op === 'denoise' ? 'ml' : 'io';
}

/** Image formats we accept and produce. `jpeg` is spelled `jpg` everywhere. */
export const IMAGE_FORMATS = ['jpg', 'png', 'webp', 'avif'] as const;
export const ImageFormat = z.enum(IMAGE_FORMATS);
export type ImageFormat = z.infer<typeof ImageFormat>;

export const CONTENT_TYPES: Readonly<Record<ImageFormat | 'zip' | 'json', string>> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  zip: 'application/zip',
  json: 'application/json',
};

export const StepId = z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, 'step ids are 1-40 chars of a-z 0-9 _ -');

/**
 * One node of a job's DAG. `inputs` name the source (`"source"`) or earlier steps;
 * `result` is the key under which the output appears in `result_urls` (null for intermediate steps).
 */
export const StepSpec = z.object({
  id: StepId,
  op: StepOp,
  params: z.record(z.string(), z.unknown()),
  inputs: z.array(z.string()).min(1),
  result: z.string().nullable(),
});
export type StepSpec = z.infer<typeof StepSpec>;

export const SOURCE = 'source';
