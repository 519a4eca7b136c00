import { type Env, int } from '../../shared/config/env.ts';
import { type InfraConfig, readInfraConfig } from '../../shared/config/infra.ts';

export type PlannerConfig = Readonly<{ infra: InfraConfig; concurrency: number }>;

export function readConfig(env: Env): PlannerConfig {
  return Object.freeze({
    infra: readInfraConfig(env),
    concurrency: int(env, 'PLANNER_CONCURRENCY', 8, 1, 256),
  });
}
