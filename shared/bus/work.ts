import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { RunStep } from '../events/events.ts';
import { type Queue, queueOf } from '../events/operations.ts';
import type { BusNames } from './names.ts';

/** How much work a queue holds: steps waiting for a worker and steps a worker holds right now. */
export type QueueDepth = Readonly<{ queue: Queue; waiting: number; inFlight: number }>;

export class BusTimeoutError extends Error {
  readonly code = 'BUS_TIMEOUT';
}

/** Rejects with `BusTimeoutError` when `promise` takes longer than `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BusTimeoutError(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The work stream as services need it: relay a step to its queue, and read how deep a queue is. */
export class WorkQueues {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly names: BusNames,
  ) {}

  /** Publishes a step command on its queue's subject; `msgId` de-duplicates a relayed retry. */
  async publish(command: RunStep, msgId: string): Promise<void> {
    await this.js.publish(this.names.workSubject(queueOf(command.op)), JSON.stringify(command), {
      msgID: msgId,
    });
  }

  /** The queue's depth from its durable consumer; throws `BusTimeoutError` after `timeoutMs`. */
  async depth(queue: Queue, timeoutMs = 1000): Promise<QueueDepth> {
    const durable = queue === 'ml' ? this.names.durable.denoiser : this.names.durable.converter;
    const info = await within(
      this.jsm.consumers.info(this.names.workStream, durable),
      timeoutMs,
      'queue depth',
    );
    return { queue, waiting: info.num_pending, inFlight: info.num_ack_pending };
  }
}
