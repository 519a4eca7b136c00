import type { JsMsg } from '@nats-io/jetstream';
import type { Bus } from '../../shared/bus/connect.ts';
import { ACK, type Disposition } from '../../shared/bus/consume.ts';
import { ConcurrencyError } from '../../shared/bus/eventlog.ts';
import {
  EVENT_VERSION,
  InvalidMessageError,
  type JobEvent,
  type NewEvent,
  parseEvent,
  parseRunStep,
  salvageJobRef,
} from '../../shared/events/events.ts';
import type { Logger } from '../../shared/log.ts';
import { decideAll } from './plan/decide.ts';
import { JobStates } from './states.ts';

export type PlannerDeps = Readonly<{ bus: Bus; log: Logger; now: () => Date }>;

/** Events that can never change what the planner decides: acked unread, fetched later if needed. */
const INERT = new Set<JobEvent['type']>([
  'StepStarted',
  'StepRetrying',
  'JobExpired',
  'WebhookAttempted',
  'WebhookDelivered',
  'WebhookFailed',
]);

function readEvent(msg: JsMsg, log: Logger): JobEvent | null {
  try {
    return parseEvent(msg.data);
  } catch (error) {
    log.error(
      { seq: msg.seq, subject: msg.subject, reason: (error as Error).message },
      'malformed event skipped',
    );
    return null;
  }
}

/**
 * The process manager: brings its state of the event's job up to date (from memory, reading only what
 * it missed), decides, and appends with optimistic concurrency on the job's last sequence.
 */
export function onEvent({ bus, log, now }: PlannerDeps, states: JobStates = new JobStates(bus.log)) {
  return async (msg: JsMsg): Promise<Disposition> => {
    const trigger = readEvent(msg, log);
    if (trigger === null) return { kind: 'term', reason: 'malformed event' };
    if (INERT.has(trigger.type)) return ACK;
    const { jobId } = trigger.metadata;
    return states.serialised(jobId, async () => {
      try {
        return await decideFor(states, { bus, log, now }, trigger, msg.seq);
      } catch (error) {
        log.warn({ err: error, jobId }, 'planner could not decide; the event will be redelivered');
        states.forget(jobId);
        throw error;
      }
    });
  };
}

async function decideFor(
  states: JobStates,
  { bus, log, now }: PlannerDeps,
  trigger: JobEvent,
  seq: number,
): Promise<Disposition> {
  const { jobId, correlationId } = trigger.metadata;
  let known = await states.upTo(jobId, { seq, event: trigger });
  // Workers append to the same job while the planner decides; each conflict folds in what they added.
  for (let attempt = 0; attempt < 20; attempt++) {
    const time = now().toISOString();
    const stamp = (event: NewEvent) =>
      ({
        ...event,
        metadata: { eventId: '', jobId, time, version: EVENT_VERSION, correlationId, causationId: null },
      }) as JobEvent;
    const decided = decideAll(known.state, stamp);
    if (decided.length === 0) return ACK;
    const context = {
      jobId,
      correlationId,
      causationId: trigger.metadata.eventId,
      time,
      expectedLastSeq: known.lastSeq,
    };
    try {
      const appended = await bus.log.appendAll(context, decided);
      if (appended.duplicate) states.forget(jobId);
      else states.appended(jobId, known, decided.map(stamp), appended.lastSeq);
      log.debug({ jobId, decided: decided.map((event) => event.type) }, 'decided');
      return ACK;
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      known = await states.catchUp(jobId, known);
    }
  }
  return { kind: 'nak', delayMs: 100 };
}

/** Relays each `StepDispatched` event to the work stream, de-duplicated by the event's id. */
export function onDispatch({ bus, log }: PlannerDeps) {
  return async (msg: JsMsg): Promise<Disposition> => {
    const event = readEvent(msg, log);
    if (event === null) return { kind: 'term', reason: 'malformed event' };
    if (event.type !== 'StepDispatched') return ACK;
    const { command } = event.data;
    await bus.work.publish(command, event.metadata.eventId);
    return ACK;
  };
}

type MaxDeliveriesAdvisory = { stream: string; stream_seq: number; deliveries: number };

function parseAdvisory(data: Uint8Array): MaxDeliveriesAdvisory | null {
  try {
    const json = JSON.parse(new TextDecoder().decode(data)) as Partial<MaxDeliveriesAdvisory>;
    if (typeof json.stream !== 'string' || typeof json.stream_seq !== 'number') return null;
    return { stream: json.stream, stream_seq: json.stream_seq, deliveries: Number(json.deliveries ?? 0) };
  } catch {
    return null;
  }
}

/**
 * A work message that exhausted its deliveries becomes a visible `StepFailed` for its job
 * (with the last error the worker reported), and is removed from the work stream.
 */
export function onMaxDeliveries({ bus, log, now }: PlannerDeps) {
  return async (msg: JsMsg): Promise<Disposition> => {
    const advisory = parseAdvisory(msg.data);
    if (advisory === null || advisory.stream !== bus.names.workStream) return ACK;
    const stored = await bus.jsm.streams
      .getMessage(advisory.stream, { seq: advisory.stream_seq })
      .catch(() => null);
    if (stored === null) return ACK;
    let ref: { jobId: string; stepId: string | null; correlationId: string } | null;
    try {
      const command = parseRunStep(stored.data);
      ref = { jobId: command.jobId, stepId: command.stepId, correlationId: command.correlationId };
    } catch (error) {
      if (!(error instanceof InvalidMessageError)) throw error;
      const salvaged = salvageJobRef(stored.data);
      ref = salvaged && { ...salvaged, correlationId: salvaged.jobId };
    }
    if (ref === null || ref.stepId === null) {
      log.error(
        { seq: advisory.stream_seq },
        'a work message nobody can process was dropped after max deliveries',
      );
    } else {
      const history = await bus.log.history(ref.jobId);
      const lastError = history.events
        .map((stored) => stored.event)
        .filter((event) => event.type === 'StepRetrying' && event.data.stepId === ref.stepId)
        .map((event) => (event.type === 'StepRetrying' ? event.data.error : ''))
        .at(-1);
      const error = `gave up after ${advisory.deliveries} delivery attempts${lastError ? `: ${lastError}` : ''}`;
      await bus.log.append(
        { jobId: ref.jobId, correlationId: ref.correlationId, causationId: null, time: now().toISOString() },
        [{ type: 'StepFailed', data: { stepId: ref.stepId, error, attempts: advisory.deliveries } }],
      );
      log.warn({ jobId: ref.jobId, stepId: ref.stepId, error }, 'step failed after max deliveries');
    }
    await bus.jsm.streams.deleteMessage(advisory.stream, advisory.stream_seq).catch(() => false);
    return ACK;
  };
}
