import type { JobView } from '../../projections/queries.ts';
import type { JobEvent } from '../../shared/events/events.ts';
import { nextStatus } from '../../shared/jobs/status.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Job = Mutable<JobView['job']>;
type Step = Mutable<JobView['steps'][number]>;
type Delivery = Mutable<JobView['webhooks'][number]>;

const UNFINISHED = ['pending', 'dispatched', 'running'];

/**
 * The read model's view of one job, folded from the job's own events: used when the projection has
 * not caught up (or is down), so a job read from the log carries the same body, links included.
 * It mirrors `projections/project.ts` row by row; statuses come from the shared status rules.
 */
export function viewFromEvents(events: readonly { seq: number; event: JobEvent }[]): JobView | null {
  let job: Job | null = null;
  const steps = new Map<string, Step>();
  const artifacts: JobView['artifacts'][number][] = [];
  const webhooks = new Map<string, Delivery>();
  for (const { seq, event } of events) {
    if (job === null) {
      if (event.type !== 'JobSubmitted') continue;
      job = submitted(event, seq);
      continue;
    }
    const time = new Date(event.metadata.time);
    job.status = nextStatus(job.status as Parameters<typeof nextStatus>[0], event);
    job.last_seq = seq;
    const data = event.data as { stepId?: string };
    const step = data.stepId === undefined ? undefined : steps.get(data.stepId);
    const unfinished = step !== undefined && UNFINISHED.includes(step.status);
    switch (event.type) {
      case 'JobPlanned':
        event.data.steps.forEach((spec, position) => {
          steps.set(spec.id, {
            job_id: job?.job_id ?? '',
            step_id: spec.id,
            position,
            op: spec.op,
            params: spec.params,
            inputs: spec.inputs,
            result: spec.result,
            status: 'pending',
            attempts: 0,
            error: null,
            dispatched_at: null,
            started_at: null,
            finished_at: null,
            duration_ms: null,
          });
        });
        break;
      case 'StepDispatched':
        if (step?.status === 'pending') Object.assign(step, { status: 'dispatched', dispatched_at: time });
        break;
      case 'StepStarted':
      case 'StepRetrying':
        if (step && unfinished) {
          step.attempts = Math.max(step.attempts, event.data.attempt);
          if (event.type === 'StepStarted') {
            step.status = 'running';
            step.started_at ??= time;
          } else step.error = event.data.error;
        }
        break;
      case 'StepSucceeded':
        if (step && unfinished) {
          Object.assign(step, { status: 'succeeded', finished_at: time, error: null });
          step.duration_ms = Math.round(event.data.durationMs);
          const { output, metadata } = event.data;
          if (output !== null) {
            artifacts.push({
              job_id: job.job_id,
              step_id: step.step_id,
              result: step.result,
              ...artifact(output),
            });
          }
          if (metadata !== null) job.metadata = metadata;
        }
        break;
      case 'StepFailed':
        if (step && unfinished)
          Object.assign(step, { status: 'failed', finished_at: time, error: event.data.error });
        break;
      case 'JobCompleted':
        job.completed_at ??= time;
        break;
      case 'JobFailed':
        job.completed_at ??= time;
        job.error_message ??= event.data.error;
        job.failed_step ??= event.data.failedStep;
        break;
      case 'JobExpired':
        job.expired = true;
        break;
      case 'WebhookAttempted':
      case 'WebhookDelivered':
      case 'WebhookFailed':
        webhook(job, webhooks, event, seq);
        break;
      case 'JobSubmitted':
        break;
      default: {
        const never: never = event;
        throw new Error(`unhandled event ${JSON.stringify(never)}`);
      }
    }
  }
  if (job === null) return null;
  artifacts.sort((a, b) => a.step_id.localeCompare(b.step_id));
  return { job, steps: [...steps.values()], artifacts, webhooks: [...webhooks.values()] };
}

function submitted(event: Extract<JobEvent, { type: 'JobSubmitted' }>, seq: number): Job {
  const { source, operations, pipeline, webhookUrl, requestId, expiresAt } = event.data;
  const time = new Date(event.metadata.time);
  return {
    job_id: event.metadata.jobId,
    status: 'PENDING',
    operations,
    pipeline,
    original_name: source.originalName,
    source_key: source.key,
    source_format: source.format,
    source_bytes: source.bytes,
    source_width: source.width,
    source_height: source.height,
    webhook_url: webhookUrl,
    webhook_status: webhookUrl === null ? null : 'pending',
    metadata: {},
    error_message: null,
    failed_step: null,
    request_id: requestId,
    created_at: time,
    updated_at: time,
    completed_at: null,
    expires_at: new Date(expiresAt),
    expired: false,
    last_seq: seq,
  };
}

function artifact(output: NonNullable<Extract<JobEvent, { type: 'StepSucceeded' }>['data']['output']>) {
  const { key, format, contentType, bytes, width, height, filename } = output;
  return { key, format, content_type: contentType, bytes, width, height, filename };
}

function webhook(
  job: Job,
  webhooks: Map<string, Delivery>,
  event: Extract<JobEvent, { type: 'WebhookAttempted' | 'WebhookDelivered' | 'WebhookFailed' }>,
  seq: number,
): void {
  const time = new Date(event.metadata.time);
  const { deliveryId, url } = event.data;
  const delivery: Delivery = webhooks.get(deliveryId) ?? {
    delivery_id: deliveryId,
    job_id: job.job_id,
    url,
    status: 'retrying',
    attempts: 0,
    last_error: null,
    status_code: null,
    first_event_at: time,
    updated_at: time,
    finished_at: null,
    last_seq: seq,
  };
  webhooks.set(deliveryId, delivery);
  Object.assign(delivery, { updated_at: time, last_seq: seq });
  if (delivery.status === 'delivered') return;
  switch (event.type) {
    case 'WebhookAttempted':
      delivery.attempts = Math.max(delivery.attempts, event.data.attempt);
      delivery.last_error = event.data.error;
      if (job.webhook_status === 'pending') job.webhook_status = 'retrying';
      return;
    case 'WebhookDelivered':
      Object.assign(delivery, { status: 'delivered', status_code: event.data.statusCode, finished_at: time });
      delivery.attempts = event.data.attempts;
      job.webhook_status = 'delivered';
      return;
    case 'WebhookFailed':
      Object.assign(delivery, { status: 'failed', last_error: event.data.error, finished_at: time });
      delivery.attempts = event.data.attempts;
      job.webhook_status = 'failed';
      return;
  }
}
