import { Hono } from 'hono';
import { z } from 'zod';
import { findJob, type JobView } from '../../projections/queries.ts';
import type { IntakeDeps } from './deps.ts';
import { ApiError } from './errors.ts';
import { jobBody, jobBodyFromLog } from './job-body.ts';
import { clip } from './submission/quote.ts';

const JobId = z.uuid();

/**
 * `GET /api/jobs/{id}` from the read model (or, for a job it has not caught up with yet, from the job's
 * events). While Postgres is down it answers 503; submissions keep working.
 */
export function jobsApi({ db, bus, storage, now, log }: IntakeDeps) {
  return new Hono().get('/jobs/:id', async (c) => {
    const id = c.req.param('id');
    if (!JobId.safeParse(id).success) throw new ApiError(422, `Invalid job id: ${clip(id)}`);
    let view: JobView | null;
    try {
      view = await findJob(db, id);
    } catch (error) {
      log.warn({ err: error, jobId: id }, 'job read failed');
      throw new ApiError(503, 'Job store unavailable: database unreachable; try again shortly', {
        'Retry-After': '5',
      });
    }
    if (view !== null) return c.json(await jobBody(view, storage, now()));
    const history = await bus.log.history(id);
    const fromLog = jobBodyFromLog(
      history.events.map((stored) => stored.event),
      now(),
    );
    if (fromLog === null) throw new ApiError(404, `Job ${id} not found`);
    return c.json(fromLog);
  });
}
