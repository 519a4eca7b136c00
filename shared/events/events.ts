import { z } from 'zod';
import { byOp, ImageFormat, Operation, OperationParams, StepSpec } from './operations.ts';

/**
 * The job event log: a versioned discriminated union. Every event is `{ type, data, metadata }`.
 * Events are immutable; a new shape gets a new `version` and the parser keeps reading the old one.
 */
export const EVENT_VERSION = 1;

const Uuid = z.uuid();
const IsoTime = z.iso.datetime({ offset: true });

export const EventMetadata = z.object({
  eventId: z.string().min(1).max(200),
  jobId: Uuid,
  time: IsoTime,
  version: z.literal(EVENT_VERSION),
  correlationId: z.string().min(1).max(200),
  causationId: z.string().min(1).max(200).nullable(),
});
export type EventMetadata = z.infer<typeof EventMetadata>;

export const SourceImage = z.object({
  key: z.string().min(1),
  format: ImageFormat,
  bytes: z.number().int().nonnegative(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  originalName: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type SourceImage = z.infer<typeof SourceImage>;

export const StepOutput = z.object({
  key: z.string().min(1),
  format: z.string().min(1),
  contentType: z.string().min(1),
  bytes: z.number().int().nonnegative(),
  width: z.number().int().nonnegative().nullable(),
  height: z.number().int().nonnegative().nullable(),
  filename: z.string().min(1),
});
export type StepOutput = z.infer<typeof StepOutput>;

export const ExifSummary = z.object({
  camera_make: z.string().nullable(),
  camera_model: z.string().nullable(),
  lens_model: z.string().nullable(),
  captured_at: z.string().nullable(),
  exposure_time: z.string().nullable(),
  aperture: z.number().nullable(),
  iso: z.number().nullable(),
  gps: z.object({ latitude: z.number(), longitude: z.number(), altitude: z.number().nullable() }).nullable(),
});
export type ExifSummary = z.infer<typeof ExifSummary>;

/** The command a worker receives, also carried by `StepDispatched` so the dispatcher can relay it. */
export const RunStep = byOp({
  jobId: Uuid,
  stepId: z.string().min(1),
  inputs: z.array(
    z.object({ from: z.string(), key: z.string().min(1), format: z.string(), filename: z.string() }),
  ),
  outputKey: z.string().min(1),
  originalName: z.string(),
  correlationId: z.string().min(1),
  dispatchEventId: z.string().min(1),
});
export type RunStep = z.infer<typeof RunStep>;

const event = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.object({ type: z.literal(type), data, metadata: EventMetadata });

export const JobSubmitted = event(
  'JobSubmitted',
  z.object({
    source: SourceImage,
    operations: z.array(Operation),
    operationParams: OperationParams,
    pipeline: z.array(StepSpec).nullable(),
    webhookUrl: z.string().nullable(),
    requestId: z.string(),
    expiresAt: IsoTime,
  }),
);
export const JobPlanned = event('JobPlanned', z.object({ steps: z.array(StepSpec).min(1) }));
export const StepDispatched = event('StepDispatched', z.object({ stepId: z.string(), command: RunStep }));
export const StepStarted = event(
  'StepStarted',
  z.object({ stepId: z.string(), attempt: z.number().int().positive(), worker: z.string() }),
);
export const StepRetrying = event(
  'StepRetrying',
  z.object({
    stepId: z.string(),
    attempt: z.number().int().positive(),
    error: z.string(),
    retryInMs: z.number().int().nonnegative(),
  }),
);
export const StepSucceeded = event(
  'StepSucceeded',
  z.object({
    stepId: z.string(),
    output: StepOutput.nullable(),
    metadata: ExifSummary.nullable(),
    durationMs: z.number().nonnegative(),
  }),
);
export const StepFailed = event(
  'StepFailed',
  z.object({ stepId: z.string(), error: z.string(), attempts: z.number().int().nonnegative() }),
);
export const JobCompleted = event('JobCompleted', z.object({}));
export const JobFailed = event(
  'JobFailed',
  z.object({ error: z.string(), failedStep: z.string().nullable() }),
);
export const JobExpired = event('JobExpired', z.object({ deletedObjects: z.number().int().nonnegative() }));
export const WebhookAttempted = event(
  'WebhookAttempted',
  z.object({
    deliveryId: z.string(),
    url: z.string(),
    attempt: z.number().int().positive(),
    error: z.string().nullable(),
  }),
);
export const WebhookDelivered = event(
  'WebhookDelivered',
  z.object({
    deliveryId: z.string(),
    url: z.string(),
    attempts: z.number().int().positive(),
    statusCode: z.number().int(),
  }),
);
export const WebhookFailed = event(
  'WebhookFailed',
  z.object({
    deliveryId: z.string(),
    url: z.string(),
    attempts: z.number().int().nonnegative(),
    error: z.string(),
  }),
);

export const JobEvent = z.discriminatedUnion('type', [
  JobSubmitted,
  JobPlanned,
  StepDispatched,
  StepStarted,
  StepRetrying,
  StepSucceeded,
  StepFailed,
  JobCompleted,
  JobFailed,
  JobExpired,
  WebhookAttempted,
  WebhookDelivered,
  WebhookFailed,
]);
export type JobEvent = z.infer<typeof JobEvent>;
export type JobEventType = JobEvent['type'];
export type EventOf<T extends JobEventType> = Extract<JobEvent, { type: T }>;
/** What a decider returns: an event without metadata, which the appender stamps. */
export type NewEvent = { [T in JobEventType]: { type: T; data: EventOf<T>['data'] } }[JobEventType];

export class InvalidMessageError extends Error {
  readonly code = 'INVALID_MESSAGE';
}

/** Parses bytes from the bus into a typed event; throws `InvalidMessageError` with the reason. */
export function parseEvent(bytes: Uint8Array): JobEvent {
  return parseWith(JobEvent, bytes, 'event');
}

export function parseRunStep(bytes: Uint8Array): RunStep {
  return parseWith(RunStep, bytes, 'RunStep');
}

function parseWith<S extends z.ZodType>(schema: S, bytes: Uint8Array, what: string): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new InvalidMessageError(`${what} is not JSON: ${(error as Error).message}`);
  }
  const result = schema.safeParse(json);
  if (!result.success) throw new InvalidMessageError(`invalid ${what}: ${z.prettifyError(result.error)}`);
  return result.data;
}

/** Best effort: the job a malformed message was about, so its failure can be reported to that job. */
export function salvageJobRef(bytes: Uint8Array): { jobId: string; stepId: string | null } | null {
  try {
    const json = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
    const jobId = Uuid.safeParse(json.jobId);
    if (!jobId.success) return null;
    return { jobId: jobId.data, stepId: typeof json.stepId === 'string' ? json.stepId : null };
  } catch {
    return null;
  }
}
