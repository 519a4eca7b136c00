import type { Bus } from '../../../shared/bus/connect.ts';
import type { Queue } from '../../../shared/events/operations.ts';

export type ConsumerLag = Readonly<{ stream: string; consumer: string; pending: number; inFlight: number }>;

export type BusSnapshot = Readonly<{
  /** Per work queue: steps waiting to be pulled and steps being worked on. */
  queues: readonly { queue: Queue; waiting: number; inFlight: number }[];
  consumers: readonly ConsumerLag[];
  eventsLastSeq: number;
  workMessages: number;
  workLimit: number;
}>;

/**
 * One consumer-info request per durable (JetStream keeps these counts; nothing is scanned). The
 * projections have no durable (their Postgres checkpoint is their cursor): their lag is
 * `pixtools_projection_lag_events`.
 */
export async function busSnapshot(bus: Bus): Promise<BusSnapshot> {
  const { names, jsm } = bus;
  const durables: readonly [string, string][] = [
    [names.eventsStream, names.durable.planner],
    [names.eventsStream, names.durable.dispatcher],
    [names.eventsStream, names.durable.notifier],
    [names.workStream, names.durable.converter],
    [names.workStream, names.durable.denoiser],
  ];
  const [events, work, ...infos] = await Promise.all([
    jsm.streams.info(names.eventsStream),
    jsm.streams.info(names.workStream),
    ...durables.map(([stream, durable]) => jsm.consumers.info(stream, durable).catch(() => null)),
  ]);
  const consumers: ConsumerLag[] = [];
  durables.forEach(([stream, consumer], index) => {
    const info = infos[index];
    if (info) consumers.push({ stream, consumer, pending: info.num_pending, inFlight: info.num_ack_pending });
  });
  const byDurable = (durable: string) => consumers.find((entry) => entry.consumer === durable);
  const queue = (name: Queue, durable: string) => ({
    queue: name,
    waiting: byDurable(durable)?.pending ?? 0,
    inFlight: byDurable(durable)?.inFlight ?? 0,
  });
  return {
    queues: [queue('io', names.durable.converter), queue('ml', names.durable.denoiser)],
    consumers,
    eventsLastSeq: events.state.last_seq,
    workMessages: work.state.messages,
    workLimit: work.config.max_msgs,
  };
}
