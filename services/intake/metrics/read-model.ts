import { type Kysely, sql } from 'kysely';
import type { Database } from '../../../projections/database.ts';

/** Upper bounds (seconds) of the step-duration histogram: conversions take ms, denoising seconds. */
export const STEP_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] as const;

export type StepDurations = Readonly<{
  operation: string;
  buckets: number[];
  sumSeconds: number;
  count: number;
}>;

/** Totals folded by the projections: what every scrape reports, whichever intake answers it. */
export type ReadModelSnapshot = Readonly<{
  jobs: readonly { operation: string; status: string; count: number }[];
  steps: readonly { operation: string; status: string; count: number }[];
  durations: readonly StepDurations[];
  webhooks: readonly { status: string; count: number; attempts: number }[];
  checkpoint: number | null;
  /** Events the projection could not store and set aside (`projection_quarantine`). */
  quarantined: number;
}>;

/** Small aggregate queries; the caller bounds them with a timeout. */
export async function readModelSnapshot(db: Kysely<Database>): Promise<ReadModelSnapshot> {
  const [jobs, steps, durations, webhooks, checkpoint, quarantined] = await Promise.all([
    sql<{ operation: string; status: string; count: number }>`
      select op as operation, status, count(*)::int as count
      from jobs, jsonb_array_elements_text(operations) as op group by op, status`.execute(db),
    db
      .selectFrom('steps')
      .select(['op as operation', 'status', sql<number>`count(*)::int`.as('count')])
      .groupBy(['op', 'status'])
      .execute(),
    sql<{ operation: string; buckets: number[]; sum_ms: number; count: number }>`
      select op as operation,
        array[${sql.join(STEP_BUCKETS.map((le) => sql`count(*) filter (where duration_ms <= ${le * 1000})::int`))}] as buckets,
        coalesce(sum(duration_ms), 0)::float8 as sum_ms, count(*)::int as count
      from steps where status = 'succeeded' and duration_ms is not null group by op`.execute(db),
    db
      .selectFrom('webhook_deliveries')
      .select([
        'status',
        sql<number>`count(*)::int`.as('count'),
        sql<number>`coalesce(sum(attempts), 0)::int`.as('attempts'),
      ])
      .groupBy('status')
      .execute(),
    db.selectFrom('projection_checkpoints').select(sql<number | null>`max(seq)`.as('seq')).executeTakeFirst(),
    db.selectFrom('projection_quarantine').select(sql<number>`count(*)::int`.as('count')).executeTakeFirst(),
  ]);
  return {
    jobs: jobs.rows,
    steps,
    durations: durations.rows.map((row) => ({
      operation: row.operation,
      buckets: row.buckets,
      sumSeconds: row.sum_ms / 1000,
      count: row.count,
    })),
    webhooks,
    checkpoint: checkpoint?.seq ?? null,
    quarantined: quarantined?.count ?? 0,
  };
}
