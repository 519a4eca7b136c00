import { type Env, int } from '../shared/config/env.ts';
import { type InfraConfig, readInfraConfig } from '../shared/config/infra.ts';

export type ProjectionsConfig = Readonly<{ infra: InfraConfig; lingerMs: number }>;

export function readConfig(env: Env): ProjectionsConfig {
  return Object.freeze({
    infra: readInfraConfig(env),
    lingerMs: int(env, 'PROJECTIONS_LINGER_MS', 25, 0, 1000),
  });
}
