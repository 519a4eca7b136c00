import {
  type Insertable,
  type Kysely,
  sql,
  type Transaction,
  type Updateable,
  type UpdateQueryBuilder,
  type UpdateResult,
} from 'kysely';
import type { EventOf, JobEvent } from '../shared/events/events.ts';
import { STATUS_MOVES } from '../shared/jobs/status.ts';
import type { Database } from './database.ts';
import { applyWebhookEvent } from './webhooks.ts';

export const CHECKPOINT = 'read_models';
/** Advisory lock key: a rebuild holds it exclusively, live projection takes it shared per transaction. */
export const REBUILD_LOCK = 7_271_001;

export type Envelope = Readonly<{ seq: number; event: JobEvent | null }>;

/**
 * Applies events in one transaction together with the checkpoint that covers them.
 * Sequences at or below the checkpoint are skipped, so redelivery and replays are no-ops.
 * A `null` event (malformed on the bus) only advances the checkpoint.
 */
export async function applyBatch(db: Kysely<Database>, batch: readonly Envelope[]): Promise<number> {
  if (batch.length === 0) return 0;
  return db.transaction().execute(async (trx) => {
    const checkpoint = await lockCheckpoint(trx);
    let applied = 0;
    let last = checkpoint.seq;
    const timeline: Insertable<Database['job_events']>[] = [];
    for (const { seq, event } of batch) {
      if (seq <= last) continue;
      if (event !== null) {
        await applyEvent(trx, seq, event);
        // progress keeps only its latest value (steps.progress), not a timeline row a second
        if (event.type !== 'StepProgressed') timeline.push(timelineRow(seq, event));
      }
      last = seq;
      applied++;
    }
    // The per-job timeline of the whole batch in one statement.
    if (timeline.length > 0) {
      await trx
        .insertInto('job_events')
        .values(timeline)
        .onConflict((oc) => oc.column('seq').doNothing())
        .execute();
    }
    if (last !== checkpoint.seq) {
      await trx
        .updateTable('projection_checkpoints')
        .set({ seq: last })
        .where('name', '=', CHECKPOINT)
        .execute();
    }
    return applied;
  });
}

/** Waits out a rebuild (shared advisory lock), then locks and reads the checkpoint row. */
function lockCheckpoint(trx: Transaction<Database>) {
  return sql`select pg_advisory_xact_lock_shared(${REBUILD_LOCK})`
    .execute(trx)
    .then(() =>
      trx
        .selectFrom('projection_checkpoints')
        .select('seq')
        .where('name', '=', CHECKPOINT)
        .forUpdate()
        .executeTakeFirstOrThrow(),
    );
}

export type BatchOutcome = Readonly<{ applied: number; quarantined: number }>;

/**
 * Applies a batch; if the database refuses it, applies its events one at a time, and an event the
 * database refuses for its data (SQLSTATE class 22 or 23: it would be refused on every retry) is
 * recorded in `projection_quarantine` with the reason, and the checkpoint moves past it. Any other
 * error (connection lost, timeout) is thrown: the caller retries from the checkpoint.
 */
export async function applyOrQuarantine(
  db: Kysely<Database>,
  batch: readonly Envelope[],
  now: () => Date = () => new Date(),
): Promise<BatchOutcome> {
  try {
    return { applied: await applyBatch(db, batch), quarantined: 0 };
  } catch (error) {
    if (!isRefusal(error)) throw error;
  }
  let applied = 0;
  let quarantined = 0;
  for (const envelope of batch) {
    try {
      applied += await applyBatch(db, [envelope]);
    } catch (error) {
      if (!isRefusal(error)) throw error;
      await quarantine(db, envelope, (error as Error).message, now());
      quarantined++;
    }
  }
  return { applied, quarantined };
}

/** The database refused the data itself (invalid text, constraint): retrying cannot help. */
export function isRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^2[23]/.test(code);
}

async function quarantine(db: Kysely<Database>, { seq, event }: Envelope, reason: string, at: Date) {
  await db.transaction().execute(async (trx) => {
    const checkpoint = await lockCheckpoint(trx);
    if (seq <= checkpoint.seq) return;
    await trx
      .insertInto('projection_quarantine')
      .values({
        seq,
        job_id: event?.metadata.jobId ?? null,
        type: event?.type ?? null,
        error: reason.slice(0, 2000),
        // JSON text escapes every control character, so even what jsonb refuses is stored here.
        event: JSON.stringify(event),
        quarantined_at: at.toISOString(),
      })
      .onConflict((oc) => oc.column('seq').doNothing())
      .execute();
    await trx.updateTable('projection_checkpoints').set({ seq }).where('name', '=', CHECKPOINT).execute();
  });
}

/** The job's status column moves as the shared status rules say, and only from where they apply. */
async function moveStatus(
  jobs: UpdateQueryBuilder<Database, 'jobs', 'jobs', UpdateResult>,
  event: JobEvent,
  columns: Updateable<Database['jobs']>,
): Promise<void> {
  const move = STATUS_MOVES[event.type];
  if (move === undefined) return;
  await jobs
    .set({ ...columns, status: move.to })
    .where('status', 'in', [...move.from])
    .execute();
}
const UNFINISHED_STEP = ['pending', 'dispatched', 'running'];

function timelineRow(seq: number, event: JobEvent): Insertable<Database['job_events']> {
  const { jobId, time, eventId } = event.metadata;
  return { seq, job_id: jobId, event_id: eventId, type: event.type, time, data: JSON.stringify(event.data) };
}

