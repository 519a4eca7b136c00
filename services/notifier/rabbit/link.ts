import { type ChannelModel, type ConfirmChannel, connect, type Options } from 'amqplib';
import { sleep } from '../../../shared/bus/consume.ts';
import type { Logger } from '../../../shared/log.ts';
import { assertTopology, type RabbitNames, unbindStaleRetries } from './topology.ts';

/** RabbitMQ is not reachable right now (or did not confirm): the caller keeps its own message and retries. */
export class RabbitUnavailableError extends Error {
  readonly code = 'RABBIT_UNAVAILABLE';
}

export type LinkOptions = Readonly<{
  url: string;
  names: RabbitNames;
  retryDelaysMs: readonly number[];
  log: Logger;
  /** Runs after every (re)connect, once the topology exists: starts consumers on the new connection. */
  onConnected: (conn: ChannelModel) => Promise<void>;
  confirmTimeoutMs?: number;
}>;

type Session = Readonly<{ conn: ChannelModel; publisher: ConfirmChannel; returned: Set<string> }>;

/**
 * One connection to RabbitMQ that comes back by itself: connect, declare the topology, open a
 * confirm channel for publishing, start the consumers; on any loss, back off (0.5 s doubling to 30 s,
 * with jitter) and do it all again. It never throws out of its loop, so the process never crash-loops.
 */
export class RabbitLink {
  private session: Session | null = null;
  private readonly stop = new AbortController();
  private loop: Promise<void> | null = null;

  constructor(private readonly options: LinkOptions) {}

  get connected(): boolean {
    return this.session !== null;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Publishes persistently and resolves only once the broker confirmed the message was routed. */
  async publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish) {
    const session = this.session;
    if (session === null) throw new RabbitUnavailableError('RabbitMQ is not connected');
    const messageId = options.messageId ?? '';
    const timeoutMs = this.options.confirmTimeoutMs ?? 10_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new RabbitUnavailableError('publish not confirmed in time')),
        timeoutMs,
      );
      const done = (error: unknown) => {
        clearTimeout(timer);
        const unroutable = session.returned.delete(messageId);
        if (error) reject(new RabbitUnavailableError(`publish was not confirmed: ${String(error)}`));
        else if (unroutable) reject(new RabbitUnavailableError(`message ${messageId} was unroutable`));
        else resolve();
      };
      try {
        const persistent = { persistent: true, mandatory: true, ...options };
        session.publisher.publish(exchange, routingKey, content, persistent, done);
      } catch (error) {
        done(error);
      }
    });
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.session?.conn.close().catch(() => {});
    await this.loop;
  }

  private async run(): Promise<void> {
    const { log } = this.options;
    let failures = 0;
    while (!this.stop.signal.aborted) {
      try {
        const { closed } = await this.open();
        failures = 0;
        log.info('rabbitmq connected');
        const reason = await closed;
        if (!this.stop.signal.aborted) log.warn({ reason }, 'rabbitmq connection lost; reconnecting');
      } catch (error) {
        failures++;
        log.warn({ err: error, failures }, 'rabbitmq unavailable; retrying with back-off');
      }
      this.session = null;
      const base = Math.min(30_000, 500 * 2 ** Math.min(failures, 10));
      if (!this.stop.signal.aborted) await sleep(base * (0.8 + Math.random() * 0.4), this.stop.signal);
    }
  }

  private async open(): Promise<{ closed: Promise<string> }> {
    const { url, names, retryDelaysMs, log } = this.options;
    const conn = await connect(url, {
      timeout: 5000,
      clientProperties: { connection_name: 'pixtools-notifier' },
    });
    const closed = new Promise<string>((resolve) =>
      conn.once('close', (err) => resolve(String(err ?? 'closed'))),
    );
    conn.on('error', (err: Error) => log.warn({ err }, 'rabbitmq connection error'));
    try {
      const setup = await conn.createChannel();
      await assertTopology(setup, names, retryDelaysMs);
      await setup.close();
      await unbindStaleRetries(conn, names, retryDelaysMs);
      const publisher = await conn.createConfirmChannel();
      const returned = new Set<string>();
      publisher.on('return', (msg) => returned.add(String(msg.properties.messageId ?? '')));
      publisher.on('error', (err: Error) => log.warn({ err }, 'rabbitmq publish channel error'));
      // A channel that died alone leaves a half-working session: start over with a fresh connection.
      publisher.on('close', () => void conn.close().catch(() => {}));
      await this.options.onConnected(conn);
      this.session = { conn, publisher, returned };
      if (this.stop.signal.aborted) await conn.close().catch(() => {});
    } catch (error) {
      await conn.close().catch(() => {});
      throw error;
    }
    return { closed };
  }
}
