import type { JobView } from '../../projections/queries.ts';
import type { Storage } from '../../shared/storage/storage.ts';

type Artifact = JobView['artifacts'][number];
type Step = JobView['steps'][number];

const iso = (time: Date | null) => time?.toISOString() ?? null;

function stepBody(step: Step, artifact: Artifact | undefined) {
  return {
    id: step.step_id,
    operation: step.op,
    inputs: step.inputs,
    result: step.result,
    status: step.status,
    attempts: step.attempts,
    error: step.error,
    dispatched_at: iso(step.dispatched_at),
    started_at: iso(step.started_at),
    finished_at: iso(step.finished_at),
    duration_ms: step.duration_ms,
    output: artifact
      ? { format: artifact.format, bytes: artifact.bytes, width: artifact.width, height: artifact.height }
      : null,
  };
}

/**
 * The public job body. Download URLs are signed on every read and live only until the job's retention
 * ends; once it has ended the job says `expired: true` and hands out no links at all.
 */
export async function jobBody(view: JobView, storage: Storage, now: Date) {
  const { job, steps, artifacts } = view;
  const secondsLeft = Math.floor((job.expires_at.getTime() - now.getTime()) / 1000);
  const expired = job.expired || secondsLeft <= 0;
  const byStep = new Map(artifacts.map((artifact) => [artifact.step_id, artifact]));
  const bundleStep = steps.find((step) => step.op === 'bundle');
  const sign = (artifact: Artifact) => storage.presign(artifact.key, artifact.filename, secondsLeft);
  // The reference keeps EXIF out of `result_urls` (it is the body's `metadata`); its JSON download is
  // the additive `metadata_url` (and an entry of the ZIP).
  const metadataSteps = new Set(steps.filter((step) => step.op === 'metadata').map((step) => step.step_id));
  const resultUrls: Record<string, string> = {};
  let archiveUrl: string | null = null;
  let metadataUrl: string | null = null;
  if (!expired) {
    for (const artifact of artifacts) {
      if (artifact.result === null) continue;
      if (metadataSteps.has(artifact.step_id)) metadataUrl ??= await sign(artifact);
      else resultUrls[artifact.result] = await sign(artifact);
    }
    const bundle = bundleStep && byStep.get(bundleStep.step_id);
    if (bundle) archiveUrl = await sign(bundle);
  }
  return {
    job_id: job.job_id,
    status: job.status,
    operations: job.operations,
    result_urls: resultUrls,
    archive_url: archiveUrl,
    metadata: job.metadata ?? {},
    metadata_url: metadataUrl,
    error_message: job.error_message,
    created_at: job.created_at.toISOString(),
    expires_at: job.expires_at.toISOString(),
    expired,
    steps: steps.map((step) => stepBody(step, expired ? undefined : byStep.get(step.step_id))),
    webhook: webhookBody(view),
  };
}

/** The webhook's state: `pending` until the job ends, then the delivery's outcome (URL not echoed). */
function webhookBody({ job, webhooks }: JobView) {
  if (job.webhook_status === null) return null;
  const delivery = webhooks.at(-1);
  return {
    status: job.webhook_status,
    attempts: delivery?.attempts ?? 0,
    last_error: delivery?.last_error ?? null,
    status_code: delivery?.status_code ?? null,
    finished_at: iso(delivery?.finished_at ?? null),
  };
}
