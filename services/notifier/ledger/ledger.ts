import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { sleep } from '../../../shared/bus/consume.ts';

const Delivered = z.object({
  statusCode: z.number().int(),
  attempts: z.number().int(),
  recorded: z.boolean(),
});
export type Delivered = z.infer<typeof Delivered>;

const WEEK_SECONDS = 7 * 24 * 3600;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

/**
 * What makes webhook effects exactly-once over at-least-once messaging, in Redis:
 * `enqueued` (a terminal event already became a RabbitMQ message), `lock` (one copy of a delivery is
 * being attempted; expires by itself if its holder dies) and `delivered` (the sink answered 2xx,
 * written before the outcome event so a crash in between never sends a second webhook).
 */
export class DeliveryLedger {
  constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
    private readonly lockMs: number,
  ) {}

  key(deliveryId: string, what: 'enqueued' | 'lock' | 'delivered'): string {
    return `${this.namespace}:webhook:${deliveryId}:${what}`;
  }

  async wasEnqueued(deliveryId: string): Promise<boolean> {
    return (await this.redis.exists(this.key(deliveryId, 'enqueued'))) === 1;
  }

  async markEnqueued(deliveryId: string): Promise<void> {
    await this.redis.set(this.key(deliveryId, 'enqueued'), '1', 'EX', WEEK_SECONDS);
  }

  async delivered(deliveryId: string): Promise<Delivered | null> {
    const raw = await this.redis.get(this.key(deliveryId, 'delivered'));
    if (raw === null) return null;
    const parsed = Delivered.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  }

  async markDelivered(deliveryId: string, value: Delivered): Promise<void> {
    await this.redis.set(this.key(deliveryId, 'delivered'), JSON.stringify(value), 'EX', WEEK_SECONDS);
  }

  /** Waits until no other copy of this delivery is in flight, then holds it; returns the release. */
  async claim(deliveryId: string, signal?: AbortSignal): Promise<() => Promise<void>> {
    const key = this.key(deliveryId, 'lock');
    const token = randomUUID();
    while ((await this.redis.set(key, token, 'PX', this.lockMs, 'NX')) !== 'OK') {
      if (signal?.aborted) throw new Error('stopped while waiting for a delivery lock');
      await sleep(200, signal);
    }
    return async () => {
      await this.redis.eval(RELEASE, 1, key, token);
    };
  }

  /** Deletes every key of a namespace (tests and benchmarks). */
  async purge(): Promise<void> {
    const keys = await this.redis.keys(`${this.namespace}:webhook:*`);
    if (keys.length > 0) await this.redis.del(...keys);
  }
}
