import type { ColumnType, Selectable } from 'kysely';

/** An event the projection could not apply: recorded with the database's reason, then skipped. */
export interface QuarantineTable {
  seq: number;
  job_id: string | null;
  type: string | null;
  error: string;
  /** The event as JSON text, with characters Postgres cannot store escaped. */
  event: string;
  quarantined_at: ColumnType<Date, string, string>;
}

export type QuarantineRow = Selectable<QuarantineTable>;
