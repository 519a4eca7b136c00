import { OPERATIONS, type Operation, type StepOp } from '../../../shared/events/operations.ts';
import { ApiError } from '../errors.ts';

export type Params = Readonly<Record<string, unknown>>;

const invalid = (message: string) => new ApiError(422, message);
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Rule 5: a JSON array of known operation names, not empty. Duplicates collapse to one. */
export function parseOperations(raw: string): Operation[] {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw invalid(`Invalid operations: not JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(json)) throw invalid(`Invalid operations: expected a JSON array, got ${raw}`);
  const unknown = json.filter((name) => !(OPERATIONS as readonly unknown[]).includes(name));
  if (unknown.length > 0) {
    throw invalid(
      `Invalid operations: unknown ${unknown.map((name) => JSON.stringify(name)).join(', ')}; ` +
        `expected any of ${OPERATIONS.join(', ')}`,
    );
  }
  if (json.length === 0) throw invalid('At least one operation is required');
  return [...new Set(json as Operation[])];
}

/** Rule 6: a JSON object; entries for operations that were not requested are dropped. */
export function parseOperationParams(
  raw: string | null,
  operations: readonly Operation[],
): Record<string, Params> {
  if (raw === null || raw.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw invalid(`Invalid operation_params JSON: ${(error as Error).message}`);
  }
  if (!isObject(json)) throw invalid('operation_params must be a JSON object');
  const params: Record<string, Params> = {};
  for (const op of operations) {
    const value = json[op];
    if (value === undefined) continue;
    if (!isObject(value)) throw invalid(`operation_params['${op}'] must be an object`);
    params[op] = value;
  }
  return params;
}

const QUALITY_OPS: readonly StepOp[] = ['jpg', 'webp'];
const RESIZE_OPS: readonly StepOp[] = ['jpg', 'png', 'webp', 'avif', 'denoise'];

/** Rule 7: `quality` only for jpg and webp, an integer 1..100. */
export function checkQuality(label: string, op: StepOp, params: Params): void {
  const quality = params.quality;
  if (quality === undefined) return;
  if (!QUALITY_OPS.includes(op)) throw invalid(`${label} quality is only supported for jpg/webp`);
  if (typeof quality !== 'number' || !Number.isInteger(quality)) {
    throw invalid(`${label} quality must be an integer`);
  }
  if (quality < 1 || quality > 100) throw invalid(`${label} quality must be 1..100`);
}

/** The `{width?, height?}` box of rule 8: at least one side, each a positive integer (null = absent). */
export function checkBox(label: string, box: unknown): void {
  if (!isObject(box)) throw invalid(`${label} must be an object`);
  const sides = (['width', 'height'] as const).filter(
    (side) => box[side] !== undefined && box[side] !== null,
  );
  if (sides.length === 0) throw invalid(`${label} requires width or height`);
  for (const side of sides) {
    const value = box[side];
    if (typeof value !== 'number' || !Number.isInteger(value))
      throw invalid(`${label} ${side} must be an integer`);
    if (value <= 0) throw invalid(`${label} ${side} must be > 0`);
  }
}

/** Rule 8: `resize` for every operation but metadata. */
export function checkResize(label: string, op: StepOp, params: Params): void {
  if (params.resize === undefined) return;
  if (!RESIZE_OPS.includes(op)) {
    throw invalid(`${label} resize is only supported for jpg/png/webp/avif/denoise`);
  }
  checkBox(`${label} resize`, params.resize);
}

const MAX_SIGMA = 75;

/** The denoiser's own parameters (`model`, `sigma`, `format`), checked here so a typo is a 422, not a failed job. */
export function checkDenoise(label: string, op: StepOp, params: Params): void {
  if (op !== 'denoise') return;
  const { model, sigma, format } = params;
  if (model !== undefined && model !== 'blind' && model !== 'clip' && model !== 'fast') {
    throw invalid(`${label} model must be "blind", "clip" or "fast"`);
  }
  if (format !== undefined && !['png', 'webp', 'avif', 'jpg'].includes(format as string)) {
    throw invalid(`${label} format must be "png", "webp", "avif" or "jpg"`);
  }
  const sigmaOk =
    sigma === undefined ||
    sigma === 'auto' ||
    (typeof sigma === 'number' && Number.isInteger(sigma) && sigma >= 1 && sigma <= MAX_SIGMA);
  if (!sigmaOk) throw invalid(`${label} sigma must be "auto" or an integer 1..${MAX_SIGMA}`);
}

/** Rules 7 and 8 over every requested operation, in rule order (all quality checks first). */
export function checkOperationParams(params: Readonly<Record<string, Params>>): void {
  const entries = Object.entries(params) as [Operation, Params][];
  const label = (op: string) => `operation_params['${op}']`;
  for (const [op, value] of entries) checkQuality(label(op), op, value);
  for (const [op, value] of entries) checkResize(label(op), op, value);
  for (const [op, value] of entries) checkDenoise(label(op), op, value);
}
