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
 * Step parameters: one zod schema per operation, the only contract for them. Intake turns the issues
 * into `detail` messages (each message is written to follow the parameter's path: "quality must be
 * 1..100"); workers receive them parsed and typed. Unknown keys are dropped; `null` sides mean absent.
 */
const Side = z
  .number({ error: 'must be an integer' })
  .int({ error: 'must be an integer' })
  .positive({ error: 'must be > 0' })
  .nullish()
  .transform((value) => value ?? undefined)
  .optional();

/** How a resize treats a box with both sides (sharp's `fit`); the reference behaviour is `fill`. */
export const RESIZE_FITS = ['fill', 'inside', 'cover', 'contain', 'outside'] as const;
export const ResizeFit = z.enum(RESIZE_FITS, { error: `must be one of ${RESIZE_FITS.join(', ')}` });
export type ResizeFit = z.infer<typeof ResizeFit>;
/** Where `cover` crops (and `contain` places): a gravity, or sharp's `entropy` / `attention` strategies. */
export const RESIZE_POSITIONS = [
  'centre',
  'north',
  'northeast',
  'east',
  'southeast',
  'south',
  'southwest',
  'west',
  'northwest',
  'entropy',
  'attention',
] as const;
export const ResizePosition = z.enum(RESIZE_POSITIONS, {
  error: `must be one of ${RESIZE_POSITIONS.join(', ')}`,
});

export const ResizeBox = z
  .object(
    { width: Side, height: Side, fit: ResizeFit.optional(), position: ResizePosition.optional() },
    { error: 'must be an object' },
  )
  .refine((box) => box.width !== undefined || box.height !== undefined, {
    error: 'requires width or height',
  })
  .refine((box) => box.position === undefined || box.fit === 'cover' || box.fit === 'contain', {
    error: 'position needs fit "cover" or "contain"',
  });
export type ResizeBox = z.infer<typeof ResizeBox>;

const Quality = z
  .number({ error: 'must be an integer' })
  .int({ error: 'must be an integer' })
  .min(1, { error: 'must be 1..100' })
  .max(100, { error: 'must be 1..100' });
const noQuality = z.never({ error: 'is only supported for jpg/webp' }).optional();
const noResize = z.never({ error: 'is only supported for jpg/png/webp/avif/denoise' }).optional();

/** jpg and webp: `quality` and `resize`. */
export const LossyParams = z.object({ quality: Quality.optional(), resize: ResizeBox.optional() });
/** png and avif: `resize` only. */
export const LosslessParams = z.object({ quality: noQuality, resize: ResizeBox.optional() });
export const MAX_SIGMA = 75;
export const DENOISE_MODELS = ['blind', 'clip', 'fast'] as const;
export const DenoiseParams = z.object({
  quality: noQuality,
  model: z.enum(DENOISE_MODELS, { error: 'must be "blind", "clip" or "fast"' }).optional(),
  sigma: z
    .union([z.literal('auto'), z.number().min(1).max(MAX_SIGMA)], {
      error: `must be "auto" or a number 1..${MAX_SIGMA}`,
    })
    .optional(),
  format: z.enum(IMAGE_FORMATS, { error: `must be one of ${IMAGE_FORMATS.join(', ')}` }).optional(),
  resize: ResizeBox.optional(),
});
export const MetadataParams = z.object({ quality: noQuality, resize: noResize });
export const BundleParams = z.object({});

export const STEP_PARAMS = {
  jpg: LossyParams,
  png: LosslessParams,
  webp: LossyParams,
  avif: LosslessParams,
  denoise: DenoiseParams,
  metadata: MetadataParams,
  resize: ResizeBox,
  bundle: BundleParams,
} as const satisfies Readonly<Record<StepOp, z.ZodType>>;
export type ParamsOf<O extends StepOp> = z.infer<(typeof STEP_PARAMS)[O]>;

/** `shape` plus `{op, params}`, as a union discriminated on `op`: params typed by their operation. */
export function byOp<S extends z.ZodRawShape>(shape: S) {
  const variant = <O extends StepOp>(op: O) =>
    z.object({ ...shape, op: z.literal(op), params: STEP_PARAMS[op] });
  return z.discriminatedUnion('op', [
    variant('jpg'),
    variant('png'),
    variant('webp'),
    variant('avif'),
    variant('denoise'),
    variant('metadata'),
    variant('resize'),
    variant('bundle'),
  ]);
}

/** An operation with its typed parameters. */
export const OpParams = byOp({});
export type OpParams = z.infer<typeof OpParams>;

/** The reference's `operation_params`: per requested operation, its parameters. */
export const OperationParams = z.object({
  jpg: LossyParams.optional(),
  png: LosslessParams.optional(),
  webp: LossyParams.optional(),
  avif: LosslessParams.optional(),
  denoise: DenoiseParams.optional(),
  metadata: MetadataParams.optional(),
});
export type OperationParams = z.infer<typeof OperationParams>;

/**
 * One node of a job's DAG. `inputs` name the source (`"source"`) or earlier steps;
 * `result` is the key under which the output appears in `result_urls` (null for intermediate steps).
 */
export const StepSpec = byOp({
  id: StepId,
  inputs: z.array(z.string()).min(1),
  result: z.string().nullable(),
});
export type StepSpec = z.infer<typeof StepSpec>;

/** `{op, params}` of a step or command, keeping their pairing for the type checker. */
export function opParamsOf(step: OpParams): OpParams {
  return OpParams.parse({ op: step.op, params: step.params });
}

export const SOURCE = 'source';
