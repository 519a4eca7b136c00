import type { Bus } from '../../shared/bus/connect.ts';
import type { Logger } from '../../shared/log.ts';
import { keys, LIFECYCLE_PREFIXES, type Storage } from '../../shared/storage/storage.ts';

export type ExpiryDeps = Readonly<{
  bus: Bus;
  storage: Storage;
  log: Logger;
  now: () => Date;
  /** The image retention (RETENTION_SECONDS): an object younger than this cannot belong to an expired job. */
  retentionMs: number;
}>;

/**
 * Deletes a job's objects (source, outputs, bundle) and records `JobExpired`. Safe to repeat: deleting
 * is idempotent and the event's id is deterministic (`<jobId>:JobExpired`).
 */
export async function expireJob(deps: ExpiryDeps, jobId: string, record = true): Promise<number> {
  const deletedObjects = await deps.storage.deletePrefixes(keys.jobPrefixes(jobId));
  if (!record) return deletedObjects;
  const time = deps.now().toISOString();
  await deps.bus.log.append({ jobId, correlationId: jobId, causationId: null, time }, [
    { type: 'JobExpired', data: { deletedObjects } },
  ]);
  return deletedObjects;
}

/** A job has objects stored; when its first one was written. Objects are laid out `<prefix>/<jobId>/…`. */
async function jobsWithObjects(storage: Storage): Promise<Map<string, number>> {
  const oldest = new Map<string, number>();
  for (const prefix of LIFECYCLE_PREFIXES) {
    for await (const { key, lastModified } of storage.list(prefix)) {
      const jobId = key.slice(prefix.length).split('/')[0];
      if (jobId === undefined || jobId === '') continue;
      const at = lastModified.getTime();
      oldest.set(jobId, Math.min(at, oldest.get(jobId) ?? at));
    }
  }
  return oldest;
}

/**
 * One pass of the retention sweeper. It reads only the bucket and the event log, never the read model,
 * so a stalled projection cannot stop images from being deleted: every job with an object older than
 * the retention is looked up in its history and expired once its `expires_at` (from `JobSubmitted`)
 * has passed. An upload whose job was never recorded (a failed submission) is deleted too. Works on
 * any S3 backend, lifecycle rules or not; the rules are a second line of defence. Returns how many
 * jobs were expired.
 */
export async function sweepExpired(deps: ExpiryDeps, batchSize: number): Promise<number> {
  const now = deps.now().getTime();
  // One minute of slack: S3 servers round the last-modified time; the history decides exactly.
  const candidates = [...(await jobsWithObjects(deps.storage))]
    .filter(([, at]) => at <= now - deps.retentionMs + 60_000)
    .sort(([, a], [, b]) => a - b)
    .slice(0, batchSize);
  let expired = 0;
  for (const [jobId, oldest] of candidates) {
    const { events } = await deps.bus.log.history(jobId);
    const submitted = events.find((stored) => stored.event.type === 'JobSubmitted')?.event;
    if (submitted === undefined || submitted.type !== 'JobSubmitted') {
      if (oldest > now - deps.retentionMs) continue;
      const deleted = await expireJob(deps, jobId, false);
      deps.log.warn({ jobId, deleted }, 'deleted the objects of a submission that was never recorded');
      continue;
    }
    if (Date.parse(submitted.data.expiresAt) > now) continue;
    const already = events.some((stored) => stored.event.type === 'JobExpired');
    const deleted = await expireJob(deps, jobId, !already);
    deps.log.info({ jobId, deleted }, 'job expired');
    if (!already) expired++;
  }
  return expired;
}
