import { bool, type Env, int, str } from '../../shared/config/env.ts';

export type S3LocalConfig = Readonly<{
  host: string;
  port: number;
  directory: string;
  bucket: string;
  /** The one key pair it accepts: the services' own S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY. */
  accessKeyId: string;
  secretAccessKey: string;
  /** Largest object, single PUT or multipart (S3LOCAL_MAX_OBJECT_BYTES, default 5 GiB as S3's PUT). */
  maxObjectBytes: number;
  logLevel: string;
  logPretty: boolean;
}>;

export function readConfig(env: Env): S3LocalConfig {
  return Object.freeze({
    host: str(env, 'S3LOCAL_HOST', '127.0.0.1'),
    port: int(env, 'S3LOCAL_PORT', 9000, 0, 65535),
    directory: str(env, 'S3LOCAL_DIR', '.data/s3'),
    bucket: str(env, 'S3_BUCKET', 'pixtools'),
    accessKeyId: str(env, 'S3_ACCESS_KEY_ID', 'S3RVER'),
    secretAccessKey: str(env, 'S3_SECRET_ACCESS_KEY', 'S3RVER'),
    maxObjectBytes: int(env, 'S3LOCAL_MAX_OBJECT_BYTES', 5 * 1024 ** 3, 1),
    logLevel: str(env, 'LOG_LEVEL', 'info'),
    logPretty: bool(env, 'LOG_PRETTY', false),
  });
}
