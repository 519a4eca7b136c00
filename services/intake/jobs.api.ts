import { Hono } from 'hono';
import { z } from 'zod';
import { findJob, type JobView } from '../../projections/queries.ts';
import type { IntakeDeps } from './deps.ts';
import { ApiError } from './errors.ts';
import { jobBody } from './job-body.ts';
import { JobCache } from './job-cache.ts';
import { viewFromEvents } from './job-from-log.ts';

const JobId = z.uuid();

/**
 * `GET /api/jobs/{id}` from the read model, or, for a job it has not caught up with yet (or while
 * Postgres is down), from the job's own events: the same body, links included. A bus that cannot be
 * read either answers 503 with Retry-After, never an empty or wrong job.
 */
export function jobsApi({ db, bus, storage, now, log }: IntakeDeps) {
  const unavailable = (what: string) =>
    new ApiError(503, `Job store unavailable: ${what}; try again shortly`, { 'Retry-After': '2' });
  const cache = new JobCache(bus);
  return new Hono().get('/jobs/:id', async (c) => {
    const id = c.req.param('id');
    if (!JobId.safeParse(id).success) throw new ApiError(422, `Invalid job id: ${id.slice(0, 100)}`);
    let cached = cache.get(id);
    if (cached?.json) return c.body(cached.json, 200, { 'Content-Type': 'application/json' });
    let view: JobView | null = cached?.view ?? null;
    try {
      if (view === null) {
        view = await findJob(db, id);
        if (view !== null) cached = cache.set(id, view);
      }
    } catch (error) {
      log.warn({ err: error, jobId: id }, 'job read failed; reading the event log instead');
    }
    if (view === null) {
      try {
        view = viewFromEvents((await bus.log.history(id)).events);
      } catch (error) {
        log.warn({ err: error, jobId: id }, 'job history read failed');
        throw unavailable('neither the read model nor the event log answered');
      }
    }
    if (view === null) throw new ApiError(404, `Job ${id} not found`);
    const json = JSON.stringify(await jobBody(view, storage, now()));
    if (cached?.reusable && cached.view === view) cached.json = json;
    return c.body(json, 200, { 'Content-Type': 'application/json' });
  });
}
