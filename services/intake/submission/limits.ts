import type { StepOp, StepSpec } from '../../../shared/events/operations.ts';
import { jobCost } from '../../../shared/plan/cost.ts';
import { outputSizes, type Size } from '../../../shared/plan/size.ts';
import { ApiError } from '../errors.ts';

/** Steps whose output is an image (metadata is JSON, the bundle a ZIP). */
const IMAGE_STEPS: readonly StepOp[] = ['jpg', 'png', 'webp', 'avif', 'denoise', 'resize'];

/** Largest side each encoder can write (WebP's VP8 frame is 14 bits). */
const MAX_SIDE: Readonly<Record<string, number>> = { webp: 16_383, jpg: 65_535 };

/** Output size requests above the configured maximum (or an encoder's limit) are refused up front. */
export function checkOutputSizes(steps: readonly StepSpec[], source: Size, maxOutputPixels: number): void {
  const sizes = outputSizes(steps, source);
  for (const step of steps) {
    const size = sizes.get(step.id);
    if (size === undefined || !IMAGE_STEPS.includes(step.op)) continue;
    const { width, height } = size;
    const what = `Output of step "${step.id}" would be ${width}x${height}`;
    if (width * height > maxOutputPixels) {
      throw new ApiError(422, `${what} (${width * height} pixels); the maximum is ${maxOutputPixels} pixels`);
    }
    const side = MAX_SIDE[step.op];
    if (side !== undefined && Math.max(width, height) > side) {
      throw new ApiError(422, `${what}; ${step.op} images are at most ${side} pixels per side`);
    }
  }
}

const seconds = (value: number) => `${value.toFixed(1)} s`;

/**
 * The compute budget: the job's estimated CPU time (pixels × per-operation cost, summed over the DAG,
 * `shared/plan/cost.ts`) may not exceed `maxSeconds`. The 422 gives the estimate, the budget and the
 * costliest steps.
 */
export function checkComputeBudget(steps: readonly StepSpec[], source: Size, maxSeconds: number): void {
  const cost = jobCost(steps, source);
  if (cost.seconds <= maxSeconds) return;
  const costliest = [...cost.steps]
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, 3)
    .map((step) => `"${step.id}" ${step.op} ${step.megapixels.toFixed(1)} MP ${seconds(step.seconds)}`)
    .join(', ');
  throw new ApiError(
    422,
    `Job exceeds the compute budget: estimated ${seconds(cost.seconds)} of processing over ` +
      `${steps.length} steps, the budget is ${seconds(maxSeconds)} (costliest: ${costliest})`,
  );
}
