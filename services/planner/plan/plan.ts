import type { EventOf, JobEvent, StepOutput } from '../../../shared/events/events.ts';
import type { StepSpec } from '../../../shared/events/operations.ts';

/** One step as the planner sees it. Each variant carries only what is valid in it. */
export type StepState =
  | Readonly<{ status: 'pending'; spec: StepSpec }>
  | Readonly<{ status: 'dispatched'; spec: StepSpec }>
  | Readonly<{ status: 'running'; spec: StepSpec; attempt: number }>
  | Readonly<{ status: 'succeeded'; spec: StepSpec; output: StepOutput | null }>
  | Readonly<{ status: 'failed'; spec: StepSpec; error: string }>;

type Submitted = EventOf<'JobSubmitted'>['data'];

export type JobState =
  | Readonly<{ status: 'initial' }>
  | Readonly<{ status: 'submitted'; jobId: string; correlationId: string; request: Submitted }>
  | Readonly<{
      status: 'active';
      jobId: string;
      correlationId: string;
      request: Submitted;
      steps: ReadonlyMap<string, StepState>;
    }>
  | Readonly<{ status: 'completed' | 'failed'; jobId: string; request: Submitted }>;

export const initialState: JobState = { status: 'initial' };

/** Folds one event into the job's state. Pure; late and duplicate events leave a finished step alone. */
export function evolve(state: JobState, event: JobEvent): JobState {
  switch (event.type) {
    case 'JobSubmitted':
      if (state.status !== 'initial') return state;
      return {
        status: 'submitted',
        jobId: event.metadata.jobId,
        correlationId: event.metadata.correlationId,
        request: event.data,
      };
    case 'JobPlanned': {
      if (state.status !== 'submitted') return state;
      const steps = new Map<string, StepState>(
        event.data.steps.map((spec) => [spec.id, { status: 'pending', spec } as const]),
      );
      return { ...state, status: 'active', steps };
    }
    case 'StepDispatched':
      return updateStep(state, event.data.stepId, (step) =>
        step.status === 'pending' ? { status: 'dispatched', spec: step.spec } : step,
      );
    case 'StepStarted':
      return updateStep(state, event.data.stepId, (step) =>
        step.status === 'pending' || step.status === 'dispatched' || step.status === 'running'
          ? { status: 'running', spec: step.spec, attempt: event.data.attempt }
          : step,
      );
    case 'StepSucceeded':
      return updateStep(state, event.data.stepId, (step) =>
        isFinished(step) ? step : { status: 'succeeded', spec: step.spec, output: event.data.output },
      );
    case 'StepFailed':
      return updateStep(state, event.data.stepId, (step) =>
        isFinished(step) ? step : { status: 'failed', spec: step.spec, error: event.data.error },
      );
    case 'JobCompleted':
    case 'JobFailed':
      if (state.status === 'initial') return state;
      return {
        status: event.type === 'JobCompleted' ? 'completed' : 'failed',
        jobId: state.jobId,
        request: state.request,
      };
    case 'StepRetrying':
    case 'StepProgressed':
    case 'JobExpired':
    case 'WebhookAttempted':
    case 'WebhookDelivered':
    case 'WebhookFailed':
      return state;
    default: {
      const never: never = event;
      throw new Error(`unhandled event ${JSON.stringify(never)}`);
    }
  }
}

export function isFinished(step: StepState): boolean {
  return step.status === 'succeeded' || step.status === 'failed';
}

function updateStep(state: JobState, stepId: string, change: (step: StepState) => StepState): JobState {
  if (state.status !== 'active') return state;
  const step = state.steps.get(stepId);
  if (step === undefined) return state;
  const steps = new Map(state.steps);
  steps.set(stepId, change(step));
  return { ...state, steps };
}

export function fold(events: readonly JobEvent[]): JobState {
  return events.reduce(evolve, initialState);
}
