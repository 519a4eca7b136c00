import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { EventLog } from './eventlog.ts';
import { type BusNames, busNames } from './names.ts';
import { ensureTopology } from './provision.ts';

export type Bus = Readonly<{
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: BusNames;
  log: EventLog;
}>;

export type BusOptions = Readonly<{
  url: string;
  namespace: string;
  name: string;
  ackWaitMs: number;
  maxDeliver: number;
  workQueueLimit?: number;
  streamReplicas?: number;
}>;

/** Connects (reconnecting forever) and makes sure the topology exists before anything uses it. */
export async function connectBus(options: BusOptions): Promise<Bus> {
  const nc = await connect({
    servers: options.url,
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
  });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const names = busNames(options.namespace);
  await ensureTopology(jsm, names, {
    ackWaitMs: options.ackWaitMs,
    maxDeliver: options.maxDeliver,
    workQueueLimit: options.workQueueLimit ?? 10_000,
    replicas: options.streamReplicas ?? 1,
  });
  return Object.freeze({ nc, js, jsm, names, log: new EventLog(js, jsm, names) });
}
