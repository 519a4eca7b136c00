import { randomUUID } from 'node:crypto';
import type { Bus } from '../../../shared/bus/connect.ts';
import type { NewEvent } from '../../../shared/events/events.ts';

export type Outcome = 'completed' | 'failed';

/** The events a finished one-step job leaves in the log, appended directly (no converter needed). */
export function jobEvents(jobId: string, webhookUrl: string | null, outcome: Outcome): NewEvent[] {
  return [
    {
      type: 'JobSubmitted',
      data: {
        source: {
          key: `raw/${jobId}/source.png`,
          format: 'png',
          bytes: 100,
          width: 4,
          height: 3,
          originalName: 'photo.png',
          sha256: 'a'.repeat(64),
        },
        operations: ['webp'],
        operationParams: {},
        pipeline: null,
        webhookUrl,
        requestId: 'notifier-test',
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      },
    },
    {
      type: 'JobPlanned',
      data: { steps: [{ id: 'webp', op: 'webp', params: {}, inputs: ['source'], result: 'webp' }] },
    },
    outcome === 'completed'
      ? {
          type: 'StepSucceeded',
          data: {
            stepId: 'webp',
            output: {
              key: `outputs/${jobId}/webp.webp`,
              format: 'webp',
              contentType: 'image/webp',
              bytes: 42,
              width: 4,
              height: 3,
              filename: 'pixtools_webp_photo.webp',
            },
            metadata: null,
            durationMs: 3,
          },
        }
      : { type: 'StepFailed', data: { stepId: 'webp', error: 'corrupt image', attempts: 1 } },
  ];
}

/** Appends a finished job and returns its id; the terminal event is stamped last, as the planner does. */
export async function appendJob(bus: Bus, webhookUrl: string | null, outcome: Outcome = 'completed') {
  const jobId = randomUUID();
  const context = (time: Date) => ({
    jobId,
    correlationId: jobId,
    causationId: null,
    time: time.toISOString(),
  });
  await bus.log.append(context(new Date()), jobEvents(jobId, webhookUrl, outcome));
  const terminal: NewEvent =
    outcome === 'completed'
      ? { type: 'JobCompleted', data: {} }
      : {
          type: 'JobFailed',
          data: { error: 'Step "webp" (webp) failed: corrupt image', failedStep: 'webp' },
        };
  await bus.log.append(context(new Date()), [terminal]);
  return jobId;
}
