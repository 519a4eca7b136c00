import {
  DeliverPolicy,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { EVENT_VERSION, type EventMetadata, JobEvent, type NewEvent, parseEvent } from '../events/events.ts';
import type { BusNames } from './names.ts';

type DirectQuery = Parameters<JetStreamManager['direct']['getMessage']>[1];

export type StoredEvent = Readonly<{ seq: number; event: JobEvent }>;
export type JobHistory = Readonly<{ events: readonly StoredEvent[]; lastSeq: number }>;
export type AppendResult = Readonly<{ lastSeq: number; duplicate: boolean }>;

export type AppendContext = Readonly<{
  jobId: string;
  correlationId: string;
  causationId: string | null;
  time: string;
  /**
   * Optimistic concurrency: the stream sequence of the job's last event the caller decided on
   * (0 when the job has none). The append fails with `ConcurrencyError` if another writer got there first.
   */
  expectedLastSeq?: number;
}>;

export class ConcurrencyError extends Error {
  readonly code = 'CONCURRENT_APPEND';
}

/** A deterministic event id, so a retried append is dropped by JetStream's de-duplication window. */
export function eventIdFor(jobId: string, event: NewEvent, discriminator = ''): string {
  const data = event.data as { stepId?: unknown; deliveryId?: unknown };
  const step = typeof data.stepId === 'string' ? data.stepId : '';
  const delivery = typeof data.deliveryId === 'string' ? data.deliveryId : '';
  return [jobId, event.type, step, delivery, discriminator].filter((part) => part !== '').join(':');
}

export class EventLog {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly names: BusNames,
  ) {}

  /** Validates and appends events in order; returns the stream sequence of the last one. */
  async append(
    context: AppendContext,
    events: readonly NewEvent[],
    idFor: (event: NewEvent) => string = (event) => eventIdFor(context.jobId, event),
  ): Promise<number> {
    return (await this.appendAll(context, events, idFor)).lastSeq;
  }

  /**
   * Like `append`, and says whether JetStream dropped any event as a duplicate of an earlier publish:
   * then `lastSeq` is not necessarily the subject's last sequence.
   */
  async appendAll(
    context: AppendContext,
    events: readonly NewEvent[],
    idFor: (event: NewEvent) => string = (event) => eventIdFor(context.jobId, event),
  ): Promise<AppendResult> {
    let expected = context.expectedLastSeq;
    let last = 0;
    let duplicate = false;
    for (const newEvent of events) {
      const metadata: EventMetadata = {
        eventId: idFor(newEvent),
        jobId: context.jobId,
        time: context.time,
        version: EVENT_VERSION,
        correlationId: context.correlationId,
        causationId: context.causationId,
      };
      const event = JobEvent.parse({ ...newEvent, metadata });
      try {
        const ack = await this.js.publish(this.names.jobSubject(context.jobId), JSON.stringify(event), {
          msgID: metadata.eventId,
          ...(expected === undefined ? {} : { expect: { lastSubjectSequence: expected } }),
        });
        last = ack.seq;
        duplicate ||= ack.duplicate;
        // A duplicate publish returns the original sequence, which may not be the subject's last.
        expected = expected === undefined || ack.duplicate ? undefined : ack.seq;
      } catch (error) {
        if (error instanceof JetStreamApiError && (error.code === 10071 || error.code === 10164)) {
          throw new ConcurrencyError(`job ${context.jobId} changed while deciding: ${error.message}`);
        }
        throw error;
      }
    }
    return { lastSeq: last, duplicate };
  }

  /**
   * Every event of one job, in order, read from its own subject with direct gets (nothing is left on the
   * server). Only a job without events is empty: any error of the bus is thrown, never read as "no events".
   */
  async history(jobId: string): Promise<JobHistory> {
    const last = await this.jsm.direct.getMessage(this.names.eventsStream, {
      last_by_subj: this.names.jobSubject(jobId),
    });
    if (last === null) return { events: [], lastSeq: 0 };
    const events = await this.between(jobId, 0, last.seq);
    return { events, lastSeq: last.seq };
  }

  /** The job's last event, one direct get; null for a job without events (or a malformed last event). */
  last(jobId: string): Promise<StoredEvent | null> {
    return this.one({ last_by_subj: this.names.jobSubject(jobId) });
  }

  /** The job's first event (its `JobSubmitted`), one direct get; null only for a job without events. */
  first(jobId: string): Promise<StoredEvent | null> {
    return this.one({ seq: 1, next_by_subj: this.names.jobSubject(jobId) });
  }

  /** One event by a direct get; null when there is none, or when it is malformed. */
  private async one(query: DirectQuery): Promise<StoredEvent | null> {
    const msg = await this.jsm.direct.getMessage(this.names.eventsStream, query);
    if (msg === null) return null;
    try {
      return { seq: msg.seq, event: parseEvent(msg.data) };
    } catch {
      return null;
    }
  }

  /**
   * The job's events with `afterSeq < seq <= uptoSeq`, in order: what a reader that has folded up to
   * `afterSeq` missed. Malformed events are skipped (the consumers that read them report them).
   */
  async between(jobId: string, afterSeq: number, uptoSeq: number): Promise<StoredEvent[]> {
    const subject = this.names.jobSubject(jobId);
    const events: StoredEvent[] = [];
    let next = afterSeq + 1;
    while (next <= uptoSeq) {
      const msg = await this.jsm.direct.getMessage(this.names.eventsStream, {
        seq: next,
        next_by_subj: subject,
      });
      if (msg === null || msg.seq > uptoSeq) break;
      try {
        events.push({ seq: msg.seq, event: parseEvent(msg.data) });
      } catch {
        // skipped: the consumers that own the event report malformed ones
      }
      next = msg.seq + 1;
    }
    return events;
  }

  /**
   * Every event of one job from `afterSeq` on (exclusive), then new ones as they are appended,
   * until `signal` aborts. Malformed events are skipped.
   */
  async *follow(jobId: string, afterSeq: number, signal: AbortSignal): AsyncGenerator<StoredEvent> {
    const consumer = await this.js.consumers.get(this.names.eventsStream, {
      filter_subjects: this.names.jobSubject(jobId),
      ...(afterSeq > 0
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: afterSeq + 1 }
        : { deliver_policy: DeliverPolicy.All }),
    });
    const messages = await consumer.consume({ max_messages: 64 });
    const stop = () => void messages.close();
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const msg of messages) {
        try {
          yield { seq: msg.seq, event: parseEvent(msg.data) };
        } catch {
          // skipped: the consumers that own the event report malformed ones
        }
      }
    } finally {
      signal.removeEventListener('abort', stop);
      await messages.close();
    }
  }
}
