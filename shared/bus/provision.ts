import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { BusNames } from './names.ts';

export type TopologyOptions = Readonly<{
  ackWaitMs: number;
  maxDeliver: number;
  workQueueLimit: number;
  replicas: number;
  /** Events older than this are dropped (default 30 days): history outlives the 24 h image retention. */
  eventsMaxAgeMs: number;
  /** The events stream's size cap (-1 unlimited); the oldest events go first when it is reached. */
  eventsMaxBytes: number;
}>;

export const DEFAULT_EVENTS_MAX_AGE_MS = 30 * 24 * 3_600_000;
export const DEFAULT_EVENTS_MAX_BYTES = 10 * 1024 ** 3;

const nanos = (ms: number) => ms * 1_000_000;

/**
 * Creates or repairs the streams and durable consumers. Idempotent: every service calls it at start,
 * so whichever starts first leaves the topology complete and a drifted setting is put back.
 */
export async function ensureTopology(jsm: JetStreamManager, names: BusNames, options: TopologyOptions) {
  await ensureStream(jsm, {
    name: names.eventsStream,
    subjects: [names.eventsWildcard],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(options.eventsMaxAgeMs),
    max_bytes: options.eventsMaxBytes,
    duplicate_window: nanos(120_000),
    max_msg_size: 1024 * 1024,
    num_replicas: options.replicas,
    // Histories are read message by message (direct get by subject), so no reader leaves a consumer behind.
    allow_direct: true,
  });
  await ensureStream(jsm, {
    name: names.workStream,
    subjects: [names.workSubject('io'), names.workSubject('ml')],
    storage: StorageType.File,
    retention: RetentionPolicy.Workqueue,
    discard: DiscardPolicy.New,
    max_msgs: options.workQueueLimit,
    duplicate_window: nanos(120_000),
    max_msg_size: 1024 * 1024,
    num_replicas: options.replicas,
  });
  await ensureStream(jsm, {
    name: names.advisoryStream,
    subjects: [names.advisorySubject],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    max_age: nanos(7 * 24 * 3_600_000),
    num_replicas: options.replicas,
  });

  // Event consumers retry until they succeed: an event is never given up on. Projections need no durable:
  // their checkpoint in Postgres is their cursor (an ordered consumer reads from it).
  const eventConsumer = (durable: string, maxAckPending = 1000): Partial<ConsumerConfig> => ({
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(30_000),
    max_deliver: -1,
    max_ack_pending: maxAckPending,
  });
  await ensureConsumer(jsm, names.eventsStream, eventConsumer(names.durable.planner));
  await ensureConsumer(jsm, names.eventsStream, eventConsumer(names.durable.dispatcher));
  // The durable of earlier versions' projection, which nothing reads any more.
  if ((await jsm.consumers.info(names.eventsStream, 'projections').catch(() => null)) !== null) {
    await jsm.consumers.delete(names.eventsStream, 'projections');
  }
  await ensureConsumer(jsm, names.eventsStream, eventConsumer(names.durable.notifier));
  await ensureConsumer(jsm, names.advisoryStream, eventConsumer(names.durable.advisories));

  const workConsumer = (durable: string, subject: string): Partial<ConsumerConfig> => ({
    durable_name: durable,
    filter_subject: subject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(options.ackWaitMs),
    max_deliver: options.maxDeliver,
    max_ack_pending: 256,
  });
  await ensureConsumer(jsm, names.workStream, workConsumer(names.durable.converter, names.workSubject('io')));
  await ensureConsumer(jsm, names.workStream, workConsumer(names.durable.denoiser, names.workSubject('ml')));
}

async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }) {
  const existing = await jsm.streams.info(config.name).catch(() => null);
  if (existing === null) {
    await jsm.streams.add(config);
    return;
  }
  const drifted = Object.entries(config).some(
    ([key, value]) => JSON.stringify(existing.config[key as keyof StreamConfig]) !== JSON.stringify(value),
  );
  if (drifted) await jsm.streams.update(config.name, config);
}

async function ensureConsumer(jsm: JetStreamManager, stream: string, config: Partial<ConsumerConfig>) {
  const durable = config.durable_name ?? '';
  const existing = await jsm.consumers.info(stream, durable).catch(() => null);
  if (existing === null) {
    await jsm.consumers.add(stream, config);
    return;
  }
  const { durable_name: _name, deliver_policy: _policy, ...mutable } = config;
  const drifted = Object.entries(mutable).some(
    ([key, value]) => JSON.stringify(existing.config[key as keyof ConsumerConfig]) !== JSON.stringify(value),
  );
  if (drifted) await jsm.consumers.update(stream, durable, mutable);
}
