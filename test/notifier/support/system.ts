import { type Channel, type ChannelModel, connect, type GetMessage } from 'amqplib';
import { Redis } from 'ioredis';
import { readConfig } from '../../../services/notifier/config.ts';
import { DeliveryLedger } from '../../../services/notifier/ledger/ledger.ts';
import { type Notifier, startNotifier } from '../../../services/notifier/notifier.ts';
import { deleteTopology, rabbitNames } from '../../../services/notifier/rabbit/topology.ts';
import type { JobEvent } from '../../../shared/events/events.ts';
import { type Harness, startHarness, waitFor } from '../../support/harness.ts';
import { appendJob, type Outcome } from './jobs.ts';

export const TEST_SECRET = 'notifier-test-secret-0123456789';
export const RABBIT_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export type NotifierSystem = Awaited<ReturnType<typeof startNotifierSystem>>;

/**
 * The test harness (fresh namespace, database, bucket; projections running) plus the notifier against
 * the real RabbitMQ and Redis. The notifier runs in-process unless `inProcess` is false (e2e spawns it).
 * `close` deletes the run's exchanges, queues and Redis keys.
 */
export async function startNotifierSystem(overrides: Record<string, string> = {}, inProcess = true) {
  const h: Harness = await startHarness({
    WEBHOOK_SECRET: TEST_SECRET,
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    WEBHOOK_RETRY_DELAYS_MS: '300,300',
    WEBHOOK_TIMEOUT_MS: '1500',
    ...overrides,
  });
  h.start('projections');
  const config = readConfig(h.env);
  const names = rabbitNames(config.infra.namespace);
  const amqp: ChannelModel = await connect(RABBIT_URL); // direct, even when the notifier's goes through a proxy
  const ch: Channel = await amqp.createChannel();
  const redis = new Redis(config.infra.redisUrl);
  const ledger = new DeliveryLedger(redis, config.infra.namespace, 1000);
  let notifier: Notifier | null = null;

  const system = {
    h,
    env: h.env,
    config,
    names,
    ch,
    ledger,
    get notifier(): Notifier {
      if (notifier === null) throw new Error('the notifier is not running');
      return notifier;
    },
    async startNotifier() {
      notifier = startNotifier({ config, bus: h.bus, log: h.log, now: () => new Date() });
      const running = notifier;
      await waitFor(async () => running.link.connected, Boolean, 15_000);
      return running;
    },
    async stopNotifier() {
      await notifier?.stop();
      notifier = null;
    },
    completeJob: (url: string | null, outcome: Outcome = 'completed') => appendJob(h.bus, url, outcome),
    history: (jobId: string) => h.history(jobId),
    waitForEvent: (jobId: string, type: JobEvent['type'], timeoutMs = 15_000) =>
      waitFor(
        () => h.history(jobId),
        (events) => events.some((event) => event.type === type),
        timeoutMs,
      ),
    /** Drains the dead-letter queue. */
    async deadLetters(): Promise<GetMessage[]> {
      const messages: GetMessage[] = [];
      for (;;) {
        const message = await ch.get(names.deadQueue, { noAck: true });
        if (message === false) return messages;
        messages.push(message);
      }
    },
    async close() {
      await system.stopNotifier();
      await deleteTopology(ch, names);
      await ledger.purge();
      redis.disconnect();
      await amqp.close();
      await h.close();
    },
  };
  if (inProcess) await system.startNotifier();
  return system;
}

export function count(events: readonly JobEvent[], type: JobEvent['type']): number {
  return events.filter((event) => event.type === type).length;
}
