import { Hono } from 'hono';
import { z } from 'zod';
import { findJob, type JobView } from '../../projections/queries.ts';
import type { Storage } from '../../shared/storage/storage.ts';
import type { IntakeDeps } from './deps.ts';
import { ApiError } from './errors.ts';

const JobId = z.uuid();

/** Maps the read model to the public job body, signing every download URL afresh. */
async function toJobBody(view: JobView, storage: Storage, now: Date) {
  const { job, steps, artifacts } = view;
  const secondsLeft = Math.floor((job.expires_at.getTime() - now.getTime()) / 1000);
  const expired = job.expired || secondsLeft <= 0;
  const resultUrls: Record<string, string> = {};
  if (!expired) {
    for (const artifact of artifacts) {
      if (artifact.result === null) continue;
      resultUrls[artifact.result] = await storage.presign(artifact.key, artifact.filename, secondsLeft);
    }
  }
  return {
    job_id: job.job_id,
    status: job.status,
    operations: job.operations,
    result_urls: resultUrls,
    archive_url: null,
    metadata: job.metadata ?? {},
    error_message: job.error_message,
    created_at: job.created_at.toISOString(),
    expires_at: job.expires_at.toISOString(),
    expired,
    steps: steps.map((step) => ({
      id: step.step_id,
      operation: step.op,
      inputs: step.inputs,
      status: step.status,
      attempts: step.attempts,
      error: step.error,
      started_at: step.started_at?.toISOString() ?? null,
      finished_at: step.finished_at?.toISOString() ?? null,
      duration_ms: step.duration_ms,
    })),
  };
}

export function jobsApi({ db, storage, now }: IntakeDeps) {
  return new Hono().get('/jobs/:id', async (c) => {
    const id = c.req.param('id');
    if (!JobId.safeParse(id).success) throw new ApiError(422, `Invalid job id: ${id}`);
    const view = await findJob(db, id);
    if (view === null) throw new ApiError(404, `Job ${id} not found`);
    return c.json(await toJobBody(view, storage, now()));
  });
}
