import type { EventOf, JobEvent, StepOutput } from '../../../shared/events/events.ts';
import type { Harness } from '../../support/harness.ts';

/** Waits for the job to finish and returns its history. */
export async function finished(
  h: Harness,
  jobId: string,
  status: 'COMPLETED' | 'FAILED',
): Promise<JobEvent[]> {
  await h.waitForJob(jobId, (view) => view.job.status === status, 60_000);
  return h.history(jobId);
}

export function succeeded(history: readonly JobEvent[], stepId: string): EventOf<'StepSucceeded'>['data'] {
  const found = history.find(
    (event): event is EventOf<'StepSucceeded'> =>
      event.type === 'StepSucceeded' && event.data.stepId === stepId,
  );
  if (!found) throw new Error(`no StepSucceeded for ${stepId}: ${history.map((e) => e.type).join(', ')}`);
  return found.data;
}

export async function download(h: Harness, output: StepOutput | null): Promise<Buffer> {
  if (output === null) throw new Error('the step has no output');
  return h.storage.get(output.key);
}
