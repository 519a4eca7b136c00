import { type KV, Kvm } from '@nats-io/kv';
import type { Bus } from '../../shared/bus/connect.ts';

const CURSOR = 'log-cursor';
const BUCKET_SWEPT_AT = 'bucket-swept-at';

/**
 * The sweeper's own state, in a NATS KV bucket beside the log it reads: the stream sequence up to which
 * every `JobSubmitted` has been handled, and when the bucket was last listed. Any sweeper process
 * picks up where the last one stopped. A value that is not a non-negative integer (a hand edit, a
 * foreign writer) reads as 0: the log is then read again from its start, which only costs time.
 */
export class ExpiryState {
  private constructor(private readonly kv: KV) {}

  static async open(bus: Bus, replicas = 1): Promise<ExpiryState> {
    return new ExpiryState(await new Kvm(bus.js).create(bus.names.expiryState, { history: 1, replicas }));
  }

  /** The last stream sequence the log pass has handled (0: none). */
  cursor(): Promise<number> {
    return this.read(CURSOR);
  }

  async setCursor(seq: number): Promise<void> {
    await this.kv.put(CURSOR, String(seq));
  }

  /** When the bucket pass last finished, in ms since the epoch (0: never). */
  bucketSweptAt(): Promise<number> {
    return this.read(BUCKET_SWEPT_AT);
  }

  async setBucketSweptAt(ms: number): Promise<void> {
    await this.kv.put(BUCKET_SWEPT_AT, String(ms));
  }

  private async read(key: string): Promise<number> {
    const entry = await this.kv.get(key);
    if (entry === null || entry.operation !== 'PUT') return 0;
    const value = Number(entry.string());
    return Number.isSafeInteger(value) && value >= 0 ? value : 0;
  }
}
