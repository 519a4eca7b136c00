import { bool, type Env, int, str } from '../../shared/config/env.ts';

export type S3LocalConfig = Readonly<{
  host: string;
  port: number;
  directory: string;
  bucket: string;
  logPretty: boolean;
}>;

export function readConfig(env: Env): S3LocalConfig {
  return Object.freeze({
    host: str(env, 'S3LOCAL_HOST', '127.0.0.1'),
    port: int(env, 'S3LOCAL_PORT', 9000, 1, 65535),
    directory: str(env, 'S3LOCAL_DIR', '.data/s3'),
    bucket: str(env, 'S3_BUCKET', 'pixtools'),
    logPretty: bool(env, 'LOG_PRETTY', false),
  });
}
