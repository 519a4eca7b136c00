import {
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../log.ts';
import { untilDone } from '../net/retry.ts';
import { EventLog } from './eventlog.ts';
import { type BusNames, busNames } from './names.ts';
import { DEFAULT_EVENTS_MAX_AGE_MS, DEFAULT_EVENTS_MAX_BYTES, ensureTopology } from './provision.ts';
import { WorkQueues, within } from './work.ts';

export type Bus = Readonly<{
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: BusNames;
  log: EventLog;
  /** The work stream: relay a step, read a queue's depth. */
  work: WorkQueues;
  /** One round trip to the NATS server; throws `BusTimeoutError` after `timeoutMs`. */
  ping: (timeoutMs?: number) => Promise<void>;
}>;

export type BusOptions = Readonly<{
  url: string;
  namespace: string;
  name: string;
  ackWaitMs: number;
  maxDeliver: number;
  workQueueLimit?: number;
  streamReplicas?: number;
  eventsMaxAgeMs?: number;
  eventsMaxBytes?: number;
  /** Where "NATS not reachable yet, retrying" is reported while waiting at start. */
  log?: Logger;
}>;

/**
 * Connects (waiting for a server that is not up yet, then reconnecting forever) and makes sure the
 * topology exists before anything uses it; a JetStream that is not ready yet is waited for too.
 */
export async function connectBus(options: BusOptions): Promise<Bus> {
  const nc = await connect({
    servers: options.url.split(','),
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
  });
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const js = jetstream(nc);
  const names = busNames(options.namespace);
  await untilDone(
    'JetStream topology',
    options.log,
    () =>
      ensureTopology(jsm, names, {
        ackWaitMs: options.ackWaitMs,
        maxDeliver: options.maxDeliver,
        workQueueLimit: options.workQueueLimit ?? 10_000,
        replicas: options.streamReplicas ?? 1,
        eventsMaxAgeMs: options.eventsMaxAgeMs ?? DEFAULT_EVENTS_MAX_AGE_MS,
        eventsMaxBytes: options.eventsMaxBytes ?? DEFAULT_EVENTS_MAX_BYTES,
      }),
    undefined,
    // "insufficient resources": the server cannot reserve the streams' limits (EVENTS_MAX_BYTES) —
    // waiting will not change that, so say it instead of retrying for ever.
    (error) => error instanceof JetStreamApiError && error.code === 10047,
  );
  return Object.freeze({
    nc,
    js,
    jsm,
    names,
    log: new EventLog(js, jsm, names),
    work: new WorkQueues(js, jsm, names),
    ping: async (timeoutMs = 1000) => {
      await within(nc.flush(), timeoutMs, 'NATS ping');
    },
  });
}
