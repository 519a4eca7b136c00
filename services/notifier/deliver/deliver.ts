import type { ConsumeMessage } from 'amqplib';
import { BrokenCircuitError } from 'cockatiel';
import type { Bus } from '../../../shared/bus/connect.ts';
import { eventIdFor } from '../../../shared/bus/eventlog.ts';
import type { NewEvent } from '../../../shared/events/events.ts';
import type { Logger } from '../../../shared/log.ts';
import { WebhookUrlForbiddenError } from '../../../shared/net/ssrf.ts';
import { type Delivery, parseDelivery, UnparsableDeliveryError } from '../delivery.ts';
import type { DeliveryLedger } from '../ledger/ledger.ts';
import type { RabbitLink } from '../rabbit/link.ts';
import { attemptOf, type RabbitNames, routingKeyFor } from '../rabbit/topology.ts';
import { HEADERS, signatureHeader } from '../sign/sign.ts';
import type { HostBreakers } from './breakers.ts';
import { postWebhook } from './http.ts';

export type DeliverDeps = Readonly<{
  bus: Bus;
  ledger: DeliveryLedger;
  breakers: HostBreakers;
  link: RabbitLink;
  names: RabbitNames;
  secret: string;
  timeoutMs: number;
  allow: readonly string[];
  maxAttempts: number;
  log: Logger;
  now: () => Date;
  signal: AbortSignal;
}>;

/** `reject` = nack without requeue: the topology sends it to its retry queue, or after the last to the DLQ. */
export type Settle = 'ack' | 'reject' | 'requeue';

type AttemptResult =
  | Readonly<{ ok: true; statusCode: number }>
  | Readonly<{ ok: false; error: string; permanent: boolean }>
  | Readonly<{ ok: 'circuit-open' }>;

/** One delivery message from the work queue: at most one successful webhook per delivery id. */
export function deliverHandler(deps: DeliverDeps) {
  return async (msg: ConsumeMessage): Promise<Settle> => {
    const attempt = attemptOf(msg.fields.routingKey);
    let delivery: Delivery;
    try {
      delivery = parseDelivery(msg.content);
    } catch (error) {
      if (!(error instanceof UnparsableDeliveryError)) throw error;
      deps.log.error({ messageId: msg.properties.messageId, reason: error.message }, 'unparsable delivery');
      await deadLetter(deps, msg, `unparsable delivery: ${error.message}`);
      return 'ack';
    }
    if (await settledBefore(deps, delivery)) return 'ack';
    const release = await deps.ledger.claim(delivery.deliveryId, deps.signal);
    try {
      if (await settledBefore(deps, delivery)) return 'ack'; // another copy finished while we waited
      const result = await attemptOnce(deps, delivery, attempt);
      if (result.ok === 'circuit-open') {
        // Nothing was sent, so no attempt is used up: it waits in the wait queue, then comes back on the
        // same attempt, behind the deliveries to other hosts (confirmed before this copy is acked).
        await deps.link.publish(deps.names.waitExchange, routingKeyFor(attempt), msg.content, {
          messageId: msg.properties.messageId,
          contentType: msg.properties.contentType,
          headers: msg.properties.headers,
        });
        deps.log.debug({ deliveryId: delivery.deliveryId, attempt }, 'circuit open; delivery delayed');
        return 'ack';
      }
      if (result.ok) {
        await recordDelivered(deps, delivery, result.statusCode, attempt);
        return 'ack';
      }
      const final = result.permanent || attempt >= deps.maxAttempts;
      const data = { deliveryId: delivery.deliveryId, url: delivery.url };
      const events: NewEvent[] = [
        { type: 'WebhookAttempted', data: { ...data, attempt, error: result.error } },
      ];
      if (final)
        events.push({ type: 'WebhookFailed', data: { ...data, attempts: attempt, error: result.error } });
      await append(deps, delivery, events, attempt);
      deps.log.warn(
        { deliveryId: delivery.deliveryId, attempt, final, error: result.error },
        'webhook attempt failed',
      );
      if (!final || attempt >= deps.maxAttempts) return 'reject';
      await deadLetter(deps, msg, result.error); // refused target: retrying cannot help
      return 'ack';
    } finally {
      await release().catch(() => {});
    }
  };
}

async function attemptOnce(deps: DeliverDeps, delivery: Delivery, attempt: number): Promise<AttemptResult> {
  const body = JSON.stringify(delivery.payload);
  const timestamp = Math.floor(deps.now().getTime() / 1000);
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'PixTools-Webhooks/1',
    [HEADERS.signature]: signatureHeader(deps.secret, timestamp, body),
    [HEADERS.delivery]: delivery.deliveryId,
    [HEADERS.event]: delivery.event,
    [HEADERS.attempt]: String(attempt),
  };
  try {
    // The SSRF guard runs inside: on the address each hop actually connects to.
    const statusCode = await deps.breakers
      .for(delivery.url)
      .execute(() =>
        postWebhook(delivery.url, body, headers, { timeoutMs: deps.timeoutMs, allow: deps.allow }),
      );
    return { ok: true, statusCode };
  } catch (error) {
    if (error instanceof BrokenCircuitError) return { ok: 'circuit-open' };
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, error: message, permanent: error instanceof WebhookUrlForbiddenError };
  }
}

/** True when this delivery already reached its sink; makes sure the outcome event exists. */
async function settledBefore(deps: DeliverDeps, delivery: Delivery): Promise<boolean> {
  const done = await deps.ledger.delivered(delivery.deliveryId);
  if (done === null) return false;
  if (!done.recorded) await recordDelivered(deps, delivery, done.statusCode, done.attempts);
  return true;
}

async function recordDelivered(deps: DeliverDeps, delivery: Delivery, statusCode: number, attempts: number) {
  const { deliveryId, url } = delivery;
  await deps.ledger.markDelivered(deliveryId, { statusCode, attempts, recorded: false });
  await append(
    deps,
    delivery,
    [{ type: 'WebhookDelivered', data: { deliveryId, url, attempts, statusCode } }],
    attempts,
  );
  await deps.ledger.markDelivered(deliveryId, { statusCode, attempts, recorded: true });
}

function append(deps: DeliverDeps, delivery: Delivery, events: NewEvent[], attempt: number) {
  const { jobId, correlationId, causationId } = delivery;
  const context = { jobId, correlationId, causationId, time: deps.now().toISOString() };
  return deps.bus.log.append(context, events, (event) =>
    eventIdFor(jobId, event, event.type === 'WebhookAttempted' ? String(attempt) : ''),
  );
}

/** Straight to the dead-letter queue, headers (and `x-death` so far) kept, with the reason added. */
async function deadLetter(deps: DeliverDeps, msg: ConsumeMessage, reason: string): Promise<void> {
  const headers = { ...(msg.properties.headers ?? {}), 'x-pixtools-reason': reason.slice(0, 1000) };
  await deps.link.publish(deps.names.deadExchange, '', msg.content, {
    messageId: msg.properties.messageId ?? `dead-${msg.fields.deliveryTag}`,
    contentType: msg.properties.contentType,
    headers,
  });
}
