import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { sleep } from '../../../shared/bus/consume.ts';
import type { Logger } from '../../../shared/log.ts';
import type { Settle } from './deliver.ts';

export type ConsumerOptions = Readonly<{
  queue: string;
  prefetch: number;
  handle: (msg: ConsumeMessage) => Promise<Settle>;
  log: Logger;
}>;

/**
 * Consumes the work queue with manual acks and a bounded prefetch (at most `prefetch` deliveries in
 * flight). `attach` is called on every (re)connect. `stop` cancels the consumer, lets in-flight
 * deliveries finish and settle; whatever is still unacknowledged when the channel closes is requeued
 * by the broker, so a stop or a crash never loses a delivery.
 */
export class DeliveryConsumer {
  private channel: Channel | null = null;
  private consumerTag: string | null = null;
  private stopping = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: ConsumerOptions) {}

  async attach(conn: ChannelModel): Promise<void> {
    if (this.stopping) return;
    const { queue, prefetch, log } = this.options;
    const channel = await conn.createChannel();
    channel.on('error', (err: Error) => log.warn({ err }, 'rabbitmq consumer channel error'));
    channel.on('close', () => {
      if (this.channel === channel) this.channel = null;
      if (!this.stopping) void conn.close().catch(() => {}); // reconnect as a whole
    });
    await channel.prefetch(prefetch);
    const { consumerTag } = await channel.consume(queue, (msg) => this.receive(channel, conn, msg), {
      noAck: false,
    });
    this.channel = channel;
    this.consumerTag = consumerTag;
    log.info({ queue, prefetch }, 'webhook deliveries consuming');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const { channel, consumerTag } = this;
    if (channel !== null && consumerTag !== null) await channel.cancel(consumerTag).catch(() => {});
    await Promise.allSettled([...this.inFlight]);
    await channel?.close().catch(() => {});
  }

  private receive(channel: Channel, conn: ChannelModel, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // The broker cancelled us (queue deleted): reconnecting re-declares the topology.
      if (!this.stopping) void conn.close().catch(() => {});
      return;
    }
    const task = this.process(channel, msg).finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
  }

  private async process(channel: Channel, msg: ConsumeMessage): Promise<void> {
    let settle: Settle;
    try {
      settle = await this.options.handle(msg);
    } catch (error) {
      this.options.log.warn(
        { err: error, messageId: msg.properties.messageId },
        'delivery failed locally; requeued',
      );
      settle = 'requeue';
    }
    if (settle === 'requeue') await sleep(1000);
    try {
      switch (settle) {
        case 'ack':
          channel.ack(msg);
          return;
        case 'reject':
          channel.nack(msg, false, false);
          return;
        case 'requeue':
          channel.nack(msg, false, true);
          return;
        default: {
          const never: never = settle;
          throw new Error(`unknown settlement ${String(never)}`);
        }
      }
    } catch (error) {
      // The channel closed under us: the broker requeues the message by itself.
      this.options.log.warn({ err: error, messageId: msg.properties.messageId }, 'could not settle delivery');
    }
  }
}
