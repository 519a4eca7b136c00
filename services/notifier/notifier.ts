import { Redis } from 'ioredis';
import type { Bus } from '../../shared/bus/connect.ts';
import { consumeLoop } from '../../shared/bus/consume.ts';
import type { Logger } from '../../shared/log.ts';
import { Storage } from '../../shared/storage/storage.ts';
import type { NotifierConfig } from './config.ts';
import { HostBreakers } from './deliver/breakers.ts';
import { DeliveryConsumer } from './deliver/consumer.ts';
import { deliverHandler } from './deliver/deliver.ts';
import { enqueueHandler } from './enqueue/enqueue.ts';
import { DeliveryLedger } from './ledger/ledger.ts';
import { RabbitLink } from './rabbit/link.ts';
import { rabbitNames } from './rabbit/topology.ts';

export type NotifierDeps = Readonly<{ config: NotifierConfig; bus: Bus; log: Logger; now: () => Date }>;
export type Notifier = ReturnType<typeof startNotifier>;

/**
 * The notifier's two loops, wired: JetStream terminal events → RabbitMQ (enqueue), and RabbitMQ →
 * signed HTTP POST → outcome events (deliver). `main.ts` and the tests run exactly this.
 */
export function startNotifier({ config, bus, log, now }: NotifierDeps) {
  const stop = new AbortController();
  const names = rabbitNames(config.infra.namespace);
  const redis = new Redis(config.infra.redisUrl, { maxRetriesPerRequest: 2 });
  redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis unavailable'));
  // The lock outlives one attempt: DNS (5 s at most) plus the HTTP deadline.
  const ledger = new DeliveryLedger(redis, config.infra.namespace, config.timeoutMs + 6000);
  const storage = new Storage(config.infra.s3);
  const breakers = new HostBreakers({
    threshold: config.breakerThreshold,
    halfOpenAfterMs: config.breakerHalfOpenMs,
    log,
  });
  const consumer: DeliveryConsumer = new DeliveryConsumer({
    queue: names.queue,
    prefetch: config.prefetch,
    log,
    handle: (msg) => handle(msg),
  });
  const link = new RabbitLink({
    url: config.rabbitUrl,
    names,
    retryDelaysMs: config.retryDelaysMs,
    log,
    onConnected: (conn) => consumer.attach(conn),
  });
  const handle = deliverHandler({
    bus,
    ledger,
    breakers,
    link,
    names,
    secret: config.secret,
    timeoutMs: config.timeoutMs,
    allow: config.allowedHosts,
    maxAttempts: config.retryDelaysMs.length + 1,
    log,
    now,
    signal: stop.signal,
  });
  link.start();
  const enqueueing = consumeLoop({
    js: bus.js,
    stream: bus.names.eventsStream,
    durable: bus.names.durable.notifier,
    concurrency: config.concurrency,
    heartbeatMs: null,
    handle: enqueueHandler({ bus, link, names, ledger, storage, log, now }),
    log,
    signal: stop.signal,
  });

  return {
    names,
    ledger,
    breakers,
    link,
    /** Stops pulling events, lets in-flight deliveries finish, then closes every connection. */
    async stop(): Promise<void> {
      stop.abort();
      await enqueueing;
      await consumer.stop();
      await link.close();
      await redis.quit().catch(() => redis.disconnect());
      storage.destroy();
    },
  };
}
