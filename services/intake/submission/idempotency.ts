import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ApiError } from '../errors.ts';
import type { Submission } from './validate.ts';

/** JSON with object keys sorted, so equal requests give equal fingerprints whatever their key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** What makes two submissions "the same request": the file's hash and everything asked of it. */
export function fingerprint(submission: Submission): string {
  const { sha256: file, operations, operationParams, pipeline, webhookUrl } = submission;
  return sha256(canonical({ file, operations, operationParams, pipeline, webhookUrl }));
}

/**
 * The job id of a keyed request: a UUID (version 5 layout) from the namespace, the key and the request's
 * fingerprint. Every retry of one request names the same job, so an append that timed out but was
 * stored is de-duplicated (its event id derives from the job id) instead of becoming a second job.
 */
export function jobIdFor(namespace: string, clientKey: string, print: string): string {
  const hex = sha256(`${namespace}\n${clientKey}\n${print}`).slice(0, 32).split('');
  hex[12] = '5';
  hex[16] = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export type Reservation = Readonly<{ kind: 'reserved' }> | Readonly<{ kind: 'replay'; jobId: string }>;

// Deletes the key only if it still holds this job's reservation.
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

/**
 * `Idempotency-Key` reservations in Redis: `SET NX EX` makes the first request the owner atomically
 * (two concurrent identical requests give one job); the stored fingerprint tells a retry of the same
 * request (replayed: same job) from a different request under the same key (422).
 */
export class IdempotencyKeys {
  constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
    private readonly ttlSeconds: number,
  ) {}

  private key(clientKey: string): string {
    return `${this.namespace}:idempotency:${sha256(clientKey)}`;
  }

  async reserve(clientKey: string, print: string, jobId: string): Promise<Reservation> {
    const key = this.key(clientKey);
    const value = JSON.stringify({ fingerprint: print, jobId });
    for (let attempt = 0; attempt < 3; attempt++) {
      const set = await this.call(() => this.redis.set(key, value, 'EX', this.ttlSeconds, 'NX'));
      if (set === 'OK') return { kind: 'reserved' };
      const stored = await this.call(() => this.redis.get(key));
      if (stored === null) continue; // expired in between: try to take it again
      const existing = JSON.parse(stored) as { fingerprint: string; jobId: string };
      if (existing.fingerprint !== print) {
        throw new ApiError(
          422,
          'Idempotency-Key was already used with a different request (file, operations, parameters or webhook)',
        );
      }
      return { kind: 'replay', jobId: existing.jobId };
    }
    throw new ApiError(503, 'Idempotency store unavailable: could not reserve the key');
  }

  /** Frees a reservation whose job was never submitted, so the client's retry can go through. */
  async release(clientKey: string, print: string, jobId: string): Promise<void> {
    const value = JSON.stringify({ fingerprint: print, jobId });
    await this.redis.eval(RELEASE, 1, this.key(clientKey), value).catch(() => undefined);
  }

  private async call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new ApiError(
        503,
        `Idempotency store unavailable: redis unreachable (${(error as Error).message})`,
      );
    }
  }
}

export function checkIdempotencyKey(header: string | undefined): string | null {
  if (header === undefined || header === '') return null;
  if (header.length > 255) throw new ApiError(422, 'Idempotency-Key must be at most 255 characters');
  return header;
}
