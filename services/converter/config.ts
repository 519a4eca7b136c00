import { type Env, int } from '../../shared/config/env.ts';
import { type InfraConfig, readInfraConfig } from '../../shared/config/infra.ts';

export type ConverterConfig = Readonly<{ infra: InfraConfig; concurrency: number; maxInputPixels: number }>;

export function readConfig(env: Env): ConverterConfig {
  return Object.freeze({
    infra: readInfraConfig(env),
    concurrency: int(env, 'CONVERTER_CONCURRENCY', 2, 1, 64),
    maxInputPixels: int(env, 'MAX_INPUT_PIXELS', 100_000_000, 1),
  });
}
