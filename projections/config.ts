import type { Env } from '../shared/config/env.ts';
import { type InfraConfig, readInfraConfig } from '../shared/config/infra.ts';

export type ProjectionsConfig = Readonly<{ infra: InfraConfig }>;

export function readConfig(env: Env): ProjectionsConfig {
  return Object.freeze({ infra: readInfraConfig(env) });
}
