import type { Kysely } from 'kysely';
import type { ArtifactRow, Database, JobRow, StepRow } from './database.ts';
import type { WebhookDeliveryRow } from './webhook-deliveries.table.ts';

export type JobView = Readonly<{
  job: JobRow;
  steps: StepRow[];
  artifacts: ArtifactRow[];
  webhooks: WebhookDeliveryRow[];
}>;

export async function findJob(db: Kysely<Database>, jobId: string): Promise<JobView | null> {
  const job = await db.selectFrom('jobs').selectAll().where('job_id', '=', jobId).executeTakeFirst();
  if (job === undefined) return null;
  const [steps, artifacts, webhooks] = await Promise.all([
    db.selectFrom('steps').selectAll().where('job_id', '=', jobId).orderBy('position').execute(),
    db.selectFrom('artifacts').selectAll().where('job_id', '=', jobId).orderBy('step_id').execute(),
    db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('job_id', '=', jobId)
      .orderBy('first_event_at')
      .execute(),
  ]);
  return { job, steps, artifacts, webhooks };
}
