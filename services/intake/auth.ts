import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ApiError } from './errors.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Paths that never need the key: the health checks. */
const OPEN = new Set(['/api/livez', '/api/readyz', '/api/health']);

/** Rule 1: with an API key configured, `X-API-Key` must match (compared in constant time). */
export function apiKeyAuth(apiKey: string | null): MiddlewareHandler {
  const expected = apiKey === null ? null : digest(apiKey);
  return async (c, next) => {
    if (expected !== null && !OPEN.has(c.req.path)) {
      const given = c.req.header('x-api-key');
      if (given === undefined || !timingSafeEqual(digest(given), expected)) {
        throw new ApiError(401, 'Invalid or missing API Key');
      }
    }
    await next();
  };
}
