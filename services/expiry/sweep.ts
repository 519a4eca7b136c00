import type { Kysely } from 'kysely';
import type { Database } from '../../projections/database.ts';
import { findDueForExpiry } from '../../projections/queries.ts';
import type { Bus } from '../../shared/bus/connect.ts';
import type { Logger } from '../../shared/log.ts';
import { keys, type Storage } from '../../shared/storage/storage.ts';

export type ExpiryDeps = Readonly<{
  db: Kysely<Database>;
  bus: Bus;
  storage: Storage;
  log: Logger;
  now: () => Date;
}>;

/**
 * Deletes a job's objects (source, outputs, bundle) and records `JobExpired`. Safe to repeat: deleting
 * is idempotent and the event's id is deterministic (`<jobId>:JobExpired`).
 */
export async function expireJob(deps: ExpiryDeps, jobId: string): Promise<number> {
  const deletedObjects = await deps.storage.deletePrefixes(keys.jobPrefixes(jobId));
  const time = deps.now().toISOString();
  await deps.bus.log.append({ jobId, correlationId: jobId, causationId: null, time }, [
    { type: 'JobExpired', data: { deletedObjects } },
  ]);
  return deletedObjects;
}

/**
 * One pass of the retention sweeper: every job past its `expires_at` (carried by `JobSubmitted`) that the
 * read model does not show as expired yet. Works on any S3 backend, lifecycle rules or not; the rules
 * are a second line of defence. Returns how many jobs were expired.
 */
export async function sweepExpired(deps: ExpiryDeps, batchSize: number): Promise<number> {
  const due = await findDueForExpiry(deps.db, deps.now(), batchSize);
  for (const jobId of due) {
    const deleted = await expireJob(deps, jobId);
    deps.log.info({ jobId, deleted }, 'job expired');
  }
  return due.length;
}
