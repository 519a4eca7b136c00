import { SOURCE, type StepSpec } from '../events/operations.ts';

export type Size = Readonly<{ width: number; height: number }>;
export type ResizeBox = Readonly<{ width?: number; height?: number }>;

/**
 * The size `fit: 'inside'` gives: the aspect ratio is kept, the image fits the box (one side alone
 * scales the other), enlargement allowed. Matches sharp to within rounding.
 */
export function resizedSize(input: Size, box: ResizeBox): Size {
  const scales = [
    box.width === undefined ? null : box.width / input.width,
    box.height === undefined ? null : box.height / input.height,
  ].filter((scale): scale is number => scale !== null);
  if (scales.length === 0) return input;
  const scale = Math.min(...scales);
  return {
    width: Math.max(1, Math.round(input.width * scale)),
    height: Math.max(1, Math.round(input.height * scale)),
  };
}

/** The resize a step asks for: `params.resize` for conversions and denoise, the params themselves for `resize`. */
export function resizeOf(step: Pick<StepSpec, 'op' | 'params'>): ResizeBox | null {
  const raw = step.op === 'resize' ? step.params : step.params.resize;
  if (typeof raw !== 'object' || raw === null) return null;
  const { width, height } = raw as Record<string, unknown>;
  const box = {
    ...(typeof width === 'number' ? { width } : {}),
    ...(typeof height === 'number' ? { height } : {}),
  };
  return box.width === undefined && box.height === undefined ? null : box;
}

/** The size of every step's output, from the source's size, for steps given in topological order. */
export function outputSizes(steps: readonly StepSpec[], source: Size): Map<string, Size> {
  const sizes = new Map<string, Size>();
  for (const step of steps) {
    const from = step.inputs[0] ?? SOURCE;
    const input = from === SOURCE ? source : (sizes.get(from) ?? source);
    const box = resizeOf(step);
    sizes.set(step.id, box === null ? input : resizedSize(input, box));
  }
  return sizes;
}
