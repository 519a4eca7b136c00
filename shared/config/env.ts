/**
 * Typed readers for environment variables. Only a service's `config.ts` calls these, once, at start.
 * A bad value fails fast with a message that names the variable.
 */
export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

export function str(env: Env, name: string, fallback: string): string {
  const value = env[name];
  return value === undefined || value === '' ? fallback : value;
}

export function optionalStr(env: Env, name: string): string | null {
  const value = env[name];
  return value === undefined || value === '' ? null : value;
}

export function int(
  env: Env,
  name: string,
  fallback: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer in ${min}..${max}, got "${raw}"`);
  }
  return value;
}

export function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be a boolean (true/false), got "${raw}"`);
}

export function list(env: Env, name: string, fallback: readonly string[]): string[] {
  const raw = env[name];
  if (raw === undefined || raw === '') return [...fallback];
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

export function intList(env: Env, name: string, fallback: readonly number[]): number[] {
  return list(env, name, fallback.map(String)).map((item) => {
    const value = Number(item);
    if (!Number.isInteger(value) || value < 0) throw new ConfigError(`${name} must be a list of integers`);
    return value;
  });
}