async function applyEvent(trx: Transaction<Database>, seq: number, event: JobEvent): Promise<void> {
  const { jobId, time } = event.metadata;
  if (event.type === 'StepProgressed') return applyProgress(trx, event);
  const touch = { updated_at: time, last_seq: seq };
  const jobs = trx.updateTable('jobs').where('job_id', '=', jobId);
  const step = (stepId: string) =>
    trx.updateTable('steps').where('job_id', '=', jobId).where('step_id', '=', stepId);

  switch (event.type) {
    case 'JobSubmitted': {
      const { source, operations, pipeline, webhookUrl, requestId, expiresAt } = event.data;
      await trx
        .insertInto('jobs')
        .values({
          job_id: jobId,
          status: 'PENDING',
          operations: JSON.stringify(operations),
          pipeline: pipeline === null ? null : JSON.stringify(pipeline),
          original_name: source.originalName,
          source_key: source.key,
          source_format: source.format,
          source_bytes: source.bytes,
          source_width: source.width,
          source_height: source.height,
          webhook_url: webhookUrl,
          webhook_status: webhookUrl === null ? null : 'pending',
          metadata: '{}',
          error_message: null,
          failed_step: null,
          request_id: requestId,
          created_at: time,
          updated_at: time,
          completed_at: null,
          expires_at: expiresAt,
          expired: false,
          last_seq: seq,
        })
        .onConflict((oc) => oc.column('job_id').doNothing())
        .execute();
      return;
    }
    case 'JobPlanned':
      await trx
        .insertInto('steps')
        .values(
          event.data.steps.map((spec, position) => ({
            job_id: jobId,
            step_id: spec.id,
            position,
            op: spec.op,
            params: JSON.stringify(spec.params),
            inputs: JSON.stringify(spec.inputs),
            result: spec.result,
            status: 'pending',
            attempts: 0,
            error: null,
            dispatched_at: null,
            started_at: null,
            finished_at: null,
            duration_ms: null,
          })),
        )
        .onConflict((oc) => oc.columns(['job_id', 'step_id']).doNothing())
        .execute();
      await jobs.set(touch).execute();
      return;
    case 'StepDispatched':
      await step(event.data.stepId)
        .set({ status: 'dispatched', dispatched_at: time })
        .where('status', '=', 'pending')
        .execute();
      return;
    case 'StepStarted':
      await step(event.data.stepId)
        .set((eb) => ({
          status: 'running',
          started_at: sql<string>`coalesce(started_at, ${time}::timestamptz)`,
          attempts: eb.fn('greatest', ['attempts', eb.val(event.data.attempt)]),
        }))
        .where('status', 'in', UNFINISHED_STEP)
        .execute();
      await moveStatus(jobs, event, touch);
      return;
    case 'StepRetrying':
      await step(event.data.stepId)
        .set((eb) => ({
          error: event.data.error,
          attempts: eb.fn('greatest', ['attempts', eb.val(event.data.attempt)]),
        }))
        .where('status', 'in', UNFINISHED_STEP)
        .execute();
      return;
    case 'StepSucceeded': {
      const { stepId, output, metadata, durationMs } = event.data;
      const updated = await step(stepId)
        .set({ status: 'succeeded', finished_at: time, duration_ms: Math.round(durationMs), error: null })
        .where('status', 'in', UNFINISHED_STEP)
        .returning('result')
        .executeTakeFirst();
      if (updated === undefined) return;
      if (output !== null) {
        await trx
          .insertInto('artifacts')
          .values({
            job_id: jobId,
            step_id: stepId,
            result: updated.result,
            key: output.key,
            format: output.format,
            content_type: output.contentType,
            bytes: output.bytes,
            width: output.width,
            height: output.height,
            filename: output.filename,
          })
          .onConflict((oc) => oc.columns(['job_id', 'step_id']).doNothing())
          .execute();
      }
      if (metadata !== null) await jobs.set({ ...touch, metadata: JSON.stringify(metadata) }).execute();
      return;
    }
    case 'StepFailed':
      await step(event.data.stepId)
        .set({ status: 'failed', finished_at: time, error: event.data.error })
        .where('status', 'in', UNFINISHED_STEP)
        .execute();
      return;
    case 'JobCompleted':
      await moveStatus(jobs, event, { ...touch, completed_at: time });
      return;
    case 'JobFailed':
      await moveStatus(jobs, event, {
        ...touch,
        completed_at: time,
        error_message: event.data.error,
        failed_step: event.data.failedStep,
      });
      return;
    case 'JobExpired':
      await jobs.set({ ...touch, expired: true }).execute();
      return;
    case 'WebhookAttempted':
    case 'WebhookDelivered':
    case 'WebhookFailed':
      await applyWebhookEvent(trx, seq, event);
      await moveStatus(jobs, event, {});
      return;
    default: {
      const never: never = event;
      throw new Error(`unhandled event ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Progress keeps only its latest value per step and stays out of the timeline (`job_events`): one a
 * second for minutes would drown the other events. A late event for a finished step is ignored.
 */
async function applyProgress(trx: Transaction<Database>, event: EventOf<'StepProgressed'>): Promise<void> {
  const { stepId, attempt, done, total, unit, etaMs, phase } = event.data;
  const progress = { attempt, done, total, unit, etaMs, phase, at: event.metadata.time };
  await trx
    .updateTable('steps')
    .set({ progress: JSON.stringify(progress) })
    .where('job_id', '=', event.metadata.jobId)
    .where('step_id', '=', stepId)
    .where('status', 'in', UNFINISHED_STEP)
    .execute();
}
