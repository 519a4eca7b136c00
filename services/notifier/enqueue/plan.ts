import { createHash } from 'node:crypto';
import type { ExifSummary, JobEvent, StepOutput } from '../../../shared/events/events.ts';
import { type TerminalEvent, terminalStatus } from '../../../shared/jobs/status.ts';
import type { WebhookEventName, WebhookPayload } from '../delivery.ts';

export type Download = Readonly<{ key: string; filename: string }>;

/** Everything a terminal event's webhook needs, read from the job's own events. */
export type DeliveryPlan = Readonly<{
  deliveryId: string;
  url: string;
  event: WebhookEventName;
  createdAt: string;
  expiresAt: string;
  results: ReadonlyArray<Download & { name: string }>;
  archive: Download | null;
  metadata: ExifSummary | null;
}>;

export type PlanOutcome =
  | Readonly<{ send: true; plan: DeliveryPlan }>
  | Readonly<{ send: false; reason: 'no-webhook' | 'already-settled' }>;

/** Deterministic per terminal event: a redelivered event names the same delivery. */
export function deliveryIdFor(terminal: TerminalEvent): string {
  return createHash('sha256').update(`webhook:${terminal.metadata.eventId}`).digest('hex').slice(0, 32);
}

/** Pure: what to send for `terminal`, given the job's history (which contains it). */
export function planDelivery(history: readonly JobEvent[], terminal: TerminalEvent): PlanOutcome {
  const submitted = history.find((event) => event.type === 'JobSubmitted');
  if (submitted?.type !== 'JobSubmitted' || submitted.data.webhookUrl === null) {
    return { send: false, reason: 'no-webhook' };
  }
  const deliveryId = deliveryIdFor(terminal);
  const settled = history.some(
    (event) =>
      (event.type === 'WebhookDelivered' || event.type === 'WebhookFailed') &&
      event.data.deliveryId === deliveryId,
  );
  if (settled) return { send: false, reason: 'already-settled' };

  const specs = new Map<string, { op: string; result: string | null }>();
  const outputs: { stepId: string; output: StepOutput }[] = [];
  let metadata: ExifSummary | null = null;
  for (const event of history) {
    if (event.type === 'JobPlanned') for (const spec of event.data.steps) specs.set(spec.id, spec);
    if (event.type !== 'StepSucceeded') continue;
    if (event.data.output !== null) outputs.push({ stepId: event.data.stepId, output: event.data.output });
    if (event.data.metadata !== null) metadata = event.data.metadata;
  }
  const results: (Download & { name: string })[] = [];
  let archive: Download | null = null;
  for (const { stepId, output } of outputs) {
    const spec = specs.get(stepId);
    const download = { key: output.key, filename: output.filename };
    if (spec?.op === 'bundle') archive = download;
    if (spec?.result) results.push({ name: spec.result, ...download });
  }
  return {
    send: true,
    plan: {
      deliveryId,
      url: submitted.data.webhookUrl,
      event: terminal.type === 'JobCompleted' ? 'job.completed' : 'job.failed',
      createdAt: submitted.metadata.time,
      expiresAt: submitted.data.expiresAt,
      results,
      archive,
      metadata,
    },
  };
}

/** The body, once download URLs are signed (`sign` returns null after the retention window). */
export async function payloadFor(
  jobId: string,
  plan: DeliveryPlan,
  terminal: TerminalEvent,
  sign: (download: Download) => Promise<string | null>,
): Promise<WebhookPayload> {
  const resultUrls: Record<string, string> = {};
  for (const result of plan.results) {
    const url = await sign(result);
    if (url !== null) resultUrls[result.name] = url;
  }
  return {
    job_id: jobId,
    status: terminalStatus(terminal),
    result_urls: resultUrls,
    archive_url: plan.archive === null ? null : await sign(plan.archive),
    metadata: plan.metadata ?? {},
    error_message: terminal.type === 'JobFailed' ? terminal.data.error : null,
    created_at: plan.createdAt,
    completed_at: terminal.metadata.time,
  };
}
