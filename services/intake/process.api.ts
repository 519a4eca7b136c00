import type { Readable } from 'node:stream';
import { type Context, Hono } from 'hono';
import { CapacityBoard } from '../../shared/bus/capacity.ts';
import { CONTENT_TYPES } from '../../shared/events/operations.ts';
import { statusOf } from '../../shared/jobs/status.ts';
import { stepsFromOperations, withBundle } from '../../shared/plan/dag.ts';
import { keys } from '../../shared/storage/storage.ts';
import { Admission } from './admission.ts';
import type { IntakeDeps } from './deps.ts';
import { ApiError } from './errors.ts';
import { recordAdmissionRefusal } from './metrics.ts';
import { readRawForm } from './submission/form.ts';
import { checkIdempotencyKey, fingerprint, IdempotencyKeys } from './submission/idempotency.ts';
import { UploadSlots } from './submission/uploads.ts';
import { type Submission, validateSubmission } from './submission/validate.ts';

/** Room kept for the message headers and the metadata the appender stamps. */
const EVENT_HEADROOM_BYTES = 1024;

/**
 * A `JobSubmitted` must fit in one NATS message (the server's max_payload, and `MAX_EVENT_BYTES`):
 * checked before the upload is stored, so an oversized request is a 413, never a 503 after the upload.
 */
function checkEventSize({ bus, config }: IntakeDeps, data: unknown): void {
  const limit = Math.min(bus.nc.info?.max_payload ?? config.maxEventBytes, config.maxEventBytes);
  const bytes = Buffer.byteLength(JSON.stringify(data)) + EVENT_HEADROOM_BYTES;
  if (bytes > limit) {
    throw new ApiError(
      413,
      `The request's fields are too large for one job: ${bytes} bytes, at most ${limit} (shorten pipeline or operation_params)`,
    );
  }
}

/** Stores the upload and appends `JobSubmitted`: the job exists once this returns. */
async function submit(deps: IntakeDeps, submission: Submission, jobId: string, requestId: string) {
  const { config, storage, bus, now } = deps;
  const { image } = submission;
  const time = now();
  const key = keys.raw(jobId, image.format);
  const expiresAt = new Date(time.getTime() + config.infra.s3.retentionSeconds * 1000).toISOString();
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
  checkEventSize(deps, data);
  try {
    await storage.put(key, submission.bytes, CONTENT_TYPES[image.format], undefined, submission.sha256);
  } catch (error) {
    deps.log.error({ err: error, jobId }, 'upload could not be stored');
    throw new ApiError(503, 'Storage unavailable: the upload could not be stored; try again shortly');
  }
  try {
    await bus.log.append(context, [{ type: 'JobSubmitted', data }]);
  } catch (error) {
    deps.log.error({ err: error, jobId }, 'JobSubmitted could not be appended');
    throw new ApiError(503, 'Event log unavailable: the job could not be recorded; try again shortly');
  }
}

/**
 * `POST /api/process`: refuse under overload (admission, or too many uploads in flight), read the body
 * within its deadline, validate, admit by the real queue wait, reserve the idempotency key, store, append.
 */
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
  const uploads = new UploadSlots(config.maxConcurrentUploads);
  const read = { maxFileBytes: config.maxUploadBytes, deadlineMs: config.bodyTimeoutMs };
  return new Hono().post('/process', async (c) => {
    await admission.precheck();
    const release = uploads.acquire();
    try {
      const incoming = (c.env as { incoming?: Readable } | undefined)?.incoming;
      const form = await readRawForm(c.req.raw, read, incoming);
      const submission = await validateSubmission(form, config, log);
      const steps =
        submission.pipeline ?? stepsFromOperations(submission.operations, submission.operationParams);
      await admission.admit(withBundle(steps).map((step) => step.op));
      return await accept(c, submission);
    } finally {
      release();
    }
  });

  async function accept(c: Context, submission: Submission) {
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
  }
}
