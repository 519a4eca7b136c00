import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application types here.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('jobs')
    .addColumn('job_id', 'uuid', (col) => col.primaryKey())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('operations', 'jsonb', (col) => col.notNull())
    .addColumn('pipeline', 'jsonb')
    .addColumn('original_name', 'text', (col) => col.notNull())
    .addColumn('source_key', 'text', (col) => col.notNull())
    .addColumn('source_format', 'text', (col) => col.notNull())
    .addColumn('source_bytes', 'bigint', (col) => col.notNull())
    .addColumn('source_width', 'integer', (col) => col.notNull())
    .addColumn('source_height', 'integer', (col) => col.notNull())
    .addColumn('webhook_url', 'text')
    .addColumn('webhook_status', 'text')
    .addColumn('metadata', 'jsonb', (col) => col.notNull())
    .addColumn('error_message', 'text')
    .addColumn('failed_step', 'text')
    .addColumn('request_id', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .addColumn('completed_at', 'timestamptz')
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .addColumn('expired', 'boolean', (col) => col.notNull())
    .addColumn('last_seq', 'bigint', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('jobs_expires_at_idx').on('jobs').column('expires_at').execute();

  await db.schema
    .createTable('steps')
    .addColumn('job_id', 'uuid', (col) => col.notNull())
    .addColumn('step_id', 'text', (col) => col.notNull())
    .addColumn('position', 'integer', (col) => col.notNull())
    .addColumn('op', 'text', (col) => col.notNull())
    .addColumn('params', 'jsonb', (col) => col.notNull())
    .addColumn('inputs', 'jsonb', (col) => col.notNull())
    .addColumn('result', 'text')
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('attempts', 'integer', (col) => col.notNull())
    .addColumn('error', 'text')
    .addColumn('dispatched_at', 'timestamptz')
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .addColumn('duration_ms', 'integer')
    .addPrimaryKeyConstraint('steps_pk', ['job_id', 'step_id'])
    .execute();

  await db.schema
    .createTable('artifacts')
    .addColumn('job_id', 'uuid', (col) => col.notNull())
    .addColumn('step_id', 'text', (col) => col.notNull())
    .addColumn('result', 'text')
    .addColumn('key', 'text', (col) => col.notNull())
    .addColumn('format', 'text', (col) => col.notNull())
    .addColumn('content_type', 'text', (col) => col.notNull())
    .addColumn('bytes', 'bigint', (col) => col.notNull())
    .addColumn('width', 'integer')
    .addColumn('height', 'integer')
    .addColumn('filename', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('artifacts_pk', ['job_id', 'step_id'])
    .execute();

  await db.schema
    .createTable('job_events')
    .addColumn('seq', 'bigint', (col) => col.primaryKey())
    .addColumn('job_id', 'uuid', (col) => col.notNull())
    .addColumn('event_id', 'text', (col) => col.notNull())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('time', 'timestamptz', (col) => col.notNull())
    .addColumn('data', 'jsonb', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('job_events_job_idx').on('job_events').columns(['job_id', 'seq']).execute();

  await db.schema
    .createTable('projection_checkpoints')
    .addColumn('name', 'text', (col) => col.primaryKey())
    .addColumn('seq', 'bigint', (col) => col.notNull())
    .execute();
  await sql`insert into projection_checkpoints (name, seq) values ('read_models', 0)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['projection_checkpoints', 'job_events', 'artifacts', 'steps', 'jobs']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
