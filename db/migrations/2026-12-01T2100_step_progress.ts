import type { Kysely } from 'kysely';

// Frozen in time: never import application types here.
// The latest StepProgressed of each step ({done, total, unit, etaMs, phase, attempt, at}); older values
// are not kept (the event log has them).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('steps').addColumn('progress', 'jsonb').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('steps').dropColumn('progress').execute();
}
