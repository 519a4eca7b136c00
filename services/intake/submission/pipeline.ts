import { SOURCE, StepId, StepOp, type StepSpec } from '../../../shared/events/operations.ts';
import { validateDag } from '../../../shared/plan/dag.ts';
import { ApiError } from '../errors.ts';
import { checkBox, checkDenoise, checkQuality, checkResize, type Params } from './operations.ts';

const invalid = (message: string) => new ApiError(422, `Invalid pipeline: ${message}`);
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Operations a pipeline step may name: every operation and `resize` (the ZIP step is the planner's). */
const REQUESTABLE = StepOp.options.filter((op) => op !== 'bundle');

type Draft = Readonly<{ id: string; op: StepOp; params: Params; inputs: string[] }>;

function stepId(raw: Record<string, unknown>, index: number): string {
  const parsed = StepId.safeParse(raw.id);
  if (!parsed.success) {
    throw invalid(`step ${index + 1} needs an "id" of 1-40 characters a-z 0-9 _ - starting with a letter`);
  }
  return parsed.data;
}

function stepInputs(raw: Record<string, unknown>, id: string): string[] {
  const inputs = raw.inputs ?? (raw.input === undefined ? undefined : [raw.input]);
  if (!Array.isArray(inputs) || inputs.length !== 1 || typeof inputs[0] !== 'string') {
    throw invalid(`step "${id}" must name exactly one input ("source" or an earlier step) in "input"`);
  }
  return [inputs[0]];
}

function checkParams(step: Draft): void {
  const label = `pipeline step "${step.id}"`;
  if (step.op === 'resize') {
    checkBox(`${label} resize`, step.params);
    return;
  }
  checkQuality(label, step.op, step.params);
  checkResize(label, step.op, step.params);
  checkDenoise(label, step.op, step.params);
}

function draft(raw: unknown, index: number): Draft {
  if (!isObject(raw)) throw invalid(`step ${index + 1} must be an object`);
  const id = stepId(raw, index);
  const op = StepOp.safeParse(raw.op);
  if (!op.success || op.data === 'bundle') {
    throw invalid(
      `step "${id}" has an unknown operation ${JSON.stringify(raw.op)}; expected ${REQUESTABLE.join(', ')}`,
    );
  }
  const params = raw.params ?? {};
  if (!isObject(params)) throw invalid(`step "${id}" params must be an object`);
  const step = { id, op: op.data, params, inputs: stepInputs(raw, id) };
  checkParams(step);
  return step;
}

/**
 * The optional `pipeline` field: a JSON array of `{id, op, input, params}` (`inputs: [one]` is accepted
 * too). Validated as a DAG (unknown step or operation, missing input, cycle, too many steps → 422 naming
 * the step). Steps no other step reads are the job's results, keyed by their id.
 */
export function parsePipeline(raw: string | null): StepSpec[] | null {
  if (raw === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new ApiError(422, `Invalid pipeline JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(json)) throw invalid('expected a JSON array of steps');
  const drafts = json.map(draft);
  const read = new Set(drafts.flatMap((step) => step.inputs));
  const steps = drafts.map((step) => ({ ...step, result: read.has(step.id) ? null : step.id }));
  const result = validateDag(steps);
  if (!result.ok) throw invalid(result.problem.message);
  return result.steps;
}

/** Rule 10 for a pipeline: a conversion that reads the source may not target the source's own format. */
export function checkPipelineFormats(steps: readonly StepSpec[], sourceFormat: string): void {
  for (const step of steps) {
    if (step.op === sourceFormat && step.inputs.includes(SOURCE)) {
      throw new ApiError(
        422,
        `Cannot convert ${sourceFormat} to ${step.op} - source and target formats are the same (step "${step.id}")`,
      );
    }
  }
}
