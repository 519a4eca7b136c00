import { bool, type Env, int, optionalStr, str } from './env.ts';

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
}>;

export function readInfraConfig(env: Env): InfraConfig {
  const namespace = str(env, 'PIXTOOLS_NS', 'pixtools');
  if (!/^[a-z][a-z0-9_]{0,30}$/.test(namespace)) {
    throw new Error(`PIXTOOLS_NS must match [a-z][a-z0-9_]{0,30}, got "${namespace}"`);
  }
  const endpoint = str(env, 'S3_ENDPOINT', 'http://127.0.0.1:9000');
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
      retentionSeconds: int(env, 'RETENTION_SECONDS', int(env, 'RETENTION_HOURS', 24, 1, 24 * 365) * 3600, 1),
    }),
    logLevel: str(env, 'LOG_LEVEL', 'info'),
    logPretty: bool(env, 'LOG_PRETTY', false),
    ackWaitMs: int(env, 'WORK_ACK_WAIT_MS', 30_000, 1_000),
    maxDeliver: int(env, 'WORK_MAX_DELIVER', 5, 1, 100),
    streamReplicas: int(env, 'PIXTOOLS_STREAM_REPLICAS', 1, 1, 5),
  });
}
