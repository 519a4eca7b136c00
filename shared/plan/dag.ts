import { type Operation, SOURCE, type StepSpec } from '../events/operations.ts';

/** Why a requested DAG cannot run; `step` names the offending step when there is one. */
export type DagProblem = Readonly<{ step: string | null; message: string }>;
export type DagResult =
  | Readonly<{ ok: true; steps: StepSpec[] }>
  | Readonly<{ ok: false; problem: DagProblem }>;

export const MAX_STEPS = 20;

/**
 * The reference meaning of `operations`: each operation reads the source and is a result of the job.
 * Pure; intake runs it to answer 422 early and the planner runs it to plan.
 */
export function stepsFromOperations(
  operations: readonly Operation[],
  params: Readonly<Record<string, Readonly<Record<string, unknown>>>>,
): StepSpec[] {
  return [...new Set(operations)].map((op) => ({
    id: op,
    op,
    params: { ...(params[op] ?? {}) },
    inputs: [SOURCE],
    result: op,
  }));
}

/** Checks ids are unique, inputs exist and come earlier (which also rules out cycles), and the size bound. */
export function validateDag(steps: readonly StepSpec[]): DagResult {
  if (steps.length === 0) return { ok: false, problem: { step: null, message: 'pipeline has no steps' } };
  if (steps.length > MAX_STEPS) {
    return { ok: false, problem: { step: null, message: `pipeline has more than ${MAX_STEPS} steps` } };
  }
  const seen = new Set<string>();
  const all = new Set(steps.map((step) => step.id));
  for (const step of steps) {
    if (step.id === SOURCE || seen.has(step.id)) {
      return {
        ok: false,
        problem: { step: step.id, message: `step id "${step.id}" is used twice or reserved` },
      };
    }
    for (const input of step.inputs) {
      if (input === SOURCE || seen.has(input)) continue;
      const message = all.has(input)
        ? `step "${step.id}" reads "${input}", which does not come before it (cycle or wrong order)`
        : `step "${step.id}" reads "${input}", which does not exist`;
      return { ok: false, problem: { step: step.id, message } };
    }
    seen.add(step.id);
  }
  return { ok: true, steps: [...steps] };
}
