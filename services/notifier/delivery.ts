import { z } from 'zod';

/** The body every webhook carries (reference receivers read job_id, status and result_urls). */
export const WebhookPayload = z.object({
  job_id: z.uuid(),
  status: z.enum(['COMPLETED', 'FAILED']),
  result_urls: z.record(z.string(), z.string()),
  archive_url: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  error_message: z.string().nullable(),
  created_at: z.string(),
  completed_at: z.string(),
});
export type WebhookPayload = z.infer<typeof WebhookPayload>;

export const WebhookEventName = z.enum(['job.completed', 'job.failed']);
export type WebhookEventName = z.infer<typeof WebhookEventName>;

/** A delivery as it travels through RabbitMQ. Validated whenever it is read back. */
export const Delivery = z.object({
  version: z.literal(1),
  deliveryId: z.string().regex(/^[0-9a-f]{32}$/),
  event: WebhookEventName,
  url: z.string().min(1),
  jobId: z.uuid(),
  correlationId: z.string().min(1),
  /** The terminal event's id: what caused this delivery. */
  causationId: z.string().min(1),
  payload: WebhookPayload,
});
export type Delivery = z.infer<typeof Delivery>;

export class UnparsableDeliveryError extends Error {
  readonly code = 'UNPARSABLE_DELIVERY';
}

export function parseDelivery(content: Buffer): Delivery {
  let json: unknown;
  try {
    json = JSON.parse(content.toString('utf8'));
  } catch (error) {
    throw new UnparsableDeliveryError(`not JSON: ${(error as Error).message}`);
  }
  const result = Delivery.safeParse(json);
  if (!result.success) throw new UnparsableDeliveryError(z.prettifyError(result.error));
  return result.data;
}
