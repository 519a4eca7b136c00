import { SOURCE, StepId, StepOp, StepSpec } from '../../../shared/events/operations.ts';
import { validateDag } from '../../../shared/plan/dag.ts';
import { ApiError } from '../errors.ts';
import { isObject, parseJson } from './operations.ts';
import { checkParams } from './params.ts';
import { quote } from './quote.ts';

const invalid = (message: string) => new ApiError(422, `Invalid pipeline: ${message}`);

/** Operations a pipeline step may name: every operation and `resize` (the ZIP step is the planner's). */
const REQUESTABLE = StepOp.options.filter((op) => op !== 'bundle');

function stepId(raw: Record<string, unknown>, index: number): string {
  const parsed = StepId.safeParse(raw.id);
  if (!parsed.success) {
    throw invalid(`step ${index + 1} needs an "id" of 1-40 characters a-z 0-9 _ - starting with a letter`);
  }
  return parsed.data;
}

function stepInputs(raw: Record<string, unknown>, id: string): string[] {
  const inputs = raw.inputs ?? (raw.input === undefined ? undefined : [raw.input]);
  const [input] = Array.isArray(inputs) && inputs.length === 1 ? inputs : [];
  if (typeof input !== 'string') {
    throw invalid(`step "${id}" must name exactly one input ("source" or an earlier step) in "input"`);
  }
  if (input !== SOURCE && !StepId.safeParse(input).success) {
    throw invalid(`step "${id}" reads ${quote(input)}, which does not exist`);
  }
  return [input];
}

/** One step, its params checked by the operation's shared schema (a resize step's params are its box). */
function draft(raw: unknown, index: number, readers: ReadonlySet<string>): StepSpec {
  if (!isObject(raw)) throw invalid(`step ${index + 1} must be an object`);
  const id = stepId(raw, index);
  const op = StepOp.safeParse(raw.op);
  if (!op.success || op.data === 'bundle') {
    throw invalid(
      `step "${id}" has an unknown operation ${quote(raw.op)}; expected ${REQUESTABLE.join(', ')}`,
    );
  }
  const params = raw.params ?? {};
  if (!isObject(params)) throw invalid(`step "${id}" params must be an object`);
  const inputs = stepInputs(raw, id);
  const label = op.data === 'resize' ? `pipeline step "${id}" resize` : `pipeline step "${id}"`;
  const checked = checkParams(op.data, label, params);
  if (!checked.ok) throw new ApiError(422, checked.problem.message);
  const result = readers.has(id) ? null : id;
  return StepSpec.parse({ id, op: op.data, params: checked.params, inputs, result });
}

/**
 * The optional `pipeline` field: a JSON array of `{id, op, input, params}` (`inputs: [one]` is accepted
 * too). Validated as a DAG (unknown step or operation, missing input, cycle, too many steps → 422 naming
 * the step). Steps no other step reads are the job's results, keyed by their id.
 */
export function parsePipeline(raw: string | null, maxSteps: number): StepSpec[] | null {
  if (raw === null) return null;
  const json = parseJson(raw, 'Invalid pipeline JSON');
  if (!Array.isArray(json)) throw invalid('expected a JSON array of steps');
  if (json.length > maxSteps) throw invalid(`a job has at most ${maxSteps} steps`);
  const readers = new Set(
    json
      .flatMap((step) =>
        isObject(step) ? [step.input, ...(Array.isArray(step.inputs) ? step.inputs : [])] : [],
      )
      .filter((input): input is string => typeof input === 'string'),
  );
  const steps = json.map((step, index) => draft(step, index, readers));
  const result = validateDag(steps, maxSteps);
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
