import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Logger } from '../log.ts';

/** What to do with a message once handled. */
export type Disposition =
  | Readonly<{ kind: 'ack' }>
  | Readonly<{ kind: 'nak'; delayMs: number }>
  | Readonly<{ kind: 'term'; reason: string }>;

export const ACK: Disposition = Object.freeze({ kind: 'ack' });

export type ConsumeLoopOptions = Readonly<{
  js: JetStreamClient;
  stream: string;
  durable: string;
  concurrency: number;
  /** Calls `working()` this often while a handler runs, so long steps are not redelivered. */
  heartbeatMs: number | null;
  handle: (msg: JsMsg) => Promise<Disposition>;
  log: Logger;
  signal: AbortSignal;
}>;

/** Exponential back-off for a handler that threw: 1 s, 2 s, 4 s … capped at 60 s. */
export function backoffMs(deliveryCount: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, deliveryCount - 1));
}

/**
 * Pulls from a durable consumer with bounded concurrency until `signal` aborts, then stops pulling,
 * lets in-flight handlers finish and returns. A failure of the subscription itself (server restart,
 * consumer deleted and re-provisioned) pulls again after a pause instead of ending the process.
 *
 * Step workers (`heartbeatMs` set) pull one message only when a slot is free, so no message waits
 * un-heartbeated in a client buffer while a long step runs; event consumers stream for throughput.
 */
export async function consumeLoop(options: ConsumeLoopOptions): Promise<void> {
  const { js, stream, durable, signal, log } = options;
  const inFlight = new Set<Promise<void>>();
  while (!signal.aborted) {
    try {
      const consumer = await js.consumers.get(stream, durable);
      const messages =
        options.heartbeatMs === null
          ? await streamed(consumer, options)
          : pulled(consumer, options, inFlight);
      for await (const msg of messages) {
        const task = handleOne(options, msg).finally(() => inFlight.delete(task));
        inFlight.add(task);
        while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
      }
    } catch (error) {
      if (signal.aborted) break;
      log.warn({ err: error, stream, durable }, 'consumer failed; pulling again shortly');
      await sleep(1000, signal);
    }
  }
  await Promise.allSettled(inFlight);
}

type Consumer = Awaited<ReturnType<JetStreamClient['consumers']['get']>>;

async function streamed(
  consumer: Consumer,
  { concurrency, signal }: ConsumeLoopOptions,
): Promise<AsyncIterable<JsMsg>> {
  const messages = await consumer.consume({ max_messages: Math.max(concurrency, 1) });
  signal.addEventListener('abort', () => void messages.close(), { once: true });
  return messages;
}

async function* pulled(
  consumer: Consumer,
  { signal, concurrency }: ConsumeLoopOptions,
  inFlight: Set<Promise<void>>,
) {
  while (!signal.aborted) {
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    const msg = await consumer.next({ expires: PULL_EXPIRES_MS });
    if (msg !== null) yield msg;
  }
}

/** How long one pull waits for a message: also the longest a shutdown waits for an idle pull. */
const PULL_EXPIRES_MS = 2000;

async function handleOne(options: ConsumeLoopOptions, msg: JsMsg): Promise<void> {
  const { heartbeatMs, log } = options;
  const timer = heartbeatMs === null ? null : setInterval(() => msg.working(), heartbeatMs);
  let disposition: Disposition;
  try {
    disposition = await options.handle(msg);
  } catch (error) {
    const delayMs = backoffMs(msg.info.deliveryCount);
    log.warn({ err: error, subject: msg.subject, seq: msg.seq, delayMs }, 'handler failed; will retry');
    disposition = { kind: 'nak', delayMs };
  } finally {
    if (timer !== null) clearInterval(timer);
  }
  switch (disposition.kind) {
    case 'ack':
      // A step's ack is confirmed (a lost one would run the step again); an event consumer's is not
      // waited for: a lost ack only redelivers an event that every handler treats idempotently.
      if (heartbeatMs === null) msg.ack();
      else await msg.ackAck().catch((error: unknown) => log.warn({ err: error }, 'ack was not confirmed'));
      return;
    case 'nak':
      msg.nak(disposition.delayMs);
      return;
    case 'term':
      log.error({ subject: msg.subject, seq: msg.seq, reason: disposition.reason }, 'message terminated');
      msg.term(); // no reason string: NATS 2.9 does not parse one
      return;
    default: {
      const never: never = disposition;
      throw new Error(`unknown disposition ${JSON.stringify(never)}`);
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
