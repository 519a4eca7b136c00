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
import { checkIdempotencyKey, fingerprint, IdempotencyKeys } from './submission/idempotency.ts';
import { type Submission, validateSubmission } from './submission/validate.ts';

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
    throw new ApiError(503, 'Storage unavailable: the upload could not be stored; try again shortly');
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
    deps.log.error({ err: error, jobId }, 'JobSubmitted could not be appended');
    throw new ApiError(503, 'Event log unavailable: the job could not be recorded; try again shortly');
  }
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
    const jobId = newId();
    const print = fingerprint(submission);
    if (clientKey !== null) {
      const reservation = await idempotency.reserve(clientKey, print, jobId);
      if (reservation.kind === 'replay') {
        const history = await bus.log.history(reservation.jobId);
        const status = statusOf(history.events.map((stored) => stored.event));
        return c.json({ job_id: reservation.jobId, status }, 202);
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
