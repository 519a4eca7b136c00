import type { Kysely } from 'kysely';

// Frozen in time: never import application types here.
// Events the projection could not apply (the database refused their data): recorded, then skipped.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('projection_quarantine')
    .addColumn('seq', 'bigint', (col) => col.primaryKey())
    .addColumn('job_id', 'text')
    .addColumn('type', 'text')
    .addColumn('error', 'text', (col) => col.notNull())
    .addColumn('event', 'text', (col) => col.notNull())
    .addColumn('quarantined_at', 'timestamptz', (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('projection_quarantine').ifExists().execute();
}
