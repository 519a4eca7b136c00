import { ConfigError, type Env, int, intList, optionalStr, str } from '../../shared/config/env.ts';
import { type InfraConfig, readInfraConfig } from '../../shared/config/infra.ts';
import { readAllowedHosts } from '../../shared/net/ssrf.ts';

export type NotifierConfig = Readonly<{
  infra: InfraConfig;
  rabbitUrl: string;
  /** HMAC key of the signatures. Never logged. */
  secret: string;
  secretIsDefault: boolean;
  /** Delay before retry n (per-queue TTLs); attempts = delays + 1. */
  retryDelaysMs: readonly number[];
  timeoutMs: number;
  prefetch: number;
  /** JetStream messages handled at once (terminal events turned into deliveries). */
  concurrency: number;
  breakerThreshold: number;
  breakerHalfOpenMs: number;
  /** Webhook targets let through the SSRF guard: `host`, `host:port` or a CIDR. */
  allowedHosts: readonly string[];
}>;

const DEV_SECRET = 'pixtools-development-webhook-secret';

export function readConfig(env: Env): NotifierConfig {
  const secret = optionalStr(env, 'WEBHOOK_SECRET');
  if (secret === null && env.NODE_ENV === 'production') {
    throw new ConfigError('WEBHOOK_SECRET must be set in production (the signing key of every webhook)');
  }
  if (secret !== null && secret.length < 16)
    throw new ConfigError('WEBHOOK_SECRET must be at least 16 characters');
  const retryDelaysMs = intList(env, 'WEBHOOK_RETRY_DELAYS_MS', [1000, 5000, 30_000, 120_000, 600_000]);
  if (retryDelaysMs.length > 20 || retryDelaysMs.some((ms) => ms < 1)) {
    throw new ConfigError('WEBHOOK_RETRY_DELAYS_MS must be 0..20 positive delays in milliseconds');
  }
  return Object.freeze({
    infra: readInfraConfig(env),
    rabbitUrl: str(env, 'RABBITMQ_URL', 'amqp://guest:guest@127.0.0.1:5672'),
    secret: secret ?? DEV_SECRET,
    secretIsDefault: secret === null,
    retryDelaysMs: Object.freeze(retryDelaysMs),
    timeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
    prefetch: int(env, 'WEBHOOK_PREFETCH', 32, 1, 1000),
    concurrency: int(env, 'NOTIFIER_CONCURRENCY', 8, 1, 256),
    breakerThreshold: int(env, 'WEBHOOK_BREAKER_THRESHOLD', 5, 1, 1000),
    breakerHalfOpenMs: int(env, 'WEBHOOK_BREAKER_HALF_OPEN_MS', 30_000, 100),
    allowedHosts: readAllowedHosts(env),
  });
}
