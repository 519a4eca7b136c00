import type { StepOp, StepSpec } from '../events/operations.ts';
import { inputSize, outputSizes, type Size } from './size.ts';

/**
 * Estimated CPU-seconds per megapixel of each operation on one core, from the measurements in
 * docs/CONVERSIONS.md and docs/BENCHMARKS.md (webp ~0.08 s/MP, AVIF effort 3 ~0.36 s/MP, DnCNN 3-6 s/MP).
 * Defined once: intake's budget and admission's queue estimates both read it.
 */
export const SECONDS_PER_MEGAPIXEL: Readonly<Record<StepOp, number>> = {
  jpg: 0.04,
  png: 0.1,
  webp: 0.1,
  avif: 0.4,
  resize: 0.04,
  denoise: 6,
  metadata: 0,
  bundle: 0.01,
};

export type StepCost = Readonly<{ id: string; op: StepOp; megapixels: number; seconds: number }>;
export type JobCost = Readonly<{ seconds: number; steps: readonly StepCost[] }>;

const megapixels = (size: Size) => (size.width * size.height) / 1e6;

/**
 * The job's estimated cost: for each step, the larger of the pixels it reads and writes times its
 * operation's cost, summed over the DAG (steps in topological order).
 */
export function jobCost(steps: readonly StepSpec[], source: Size): JobCost {
  const sizes = outputSizes(steps, source);
  const costs = steps.map((step): StepCost => {
    const read = megapixels(inputSize(step, sizes, source));
    const written = megapixels(sizes.get(step.id) ?? source);
    const mp = Math.max(read, written);
    return { id: step.id, op: step.op, megapixels: mp, seconds: mp * SECONDS_PER_MEGAPIXEL[step.op] };
  });
  return { seconds: costs.reduce((sum, step) => sum + step.seconds, 0), steps: costs };
}
