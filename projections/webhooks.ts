import { sql, type Transaction } from 'kysely';
import type { EventOf } from '../shared/events/events.ts';
import type { Database } from './database.ts';

type WebhookEvent = EventOf<'WebhookAttempted' | 'WebhookDelivered' | 'WebhookFailed'>;

/**
 * Webhook outcomes: the `webhook_deliveries` row of each delivery, and the job row's `webhook_status`.
 * The job's `status` (COMPLETED_WEBHOOK_FAILED and back) follows `shared/jobs/status.ts`, applied by the caller.
 * Every column comes from event data, and applying an event twice changes nothing.
 */
export async function applyWebhookEvent(
  trx: Transaction<Database>,
  seq: number,
  event: WebhookEvent,
): Promise<void> {
  await upsertDelivery(trx, seq, event);
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
      return;
    default: {
      const never: never = event;
      throw new Error(`unhandled webhook event ${JSON.stringify(never)}`);
    }
  }
}

async function upsertDelivery(trx: Transaction<Database>, seq: number, event: WebhookEvent): Promise<void> {
  const { time, jobId } = event.metadata;
  const { deliveryId, url } = event.data;
  const base = {
    delivery_id: deliveryId,
    job_id: jobId,
    url,
    first_event_at: time,
    updated_at: time,
    last_seq: seq,
  };
  const insert = trx.insertInto('webhook_deliveries');
  const attempts = sql<number>`greatest(webhook_deliveries.attempts, excluded.attempts)`;
  const moved = { attempts, updated_at: time, last_seq: seq };
  switch (event.type) {
    case 'WebhookAttempted': {
      const { attempt, error } = event.data;
      await insert
        .values({
          ...base,
          status: 'retrying',
          attempts: attempt,
          last_error: error,
          status_code: null,
          finished_at: null,
        })
        .onConflict((oc) =>
          oc
            .column('delivery_id')
            .doUpdateSet({ ...moved, last_error: error })
            .where('webhook_deliveries.status', '=', 'retrying'),
        )
        .execute();
      return;
    }
    case 'WebhookDelivered': {
      const { attempts: count, statusCode } = event.data;
      const done = { status: 'delivered', status_code: statusCode, finished_at: time };
      await insert
        .values({ ...base, ...done, attempts: count, last_error: null })
        .onConflict((oc) => oc.column('delivery_id').doUpdateSet({ ...moved, ...done }))
        .execute();
      return;
    }
    case 'WebhookFailed': {
      const { attempts: count, error } = event.data;
      const done = { status: 'failed', last_error: error, finished_at: time };
      await insert
        .values({ ...base, ...done, attempts: count, status_code: null })
        .onConflict((oc) =>
          oc
            .column('delivery_id')
            .doUpdateSet({ ...moved, ...done })
            .where('webhook_deliveries.status', '!=', 'delivered'),
        )
        .execute();
      return;
    }
    default: {
      const never: never = event;
      throw new Error(`unhandled webhook event ${JSON.stringify(never)}`);
    }
  }
}
