import { type Env, int, optionalStr } from '../../shared/config/env.ts';
import { type InfraConfig, readInfraConfig } from '../../shared/config/infra.ts';

export type IntakeConfig = Readonly<{
  infra: InfraConfig;
  port: number;
  host: string;
  maxUploadBytes: number;
  maxInputPixels: number;
  apiKey: string | null;
  webDir: string;
}>;

export function readConfig(env: Env): IntakeConfig {
  return Object.freeze({
    infra: readInfraConfig(env),
    port: int(env, 'PORT', 8000, 1, 65535),
    host: env.HOST ?? '0.0.0.0',
    maxUploadBytes: int(env, 'MAX_UPLOAD_BYTES', 10 * 1024 * 1024, 1),
    maxInputPixels: int(env, 'MAX_INPUT_PIXELS', 100_000_000, 1),
    apiKey: optionalStr(env, 'API_KEY'),
    webDir: env.WEB_DIR ?? 'web',
  });
}
