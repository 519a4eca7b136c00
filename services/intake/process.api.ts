import type { Readable } from 'node:stream';
import { type Context, Hono } from 'hono';
import { CapacityBoard } from '../../shared/bus/capacity.ts';
import { CONTENT_TYPES } from '../../shared/events/operations.ts';
import { statusOf } from '../../shared/jobs/status.ts';
import { keys } from '../../shared/storage/storage.ts';
import { Admission } from './admission.ts';
import type { IntakeDeps } from './deps.ts';
import { ApiError } from './errors.ts';
import { recordAdmissionRefusal } from './metrics.ts';
import { readRawForm } from './submission/form.ts';
import { checkIdempotencyKey, fingerprint, IdempotencyKeys, jobIdFor } from './submission/idempotency.ts';
import { UploadSlots } from './submission/uploads.ts';
import { jobOps, requestedOps, type Submission, validateSubmission } from './submission/validate.ts';

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

/** What a 503 (storage or event log unavailable) tells clients to wait. */
const RETRY_AFTER_SECONDS = '2';

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
    throw new ApiError(503, 'Storage unavailable: the upload could not be stored; try again shortly', {
      'Retry-After': RETRY_AFTER_SECONDS,
    });
  }
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

/**
 * Reads a request body to its end without keeping it: at most `maxBytes` and `deadlineMs`, after which
 * the rest is left (the connection is then closed after the answer, as for any oversized body).
 */
export function discardBody(incoming: Readable, deadlineMs: number, maxBytes: number): Promise<void> {
  if (incoming.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    let bytes = 0;
    const done = () => {
      clearTimeout(timer);
      incoming.off('data', onData);
      incoming.off('end', done);
      incoming.off('error', done);
      incoming.off('close', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        incoming.pause();
        done();
      }
    };
    const timer = setTimeout(() => {
      incoming.pause();
      done();
    }, deadlineMs);
    incoming.on('data', onData);
    incoming.once('end', done);
    incoming.once('error', done);
    incoming.once('close', done);
    incoming.resume();
  });
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
    const incoming = (c.env as { incoming?: Readable } | undefined)?.incoming;
    let release: () => void;
    try {
      await admission.precheck();
      release = uploads.acquire();
    } catch (error) {
      // Refused before reading the body: read and discard it (no parsing, no copy) before answering, so
      // the client can finish sending and reads the 429; answering first made Node close the connection
      // under the client's upload (EPIPE / "other side closed" instead of a 429).
      if (incoming) await discardBody(incoming, config.bodyTimeoutMs, config.maxUploadBytes * 2);
      throw error;
    }
    try {
      const form = await readRawForm(c.req.raw, read, incoming);
      // Refused early if its queue is over budget (no hashing, no image decoding for work that cannot
      // be taken); checked again below, once the request is valid, and recorded as admitted there.
      const ops = requestedOps(form, config);
      if (ops !== null) await admission.check(ops);
      const submission = await validateSubmission(form, config, log);
      await admission.admit(jobOps(submission.steps));
      return await accept(c, submission);
    } finally {
      release();
    }
  });

  async function accept(c: Context, submission: Submission) {
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
  }
}
