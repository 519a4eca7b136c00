import { type Env, int } from '../../shared/config/env.ts';
import { type InfraConfig, readInfraConfig } from '../../shared/config/infra.ts';

export type ExpiryConfig = Readonly<{
  infra: InfraConfig;
  intervalMs: number;
  /** How often the bucket pass (the backstop that lists the whole bucket) runs. */
  bucketIntervalMs: number;
  batchSize: number;
  /** Above this many unprojected events each pass logs a warning (PROJECTION_LAG_WARN_EVENTS). */
  lagWarnEvents: number;
}>;

export function readConfig(env: Env): ExpiryConfig {
  return Object.freeze({
    infra: readInfraConfig(env),
    intervalMs: int(env, 'EXPIRY_INTERVAL_MS', 60_000, 100),
    bucketIntervalMs: int(env, 'EXPIRY_BUCKET_INTERVAL_MS', 6 * 3_600_000, 100),
    batchSize: int(env, 'EXPIRY_BATCH_SIZE', 200, 1, 10_000),
    lagWarnEvents: int(env, 'PROJECTION_LAG_WARN_EVENTS', 1000, 0),
  });
}
