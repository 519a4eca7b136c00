import { type ColumnType, Kysely, PostgresDialect, type Selectable } from 'kysely';
import pg from 'pg';
import type { QuarantineTable } from './quarantine.table.ts';
import type { WebhookDeliveriesTable } from './webhook-deliveries.table.ts';

// bigint columns hold stream sequences and byte counts, far below 2^53: read them as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

type Json = ColumnType<unknown, string, string>;
type Time = ColumnType<Date, string, string>;

export interface JobsTable {
  job_id: string;
  status: string;
  operations: Json;
  pipeline: Json | null;
  original_name: string;
  source_key: string;
  source_format: string;
  source_bytes: number;
  source_width: number;
  source_height: number;
  webhook_url: string | null;
  webhook_status: string | null;
  metadata: Json;
  error_message: string | null;
  failed_step: string | null;
  request_id: string;
  created_at: Time;
  updated_at: Time;
  completed_at: Time | null;
  expires_at: Time;
  expired: boolean;
  last_seq: number;
}

export interface StepsTable {
  job_id: string;
  step_id: string;
  position: number;
  op: string;
  params: Json;
  inputs: Json;
  result: string | null;
  status: string;
  attempts: number;
  error: string | null;
  dispatched_at: Time | null;
  started_at: Time | null;
  finished_at: Time | null;
  duration_ms: number | null;
  /** The latest StepProgressed of the step (JSON), or null before the first. */
  progress: Json | null;
}

export interface ArtifactsTable {
  job_id: string;
  step_id: string;
  result: string | null;
  key: string;
  format: string;
  content_type: string;
  bytes: number;
  width: number | null;
  height: number | null;
  filename: string;
}

export interface JobEventsTable {
  seq: number;
  job_id: string;
  event_id: string;
  type: string;
  time: Time;
  data: Json;
}

export interface CheckpointsTable {
  name: string;
  seq: number;
}

export interface Database {
  jobs: JobsTable;
  steps: StepsTable;
  artifacts: ArtifactsTable;
  job_events: JobEventsTable;
  projection_checkpoints: CheckpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  projection_quarantine: QuarantineTable;
}

export type JobRow = Selectable<JobsTable>;
export type StepRow = Selectable<StepsTable>;
export type ArtifactRow = Selectable<ArtifactsTable>;

/** The read-model tables, in an order that makes snapshots comparable. */
export const READ_MODEL_TABLES = [
  'jobs',
  'steps',
  'artifacts',
  'job_events',
  'projection_checkpoints',
] as const;

/**
 * An idle pooled connection that Postgres closes (restart, failover, a dropped database) makes the pool
 * emit `error`; without a listener that would crash the process. The pool already discards the broken
 * client, and the next query reconnects (or fails, and the caller answers 503), so it is only reported.
 */
export type DbTimeouts = Readonly<{ connectTimeoutMs: number; statementTimeoutMs: number }>;

/**
 * Every query has a deadline: connecting, the server-side statement, and the client-side wait (a
 * stalled socket the server never answers on) each fail instead of hanging.
 */
export function createDb(
  connectionString: string,
  max = 10,
  onIdleError: (error: Error) => void = () => {},
  timeouts: DbTimeouts = { connectTimeoutMs: 5_000, statementTimeoutMs: 15_000 },
): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString,
    max,
    connectionTimeoutMillis: timeouts.connectTimeoutMs,
    // pg's default closes a client idle for 10 s, so a pool that polls in bursts (intake's GETs) forked a
    // new Postgres backend every few seconds; a minute keeps the warm clients across the gaps.
    idleTimeoutMillis: 60_000,
    statement_timeout: timeouts.statementTimeoutMs,
    query_timeout: timeouts.statementTimeoutMs + 2_000,
  });
  pool.on('error', onIdleError);
  // The pool listens for errors only on idle clients: a connection that dies while a query runs on it
  // makes its client emit `error` with nobody listening, which kills the process. That query is already
  // failed (its caller answers 503 or retries), and the pool drops the client on release.
  pool.on('connect', (client) => client.on('error', () => {}));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
