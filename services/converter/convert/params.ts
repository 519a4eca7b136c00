import { z } from 'zod';
import { DeterministicStepError } from '../../../shared/bus/worker.ts';

const Dimension = z.number().int().positive();
export const ResizeBox = z
  .object({ width: Dimension.optional(), height: Dimension.optional() })
  .refine((box) => box.width !== undefined || box.height !== undefined, 'resize requires width or height');
export type ResizeBox = z.infer<typeof ResizeBox>;

/** Parameters of a jpg/png/webp/avif step (the reference's `operation_params[op]`). */
export const ConvertParams = z.object({
  quality: z.number().int().min(1).max(100).optional(),
  resize: ResizeBox.optional(),
});
export type ConvertParams = z.infer<typeof ConvertParams>;

/** Parameters of a `resize` step: the box itself. */
export const ResizeParams = ResizeBox;

/** Validates step parameters at the worker's boundary; a bad value fails the step for good. */
export function parseParams<S extends z.ZodType>(schema: S, params: unknown, op: string): z.infer<S> {
  const result = schema.safeParse(params);
  if (!result.success) {
    throw new DeterministicStepError(`invalid ${op} parameters: ${z.prettifyError(result.error)}`);
  }
  return result.data;
}

/** The size `fit: inside` produces (aspect ratio kept, may enlarge), or the input size without a box. */
export function targetSize(
  width: number,
  height: number,
  box: ResizeBox | undefined,
): Readonly<{ width: number; height: number }> {
  if (box === undefined) return { width, height };
  const scales = [
    box.width === undefined ? Number.POSITIVE_INFINITY : box.width / width,
    box.height === undefined ? Number.POSITIVE_INFINITY : box.height / height,
  ];
  const scale = Math.min(...scales);
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}
