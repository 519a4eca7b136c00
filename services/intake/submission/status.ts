import type { JobEvent } from '../../../shared/events/events.ts';

export type JobStatus = 'PENDING' | 'PROCESSING' | 'COMPLETED' | 'FAILED' | 'COMPLETED_WEBHOOK_FAILED';

const ACTIVE: readonly JobStatus[] = ['PENDING', 'PROCESSING'];

/**
 * A job's public status from its events, as the projection folds it: it only moves forward
 * (PENDING → PROCESSING → COMPLETED | FAILED; a completed job whose webhook failed for good is
 * COMPLETED_WEBHOOK_FAILED). Used where the read model may lag or be down (idempotent replays).
 */
export function statusOf(events: readonly JobEvent[]): JobStatus {
  let status: JobStatus = 'PENDING';
  for (const event of events) {
    switch (event.type) {
      case 'StepStarted':
        if (status === 'PENDING') status = 'PROCESSING';
        break;
      case 'JobCompleted':
        if (ACTIVE.includes(status)) status = 'COMPLETED';
        break;
      case 'JobFailed':
        if (ACTIVE.includes(status)) status = 'FAILED';
        break;
      case 'WebhookFailed':
        if (status === 'COMPLETED') status = 'COMPLETED_WEBHOOK_FAILED';
        break;
      case 'WebhookDelivered':
        if (status === 'COMPLETED_WEBHOOK_FAILED') status = 'COMPLETED';
        break;
      default:
        break;
    }
  }
  return status;
}
