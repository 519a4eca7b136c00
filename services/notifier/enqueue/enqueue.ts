import type { JsMsg } from '@nats-io/jetstream';
import type { Bus } from '../../../shared/bus/connect.ts';
import { ACK, backoffMs, type Disposition } from '../../../shared/bus/consume.ts';
import { type JobEvent, parseEvent } from '../../../shared/events/events.ts';
import { isTerminalEvent } from '../../../shared/jobs/status.ts';
import type { Logger } from '../../../shared/log.ts';
import type { Storage } from '../../../shared/storage/storage.ts';
import type { Delivery } from '../delivery.ts';
import type { DeliveryLedger } from '../ledger/ledger.ts';
import { type RabbitLink, RabbitUnavailableError } from '../rabbit/link.ts';
import { type RabbitNames, routingKeyFor } from '../rabbit/topology.ts';
import { type Download, payloadFor, planDelivery } from './plan.ts';

export type EnqueueDeps = Readonly<{
  bus: Bus;
  link: RabbitLink;
  names: RabbitNames;
  ledger: DeliveryLedger;
  storage: Storage;
  log: Logger;
  now: () => Date;
}>;

/**
 * JetStream → RabbitMQ: a terminal event of a job with a webhook becomes one persistent delivery
 * message. The event is acknowledged only after the broker confirmed the publish; while RabbitMQ is
 * down the event is left unacknowledged (nak with back-off) and comes back later. Nothing is lost.
 */
export function enqueueHandler(deps: EnqueueDeps) {
  const { bus, link, names, ledger, log } = deps;
  return async (msg: JsMsg): Promise<Disposition> => {
    let event: JobEvent;
    try {
      event = parseEvent(msg.data);
    } catch {
      return ACK; // malformed events are reported by the projections, which own that record
    }
    if (!isTerminalEvent(event)) return ACK;
    const { jobId } = event.metadata;
    // Most jobs have no webhook: their first event says so, without reading the whole history.
    const first = await bus.log.first(jobId);
    if (first?.event.type === 'JobSubmitted' && first.event.data.webhookUrl === null) return ACK;
    const history = (await bus.log.history(jobId)).events.map((stored) => stored.event);
    const outcome = planDelivery(history, event);
    if (!outcome.send) return ACK;
    const { plan } = outcome;
    if (await ledger.wasEnqueued(plan.deliveryId)) return ACK;

    const secondsLeft = (Date.parse(plan.expiresAt) - deps.now().getTime()) / 1000;
    const sign = async ({ key, filename }: Download) =>
      secondsLeft < 1 ? null : deps.storage.presign(key, filename, secondsLeft);
    const delivery: Delivery = {
      version: 1,
      deliveryId: plan.deliveryId,
      event: plan.event,
      url: plan.url,
      jobId,
      correlationId: event.metadata.correlationId,
      causationId: event.metadata.eventId,
      payload: await payloadFor(jobId, plan, event, sign),
    };
    try {
      await link.publish(names.exchange, routingKeyFor(1), Buffer.from(JSON.stringify(delivery)), {
        messageId: plan.deliveryId,
        contentType: 'application/json',
        type: plan.event,
        timestamp: Math.floor(deps.now().getTime() / 1000),
      });
    } catch (error) {
      if (!(error instanceof RabbitUnavailableError)) throw error;
      const delayMs = backoffMs(msg.info.deliveryCount);
      log.warn(
        { jobId, deliveryId: plan.deliveryId, delayMs, reason: error.message },
        'delivery not queued yet',
      );
      return { kind: 'nak', delayMs };
    }
    await ledger.markEnqueued(plan.deliveryId);
    log.debug({ jobId, deliveryId: plan.deliveryId }, 'webhook delivery queued');
    return ACK;
  };
}
