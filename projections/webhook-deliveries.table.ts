import type { ColumnType, Insertable, Selectable } from 'kysely';

type Time = ColumnType<Date, string, string>;

/** One row per webhook delivery (a job's terminal event × its webhook URL), folded from Webhook* events. */
export interface WebhookDeliveriesTable {
  delivery_id: string;
  job_id: string;
  url: string;
  /** `retrying` | `delivered` | `failed` */
  status: string;
  attempts: number;
  last_error: string | null;
  status_code: number | null;
  first_event_at: Time;
  updated_at: Time;
  finished_at: Time | null;
  last_seq: number;
}

export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
export type NewWebhookDelivery = Insertable<WebhookDeliveriesTable>;
