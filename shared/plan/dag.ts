import { type Operation, type OperationParams, SOURCE, StepSpec } from '../events/operations.ts';

/** Why a requested DAG cannot run; `step` names the offending step when there is one. */
export type DagProblem = Readonly<{ step: string | null; message: string }>;
export type DagResult =
  | Readonly<{ ok: true; steps: StepSpec[] }>
  | Readonly<{ ok: false; problem: DagProblem }>;

/** Steps a request may have by default (`MAX_PIPELINE_STEPS`), and the most any configuration allows. */
export const MAX_STEPS = 20;
export const MAX_STEPS_CEILING = 50;
/** The id of the ZIP step the planner adds after the results. Reserved: no requested step may use it. */
export const BUNDLE_STEP = 'bundle';

/**
 * The reference meaning of `operations`: each operation reads the source and is a result of the job.
 * Pure; intake runs it to answer 422 early and the planner runs it to plan.
 */
export function stepsFromOperations(operations: readonly Operation[], params: OperationParams): StepSpec[] {
  return [...new Set(operations)].map((op) =>
    StepSpec.parse({ id: op, op, params: params[op] ?? {}, inputs: [SOURCE], result: op }),
  );
}

const refuse = (step: string | null, message: string): DagResult => ({
  ok: false,
  problem: { step, message },
});

/**
 * Checks the size bound, unique and unreserved ids, that every input exists, and that there is no cycle;
 * returns the steps in a topological order that keeps the requested order wherever it can.
 */
export function validateDag(steps: readonly StepSpec[], maxSteps = MAX_STEPS_CEILING): DagResult {
  if (steps.length === 0) return refuse(null, 'pipeline has no steps');
  if (steps.length > maxSteps) return refuse(null, `a job has at most ${maxSteps} steps`);
  const byId = new Map<string, StepSpec>();
  for (const step of steps) {
    if (step.id === SOURCE || step.id === BUNDLE_STEP)
      return refuse(step.id, `step id "${step.id}" is reserved`);
    if (byId.has(step.id)) return refuse(step.id, `step id "${step.id}" is used twice`);
    byId.set(step.id, step);
  }
  for (const step of steps) {
    const missing = step.inputs.find((input) => input !== SOURCE && !byId.has(input));
    if (missing !== undefined)
      return refuse(step.id, `step "${step.id}" reads "${missing}", which does not exist`);
  }
  const ordered: StepSpec[] = [];
  const placed = new Set<string>([SOURCE]);
  while (ordered.length < steps.length) {
    const next = steps.find(
      (step) => !placed.has(step.id) && step.inputs.every((input) => placed.has(input)),
    );
    if (next === undefined) {
      const stuck = steps.filter((step) => !placed.has(step.id));
      const onCycle = stuck.find((step) => reaches(step.id, step.id, byId)) ?? stuck[0];
      return refuse(onCycle?.id ?? null, `step "${onCycle?.id}" is part of a cycle`);
    }
    ordered.push(next);
    placed.add(next.id);
  }
  return { ok: true, steps: ordered };
}

/** Whether `target` is reachable from `from` by following inputs. */
function reaches(from: string, target: string, byId: ReadonlyMap<string, StepSpec>): boolean {
  const seen = new Set<string>();
  const stack = [...(byId.get(from)?.inputs ?? [])];
  while (stack.length > 0) {
    const id = stack.pop() ?? SOURCE;
    if (id === target) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(byId.get(id)?.inputs ?? []));
  }
  return false;
}

/**
 * Adds the ZIP step reading every result when there are two or more of them: the images and the EXIF
 * JSON of a `metadata` step (which is also the job body's `metadata` and its `metadata_url`).
 */
export function withBundle(steps: readonly StepSpec[]): StepSpec[] {
  const files = steps.filter((step) => step.result !== null).map((step) => step.id);
  if (files.length < 2) return [...steps];
  return [...steps, { id: BUNDLE_STEP, op: 'bundle', params: {}, inputs: files, result: null }];
}
