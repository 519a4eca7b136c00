import type { Transaction } from 'kysely';
import type { EventOf } from '../shared/events/events.ts';
import type { Database } from './database.ts';

type WebhookEvent = EventOf<'WebhookAttempted' | 'WebhookDelivered' | 'WebhookFailed'>;

/** Webhook outcomes on the job row. A completed job whose webhook failed for good says so. */
export async function applyWebhookEvent(
  trx: Transaction<Database>,
  seq: number,
  event: WebhookEvent,
): Promise<void> {
  const touch = { updated_at: event.metadata.time, last_seq: seq };
  const jobs = trx.updateTable('jobs').where('job_id', '=', event.metadata.jobId);
  switch (event.type) {
    case 'WebhookAttempted':
      await jobs
        .set({ ...touch, webhook_status: 'retrying' })
        .where('webhook_status', 'in', ['pending', 'retrying'])
        .execute();
      return;
    case 'WebhookDelivered':
      await jobs.set({ ...touch, webhook_status: 'delivered' }).execute();
      return;
    case 'WebhookFailed':
      await jobs
        .set({ ...touch, webhook_status: 'failed' })
        .where('webhook_status', '!=', 'delivered')
        .execute();
      await jobs.set({ status: 'COMPLETED_WEBHOOK_FAILED' }).where('status', '=', 'COMPLETED').execute();
      return;
    default: {
      const never: never = event;
      throw new Error(`unhandled webhook event ${JSON.stringify(never)}`);
    }
  }
}
