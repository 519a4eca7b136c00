import { bool, ConfigError, type Env, int, optionalStr, str } from './env.ts';

/** Connection settings every service shares. Defaults reach services on loopback. */
export type InfraConfig = Readonly<{
  /** Prefix of every stream, subject and durable name: lets tests run side by side. */
  namespace: string;
  natsUrl: string;
  databaseUrl: string;
  redisUrl: string;
  s3: S3Config;
  logLevel: string;
  logPretty: boolean;
  /** Ack wait of the work consumers; long steps heartbeat well inside it. */
  ackWaitMs: number;
  maxDeliver: number;
  /** 1 on a single node; 3 on a JetStream cluster (see nats.conf). */
  streamReplicas: number;
  /** Event stream retention (EVENTS_MAX_AGE_HOURS, default 30 days): always longer than image retention. */
  eventsMaxAgeMs: number;
  /** Event stream size cap (EVENTS_MAX_BYTES, default 10 GiB; -1 unlimited). */
  eventsMaxBytes: number;
  /** How long a step's transient failures are retried before the step fails (STEP_RETRY_BUDGET_MS, 10 min). */
  stepRetryBudgetMs: number;
  /** Postgres deadlines: connecting (DB_CONNECT_TIMEOUT_MS) and one statement (DB_STATEMENT_TIMEOUT_MS). */
  db: Readonly<{ connectTimeoutMs: number; statementTimeoutMs: number }>;
}>;

export type S3Config = Readonly<{
  endpoint: string;
  /** The endpoint written into presigned URLs (what a browser can reach). */
  publicEndpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** How long images and links live (RETENTION_SECONDS, or RETENTION_HOURS; default 24 h). */
  retentionSeconds: number;
  /** A socket idle this long fails the request (S3_REQUEST_TIMEOUT_MS, default 30 s); connecting: 5 s. */
  requestTimeoutMs: number;
  connectTimeoutMs: number;
}>;

export function readInfraConfig(env: Env): InfraConfig {
  const namespace = str(env, 'PIXTOOLS_NS', 'pixtools');
  if (!/^[a-z][a-z0-9_]{0,30}$/.test(namespace)) {
    throw new Error(`PIXTOOLS_NS must match [a-z][a-z0-9_]{0,30}, got "${namespace}"`);
  }
  const endpoint = str(env, 'S3_ENDPOINT', 'http://127.0.0.1:9000');
  const retentionSeconds = int(
    env,
    'RETENTION_SECONDS',
    int(env, 'RETENTION_HOURS', 24, 1, 24 * 365) * 3600,
    1,
  );
  const eventsMaxAgeMs = int(env, 'EVENTS_MAX_AGE_HOURS', 30 * 24, 1, 24 * 3650) * 3_600_000;
  if (eventsMaxAgeMs <= retentionSeconds * 1000) {
    throw new ConfigError(
      'EVENTS_MAX_AGE_HOURS must be longer than the image retention (RETENTION_HOURS/RETENTION_SECONDS): ' +
        'a job must be told expired from its history, not forgotten',
    );
  }
  return Object.freeze({
    namespace,
    natsUrl: str(env, 'NATS_URL', 'nats://127.0.0.1:4222'),
    databaseUrl: str(env, 'DATABASE_URL', 'postgres://root@127.0.0.1:5432/pixtools'),
    redisUrl: str(env, 'REDIS_URL', 'redis://127.0.0.1:6379'),
    s3: Object.freeze({
      endpoint,
      publicEndpoint: optionalStr(env, 'S3_PUBLIC_ENDPOINT') ?? endpoint,
      region: str(env, 'S3_REGION', 'us-east-1'),
      bucket: str(env, 'S3_BUCKET', 'pixtools'),
      accessKeyId: str(env, 'S3_ACCESS_KEY_ID', 'S3RVER'),
      secretAccessKey: str(env, 'S3_SECRET_ACCESS_KEY', 'S3RVER'),
      retentionSeconds,
      requestTimeoutMs: int(env, 'S3_REQUEST_TIMEOUT_MS', 30_000, 100),
      connectTimeoutMs: int(env, 'S3_CONNECT_TIMEOUT_MS', 5_000, 100),
    }),
    logLevel: str(env, 'LOG_LEVEL', 'info'),
    logPretty: bool(env, 'LOG_PRETTY', false),
    ackWaitMs: int(env, 'WORK_ACK_WAIT_MS', 30_000, 1_000),
    // A backstop for a step that crashes its worker every time: transient failures are bounded by time
    // (STEP_RETRY_BUDGET_MS), so this is set well above the attempts that budget takes (30 s apart at most).
    maxDeliver: int(env, 'WORK_MAX_DELIVER', 50, 1, 1000),
    streamReplicas: int(env, 'PIXTOOLS_STREAM_REPLICAS', 1, 1, 5),
    eventsMaxAgeMs,
    eventsMaxBytes: int(env, 'EVENTS_MAX_BYTES', 10 * 1024 ** 3, -1),
    stepRetryBudgetMs: int(env, 'STEP_RETRY_BUDGET_MS', 600_000, 0),
    db: Object.freeze({
      connectTimeoutMs: int(env, 'DB_CONNECT_TIMEOUT_MS', 5_000, 100),
      statementTimeoutMs: int(env, 'DB_STATEMENT_TIMEOUT_MS', 15_000, 100),
    }),
  });
}
