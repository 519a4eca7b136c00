import type { Channel, ChannelModel } from 'amqplib';

/**
 * The RabbitMQ side of webhook delivery. Every name carries the namespace so test runs never collide.
 *
 *   publish ─► webhooks (topic) ──attempt.*──► webhooks.deliver ──nack──► dlx (direct)
 *                   ▲                                                     │ attempt.k
 *                   └──── TTL expires, routing key attempt.k+1 ◄── webhooks.retry.k
 *                                     (no binding for the last attempt) ──► alternate exchange
 *                                     dlx.dead (fanout) ──► webhooks.dead (the dead-letter queue)
 *
 * The attempt number travels in the routing key, so a retry is one `nack` (atomic, no re-publish) and
 * the message keeps its whole `x-death` history down to the dead-letter queue.
 */
export type RabbitNames = Readonly<{
  exchange: string;
  queue: string;
  dlx: string;
  deadExchange: string;
  deadQueue: string;
  /** Deliveries refused by an open circuit wait here (CIRCUIT_WAIT_MS), then return on the same attempt. */
  waitExchange: string;
  waitQueue: string;
  retryQueue: (attempt: number) => string;
}>;

export const CIRCUIT_WAIT_MS = 2000;

export function rabbitNames(namespace: string): RabbitNames {
  return Object.freeze({
    exchange: `${namespace}.webhooks`,
    queue: `${namespace}.webhooks.deliver`,
    dlx: `${namespace}.dlx`,
    deadExchange: `${namespace}.dlx.dead`,
    deadQueue: `${namespace}.webhooks.dead`,
    waitExchange: `${namespace}.webhooks.wait`,
    waitQueue: `${namespace}.webhooks.wait`,
    retryQueue: (attempt: number) => `${namespace}.webhooks.retry.${attempt}`,
  });
}

export const routingKeyFor = (attempt: number) => `attempt.${attempt}`;

/** The attempt a delivered message is on, from its routing key (1 when it cannot tell). */
export function attemptOf(routingKey: string): number {
  const match = /^attempt\.(\d{1,3})$/.exec(routingKey);
  return match ? Math.max(1, Number(match[1])) : 1;
}

const MAX_RETRY_LEVELS = 20;

/** Declares (idempotently) the exchanges, queues and bindings for the configured retry delays. */
export async function assertTopology(ch: Channel, names: RabbitNames, delaysMs: readonly number[]) {
  await ch.assertExchange(names.exchange, 'topic', { durable: true });
  await ch.assertExchange(names.deadExchange, 'fanout', { durable: true });
  await ch.assertExchange(names.dlx, 'direct', { durable: true, alternateExchange: names.deadExchange });
  await ch.assertQueue(names.queue, { durable: true, deadLetterExchange: names.dlx });
  await ch.bindQueue(names.queue, names.exchange, 'attempt.*');
  await ch.assertQueue(names.deadQueue, { durable: true });
  await ch.bindQueue(names.deadQueue, names.deadExchange, '');
  // No dead-letter routing key: a waited message goes back with its own (`attempt.k`), so no attempt is used.
  await ch.assertExchange(names.waitExchange, 'topic', { durable: true });
  await ch.assertQueue(names.waitQueue, {
    durable: true,
    messageTtl: CIRCUIT_WAIT_MS,
    deadLetterExchange: names.exchange,
  });
  await ch.bindQueue(names.waitQueue, names.waitExchange, 'attempt.*');
  for (const [index, delay] of delaysMs.entries()) {
    const attempt = index + 1;
    await ch
      .assertQueue(names.retryQueue(attempt), {
        durable: true,
        messageTtl: delay,
        deadLetterExchange: names.exchange,
        deadLetterRoutingKey: routingKeyFor(attempt + 1),
      })
      .catch((error: unknown) => {
        throw new Error(
          `retry queue ${names.retryQueue(attempt)} exists with other arguments (was WEBHOOK_RETRY_DELAYS_MS ` +
            `changed?): delete it once empty, or restore the previous delays. ${String(error)}`,
        );
      });
    await ch.bindQueue(names.retryQueue(attempt), names.dlx, routingKeyFor(attempt));
  }
}

/**
 * Unbinds retry levels a previous configuration had beyond the current last attempt, so the last
 * attempt's `nack` reaches the dead-letter queue. Each check runs on a throwaway channel: a missing
 * queue closes the channel it was asked on.
 */
export async function unbindStaleRetries(
  conn: ChannelModel,
  names: RabbitNames,
  delaysMs: readonly number[],
) {
  for (let attempt = delaysMs.length + 1; attempt <= MAX_RETRY_LEVELS; attempt++) {
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    const exists = await ch.checkQueue(names.retryQueue(attempt)).then(
      () => true,
      () => false,
    );
    if (exists) await ch.unbindQueue(names.retryQueue(attempt), names.dlx, routingKeyFor(attempt));
    await ch.close().catch(() => {});
  }
}

/** Removes everything `assertTopology` created (tests and benchmarks clean up after themselves). */
export async function deleteTopology(ch: Channel, names: RabbitNames, levels = MAX_RETRY_LEVELS) {
  for (let attempt = 1; attempt <= levels; attempt++) await ch.deleteQueue(names.retryQueue(attempt));
  for (const queue of [names.queue, names.deadQueue, names.waitQueue]) await ch.deleteQueue(queue);
  for (const exchange of [names.exchange, names.dlx, names.deadExchange, names.waitExchange])
    await ch.deleteExchange(exchange);
}
