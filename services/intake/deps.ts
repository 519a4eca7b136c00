import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { Database } from '../../projections/database.ts';
import type { Bus } from '../../shared/bus/connect.ts';
import type { Logger } from '../../shared/log.ts';
import type { Storage } from '../../shared/storage/storage.ts';
import type { Admission } from './admission.ts';
import type { IntakeConfig } from './config.ts';

/** Everything the HTTP layer needs, passed in so route tests can build an app without a port. */
export type IntakeDeps = Readonly<{
  config: IntakeConfig;
  bus: Bus;
  storage: Storage;
  db: Kysely<Database>;
  /** Idempotency keys. Only submissions that carry an `Idempotency-Key` need it. */
  redis: Redis;
  log: Logger;
  now: () => Date;
  newId: () => string;
  /** Aborted when intake shuts down: open event streams end so the server can close. */
  shutdown?: AbortSignal;
  /** Tests may pass their own; by default built from the bus and the workers' capacity reports. */
  admission?: Admission;
}>;
