import type { NewEvent, RunStep, StepOutput } from '../../../shared/events/events.ts';
import { opParamsOf, SOURCE, type StepSpec } from '../../../shared/events/operations.ts';
import { stepsFromOperations, validateDag, withBundle } from '../../../shared/plan/dag.ts';
import { keys } from '../../../shared/storage/storage.ts';
import { evolve, isFinished, type JobState } from './plan.ts';

/**
 * What the job needs next, given everything that happened to it. Pure: the same history always
 * yields the same events, so a second planner (or a retry) decides the same thing.
 */
export function decide(state: JobState): NewEvent[] {
  switch (state.status) {
    case 'initial':
    case 'completed':
    case 'failed':
      return [];
    case 'submitted':
      return [plan(state)];
    case 'active':
      return advance(state);
    default: {
      const never: never = state;
      throw new Error(`unhandled state ${JSON.stringify(never)}`);
    }
  }
}

/** Decides repeatedly until the job needs nothing more right now (plan, then dispatch, …). */
export function decideAll(
  state: JobState,
  stamp: (event: NewEvent) => Parameters<typeof evolve>[1],
): NewEvent[] {
  const out: NewEvent[] = [];
  let current = state;
  for (let round = 0; round < 10; round++) {
    const events = decide(current);
    if (events.length === 0) break;
    out.push(...events);
    current = events.reduce((s, e) => evolve(s, stamp(e)), current);
  }
  return out;
}

/** The requested DAG (the pipeline, or one step per operation), validated, then the ZIP step after all. */
function plan(state: Extract<JobState, { status: 'submitted' }>): NewEvent {
  const { request } = state;
  const requested = request.pipeline ?? stepsFromOperations(request.operations, request.operationParams);
  const result = validateDag(requested);
  if (!result.ok) {
    return {
      type: 'JobFailed',
      data: { error: `Invalid pipeline: ${result.problem.message}`, failedStep: null },
    };
  }
  return { type: 'JobPlanned', data: { steps: withBundle(result.steps) } };
}

function advance(state: Extract<JobState, { status: 'active' }>): NewEvent[] {
  const steps = [...state.steps.values()];
  const failed = steps.find((step) => step.status === 'failed');
  if (failed !== undefined && failed.status === 'failed') {
    return [
      {
        type: 'JobFailed',
        data: {
          error: `Step "${failed.spec.id}" (${failed.spec.op}) failed: ${failed.error}`,
          failedStep: failed.spec.id,
        },
      },
    ];
  }
  if (steps.every(isFinished)) return [{ type: 'JobCompleted', data: {} }];
  const outputs = new Map<string, StepOutput | null>();
  for (const step of steps) if (step.status === 'succeeded') outputs.set(step.spec.id, step.output);
  return steps
    .filter(
      (step) => step.status === 'pending' && step.spec.inputs.every((i) => i === SOURCE || outputs.has(i)),
    )
    .map((step) => ({
      type: 'StepDispatched',
      data: { stepId: step.spec.id, command: command(state, step.spec, outputs) },
    }));
}

function command(
  state: Extract<JobState, { status: 'active' }>,
  spec: StepSpec,
  outputs: ReadonlyMap<string, StepOutput | null>,
): RunStep {
  const { source } = state.request;
  const inputs = spec.inputs.flatMap((from) => {
    if (from === SOURCE)
      return [{ from, key: source.key, format: source.format, filename: source.originalName }];
    const output = outputs.get(from);
    return output ? [{ from, key: output.key, format: output.format, filename: output.filename }] : [];
  });
  const inputFormat = inputs[0]?.format ?? source.format;
  return {
    jobId: state.jobId,
    stepId: spec.id,
    ...opParamsOf(spec),
    inputs,
    outputKey: outputKeyFor(state.jobId, spec, inputFormat),
    originalName: source.originalName,
    correlationId: state.correlationId,
    dispatchEventId: `${state.jobId}:StepDispatched:${spec.id}`,
  };
}

export function outputKeyFor(jobId: string, spec: StepSpec, inputFormat: string): string {
  switch (spec.op) {
    case 'jpg':
    case 'png':
    case 'webp':
    case 'avif':
      return keys.output(jobId, spec.id, spec.op);
    case 'denoise':
      return keys.output(jobId, spec.id, spec.params.format ?? 'png');
    case 'metadata':
      return keys.output(jobId, spec.id, 'json');
    case 'resize':
      return keys.output(jobId, spec.id, inputFormat);
    case 'bundle':
      return keys.bundle(jobId, spec.id);
    default: {
      const never: never = spec;
      throw new Error(`unknown op ${JSON.stringify(never)}`);
    }
  }
}
