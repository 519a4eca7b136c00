import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** One logger per process. Secrets are redacted by path so they never reach the log. */
export function createLogger(service: string, options: { level: string; pretty: boolean }): Logger {
  const base = {
    level: options.level,
    base: { service },
    redact: {
      paths: ['*.secret', '*.password', '*.secretAccessKey', '*.apiKey', 'headers["x-api-key"]'],
      censor: '[redacted]',
    },
  };
  if (!options.pretty) return pino(base);
  return pino(
    base,
    pretty({ sync: true, colorize: true, ignore: 'pid,hostname,service', translateTime: 'HH:MM:ss.l' }),
  );
}
