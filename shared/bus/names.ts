import type { Queue } from '../events/operations.ts';

/** Every stream, subject and durable name, derived from one namespace so test runs never collide. */
export type BusNames = Readonly<{
  eventsStream: string;
  eventsWildcard: string;
  workStream: string;
  advisoryStream: string;
  advisorySubject: string;
  /** The retention sweeper's own state (a KV bucket: how far it has read the log). */
  expiryState: string;
  /** Every stream the namespace has, the KV bucket's included: what a test run deletes at its end. */
  streams: readonly string[];
  jobSubject: (jobId: string) => string;
  workSubject: (queue: Queue) => string;
  /** Core NATS (not stored): each worker's capacity and observed service time, once a second. */
  capacitySubject: (queue: Queue | '*') => string;
  durable: Readonly<{
    planner: string;
    dispatcher: string;
    notifier: string;
    converter: string;
    denoiser: string;
    advisories: string;
  }>;
}>;

export function busNames(namespace: string): BusNames {
  const eventsStream = `${namespace}_events`;
  const workStream = `${namespace}_work`;
  const advisoryStream = `${namespace}_advisories`;
  const expiryState = `${namespace}_expiry`;
  return Object.freeze({
    eventsStream,
    eventsWildcard: `${namespace}.events.*`,
    workStream,
    advisoryStream,
    advisorySubject: `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${workStream}.*`,
    expiryState,
    // A KV bucket is the stream KV_<bucket>.
    streams: Object.freeze([eventsStream, workStream, advisoryStream, `KV_${expiryState}`]),
    jobSubject: (jobId: string) => `${namespace}.events.${jobId}`,
    workSubject: (queue: Queue) => `${namespace}.work.${queue}`,
    capacitySubject: (queue: Queue | '*') => `${namespace}.capacity.${queue}`,
    durable: Object.freeze({
      planner: 'planner',
      dispatcher: 'dispatcher',
      notifier: 'notifier',
      converter: 'converter',
      denoiser: 'denoiser',
      advisories: 'planner-advisories',
    }),
  });
}
