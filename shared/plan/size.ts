import type { ResizeOptions } from 'sharp';
import type { OpParams, ResizeBox, ResizeFit, StepSpec } from '../events/operations.ts';
import { SOURCE } from '../events/operations.ts';

export type Size = Readonly<{ width: number; height: number }>;
export type { ResizeBox };

/** A box's fit: the reference's exact size (`fill`) unless the request names another. */
export const fitOf = (box: ResizeBox): ResizeFit => box.fit ?? 'fill';

/**
 * The size a resize gives, as sharp computes it (enlargement allowed). One side alone scales the other
 * by the aspect ratio whatever the fit. Two sides: `fill`, `cover` and `contain` give exactly the box;
 * `inside` the largest size within it, `outside` the smallest size covering it (aspect ratio kept).
 */
export function resizedSize(input: Size, box: ResizeBox): Size {
  const { width, height } = box;
  const scaled = (scale: number) => ({
    width: Math.max(1, Math.round(input.width * scale)),
    height: Math.max(1, Math.round(input.height * scale)),
  });
  if (width === undefined && height === undefined) return input;
  if (width === undefined) return scaled((height ?? input.height) / input.height);
  if (height === undefined) return scaled(width / input.width);
  const fit = fitOf(box);
  switch (fit) {
    case 'fill':
    case 'cover':
    case 'contain':
      return { width, height };
    case 'inside':
      return scaled(Math.min(width / input.width, height / input.height));
    case 'outside':
      return scaled(Math.max(width / input.width, height / input.height));
    default: {
      const never: never = fit;
      throw new Error(`unknown fit ${String(never)}`);
    }
  }
}

/** The resize a step asks for: `params.resize` for conversions and denoise, the params themselves for `resize`. */
export function resizeOf(spec: OpParams): ResizeBox | null {
  switch (spec.op) {
    case 'resize':
      return spec.params;
    case 'jpg':
    case 'png':
    case 'webp':
    case 'avif':
    case 'denoise':
      return spec.params.resize ?? null;
    case 'metadata':
    case 'bundle':
      return null;
    default: {
      const never: never = spec;
      throw new Error(`unknown step ${JSON.stringify(never)}`);
    }
  }
}

/** The size of every step's output, from the source's size, for steps given in topological order. */
export function outputSizes(steps: readonly StepSpec[], source: Size): Map<string, Size> {
  const sizes = new Map<string, Size>();
  for (const step of steps) {
    const input = inputSize(step, sizes, source);
    const box = resizeOf(step);
    sizes.set(step.id, box === null ? input : resizedSize(input, box));
  }
  return sizes;
}

/** The size of the image a step reads (its first input). */
export function inputSize(step: StepSpec, sizes: ReadonlyMap<string, Size>, source: Size): Size {
  const from = step.inputs[0] ?? SOURCE;
  return from === SOURCE ? source : (sizes.get(from) ?? source);
}

/**
 * The sharp resize options for a box: its fit (default `fill`), gravity, transparent letterbox. With one
 * side sharp's `fill` would keep the other side as it is, so one side always scales (`inside`).
 */
export function resizeOptions(box: ResizeBox): ResizeOptions {
  const both = box.width !== undefined && box.height !== undefined;
  return {
    ...(box.width === undefined ? {} : { width: box.width }),
    ...(box.height === undefined ? {} : { height: box.height }),
    fit: both ? fitOf(box) : 'inside',
    position: box.position ?? 'centre',
    background: { r: 0, g: 0, b: 0, alpha: 0 },
  };
}
