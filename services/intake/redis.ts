import { Redis } from 'ioredis';

/**
 * The intake's Redis client: commands fail fast (one retry, two-second timeout) instead of queueing
 * while Redis is down, so a submission with an Idempotency-Key gets a 503 rather than hanging.
 */
export function createRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 2000, connectTimeout: 2000 });
}
