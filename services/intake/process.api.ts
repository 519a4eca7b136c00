import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { CapacityBoard } from '../../shared/bus/capacity.ts';
import { CONTENT_TYPES } from '../../shared/events/operations.ts';
import { statusOf } from '../../shared/jobs/status.ts';
import { stepsFromOperations, withBundle } from '../../shared/plan/dag.ts';
import { keys } from '../../shared/storage/storage.ts';
import { Admission } from './admission.ts';
import type { IntakeDeps } from './deps.ts';
import { ApiError } from './errors.ts';
import { recordAdmissionRefusal } from './metrics.ts';
import { megabytes } from './submission/form.ts';
import { checkIdempotencyKey, fingerprint, IdempotencyKeys, jobIdFor } from './submission/idempotency.ts';
import { type Submission, validateSubmission } from './submission/validate.ts';

/** What a 503 (storage or event log unavailable) tells clients to wait. */
const RETRY_AFTER_SECONDS = '2';

/** Multipart overhead allowed beyond the file limit before the body is refused unread. */
const FORM_OVERHEAD_BYTES = 1024 * 1024;

/** Stores the upload and appends `JobSubmitted`: the job exists once this returns. */
async function submit(deps: IntakeDeps, submission: Submission, jobId: string, requestId: string) {
  const { config, storage, bus, now } = deps;
  const { image } = submission;
  const time = now();
  const key = keys.raw(jobId, image.format);
  const expiresAt = new Date(time.getTime() + config.infra.s3.retentionSeconds * 1000).toISOString();
  try {
    await storage.put(key, submission.bytes, CONTENT_TYPES[image.format], undefined, submission.sha256);
  } catch (error) {
    deps.log.error({ err: error, jobId }, 'upload could not be stored');
    throw new ApiError(503, 'Storage unavailable: the upload could not be stored; try again shortly', {
      'Retry-After': RETRY_AFTER_SECONDS,
    });
  }
  const source = {
    key,
    format: image.format,
    bytes: submission.bytes.length,
    width: image.width,
    height: image.height,
    originalName: submission.originalName,
    sha256: submission.sha256,
  };
  const { operations, operationParams, pipeline, webhookUrl } = submission;
  const data = { source, operations, operationParams, pipeline, webhookUrl, requestId, expiresAt };
  const context = { jobId, correlationId: jobId, causationId: null, time: time.toISOString() };
  try {
    await bus.log.append(context, [{ type: 'JobSubmitted', data }]);
  } catch (error) {
    if (await recorded(deps, jobId)) return; // the append timed out, but the job was stored
    deps.log.error({ err: error, jobId }, 'JobSubmitted could not be appended');
    throw new ApiError(503, 'Event log unavailable: the job could not be recorded; try again shortly', {
      'Retry-After': RETRY_AFTER_SECONDS,
    });
  }
}

/**
 * After a failed append: true when the job was stored all the same. When the log says for sure that it
 * was not, the upload is deleted; when the log cannot tell, it is left to the expiry sweeper, which
 * deletes uploads of jobs that were never recorded.
 */
async function recorded(deps: IntakeDeps, jobId: string): Promise<boolean> {
  const history = await deps.bus.log.history(jobId).catch(() => null);
  if (history === null) return false;
  if (history.events.some((stored) => stored.event.type === 'JobSubmitted')) return true;
  await deps.storage
    .deletePrefixes(keys.jobPrefixes(jobId))
    .catch((error: unknown) => deps.log.warn({ err: error, jobId }, 'failed upload not deleted'));
  return false;
}

/** `POST /api/process`: refuse under overload, validate, reserve the idempotency key, store, append. */
export function processApi(deps: IntakeDeps) {
  const { config, bus, redis, log, newId } = deps;
  const idempotency = new IdempotencyKeys(redis, config.infra.namespace, config.idempotencyTtlSeconds);
  const admission =
    deps.admission ??
    new Admission(
      (queue, timeoutMs) => bus.work.depth(queue, timeoutMs),
      new CapacityBoard(bus.nc, bus.names),
      config.admission,
      recordAdmissionRefusal,
    );
  const limit = bodyLimit({
    maxSize: config.maxUploadBytes + FORM_OVERHEAD_BYTES,
    onError: (c) => c.json({ detail: `File exceeds ${megabytes(config.maxUploadBytes)} limit` }, 413),
  });
  return new Hono().post('/process', limit, async (c) => {
    await admission.precheck();
    const submission = await validateSubmission(await c.req.parseBody(), config, log);
    const steps =
      submission.pipeline ?? stepsFromOperations(submission.operations, submission.operationParams);
    await admission.admit(withBundle(steps).map((step) => step.op));
    const clientKey = checkIdempotencyKey(c.req.header('idempotency-key'));
    const print = fingerprint(submission);
    let jobId = clientKey === null ? newId() : jobIdFor(config.infra.namespace, clientKey, print);
    if (clientKey !== null) {
      const reservation = await idempotency.reserve(clientKey, print, jobId);
      if (reservation.kind === 'replay') {
        const history = await bus.log.history(reservation.jobId).catch((error: unknown) => {
          log.error({ err: error, jobId: reservation.jobId }, 'idempotent replay: history unreadable');
          throw new ApiError(503, 'Event log unavailable: try again shortly', {
            'Retry-After': RETRY_AFTER_SECONDS,
          });
        });
        if (history.events.length > 0) {
          const status = statusOf(history.events.map((stored) => stored.event));
          return c.json({ job_id: reservation.jobId, status }, 202);
        }
        // Reserved, but its job was never recorded (the first request crashed, or is still under way):
        // submit it now under the reserved id; a concurrent first request's append is de-duplicated.
        jobId = reservation.jobId;
      }
    }
    try {
      await submit(deps, submission, jobId, c.get('requestId' as never) as string);
    } catch (error) {
      if (clientKey !== null) await idempotency.release(clientKey, print, jobId);
      throw error;
    }
    return c.json({ job_id: jobId, status: 'PENDING' }, 202);
  });
}
