import { DeliverPolicy } from '@nats-io/jetstream';
import type { Bus } from '../../shared/bus/connect.ts';
import { type JobEvent, parseEvent } from '../../shared/events/events.ts';
import type { Logger } from '../../shared/log.ts';
import { keys, LIFECYCLE_PREFIXES, type Storage } from '../../shared/storage/storage.ts';
import type { ExpiryState } from './state.ts';

export type ExpiryDeps = Readonly<{
  bus: Bus;
  storage: Storage;
  log: Logger;
  now: () => Date;
  /** The image retention (RETENTION_SECONDS): an object younger than this cannot belong to an expired job. */
  retentionMs: number;
  /** Where the log pass keeps its cursor. */
  state: ExpiryState;
}>;

/** Events read from the log per fetch, and how long a fetch waits for a batch that is not full. */
const FETCH_EVENTS = 512;
const FETCH_WAIT_MS = 1_000;

/**
 * Deletes a job's objects (source, outputs, bundle) and records `JobExpired`. Safe to repeat: deleting
 * is idempotent and the event's id is deterministic (`<jobId>:JobExpired`); callers that may meet a job
 * twice use `expireOnce`.
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

/** Expires a job unless its last event already says it expired; true when it recorded `JobExpired`. */
async function expireOnce(deps: ExpiryDeps, jobId: string): Promise<boolean> {
  const already = (await deps.bus.log.last(jobId))?.event.type === 'JobExpired';
  const deleted = await expireJob(deps, jobId, !already);
  if (!already) deps.log.info({ jobId, deleted }, 'job expired');
  return !already;
}

const parsed = (bytes: Uint8Array): JobEvent | null => {
  try {
    return parseEvent(bytes);
  } catch {
    return null; // the consumers that own the event report malformed ones
  }
};

/**
 * The log pass, what the sweeper does every interval: it reads the events appended since its cursor,
 * in order, and expires every job whose `JobSubmitted` says `expires_at` has passed. Submissions are
 * appended in the order they were made, with the same retention, so the first one not due yet ends the
 * pass and the cursor stays just before it. Its cost follows the events since the last pass, not the
 * objects the bucket holds (listing a day of uploads every minute is what it replaced). At most
 * `batchSize` jobs per pass; returns how many it expired. It reads only the event log, never the read
 * model, so a stalled projection cannot stop images from being deleted.
 */
export async function sweepLog(deps: ExpiryDeps, batchSize: number): Promise<number> {
  const now = deps.now().getTime();
  const start = await deps.state.cursor();
  let cursor = start;
  let expired = 0;
  const consumer = await deps.bus.js.consumers.get(deps.bus.names.eventsStream, {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: start + 1,
  });
  try {
    let more = true;
    while (more) {
      const messages = await consumer.fetch({ max_messages: FETCH_EVENTS, expires: FETCH_WAIT_MS });
      more = false;
      try {
        for await (const msg of messages) {
          const event = parsed(msg.data);
          if (event?.type === 'JobSubmitted') {
            if (expired >= batchSize || Date.parse(event.data.expiresAt) > now) {
              more = false;
              break;
            }
            if (await expireOnce(deps, event.metadata.jobId)) expired++;
          }
          cursor = msg.seq;
          more = msg.info.pending > 0;
        }
      } finally {
        await messages.close();
      }
    }
  } finally {
    await consumer.delete().catch(() => false);
    if (cursor > start) await deps.state.setCursor(cursor);
  }
  return expired;
}

/**
 * The bucket pass, the backstop run every few hours (`EXPIRY_BUCKET_INTERVAL_MS`): it lists the bucket
 * and looks up in the log every job with an object older than the retention. It deletes the uploads of
 * submissions that were never recorded (intake stored the file, then the append failed), and expires
 * any job the log pass has not reached (a retention lowered since the job was submitted). Works on any
 * S3 backend, lifecycle rules or not; the rules are a second line of defence. Returns how many jobs
 * it expired.
 */
export async function sweepBucket(deps: ExpiryDeps, batchSize: number): Promise<number> {
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

/** Both passes, one after the other (the tests' "one sweep"); returns how many jobs were expired. */
export async function sweepExpired(deps: ExpiryDeps, batchSize: number): Promise<number> {
  return (await sweepLog(deps, batchSize)) + (await sweepBucket(deps, batchSize));
}
