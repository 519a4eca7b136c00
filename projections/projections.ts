import { DeliverPolicy } from '@nats-io/jetstream';
import type { Kysely } from 'kysely';
import type { Bus } from '../shared/bus/connect.ts';
import type { Logger } from '../shared/log.ts';
import type { Database } from './database.ts';
import { applyOrQuarantine, CHECKPOINT, type Envelope } from './project.ts';
import { envelope } from './projector.ts';

export type ProjectionsOptions = Readonly<{
  db: Kysely<Database>;
  bus: Bus;
  log: Logger;
  /** Most events per transaction (default 500). */
  batchSize?: number;
}>;
export type Projections = ReturnType<typeof startProjections>;

/** The stream sequence the read models cover. */
export async function readCheckpoint(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('projection_checkpoints')
    .select('seq')
    .where('name', '=', CHECKPOINT)
    .executeTakeFirst();
  return row?.seq ?? 0;
}

/**
 * The live projection. The checkpoint in Postgres is the only cursor: an ordered consumer reads the
 * event stream from the checkpoint on, and events are applied in batches (as many as have arrived,
 * up to `batchSize`), each batch in one transaction with its checkpoint. After any failure it starts
 * again from the checkpoint, so nothing is applied twice or skipped; an event the database refuses
 * for its data is quarantined instead of blocking every later job.
 */
export function startProjections({ db, bus, log, batchSize = 500 }: ProjectionsOptions) {
  const stop = new AbortController();
  const counters = { applied: 0, quarantined: 0, batches: 0 };
  const running = (async () => {
    while (!stop.signal.aborted) {
      try {
        await follow({ db, bus, log, batchSize }, counters, stop.signal);
      } catch (error) {
        if (stop.signal.aborted) break;
        log.warn({ err: error }, 'projection interrupted; resuming from its checkpoint shortly');
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  })();
  return {
    counters,
    /** Stops reading; the batch being applied commits first. */
    async stop(): Promise<void> {
      stop.abort();
      await running;
    },
  };
}

/** A batch that stops growing is applied after this long, whatever the consumer says is pending. */
const FLUSH_IDLE_MS = 50;
/** How often a stalled reader is looked for: events on the log past the checkpoint and no progress. */
const STALL_CHECK_MS = 10_000;

async function follow(
  { db, bus, log, batchSize }: Required<ProjectionsOptions>,
  counters: { applied: number; quarantined: number; batches: number },
  signal: AbortSignal,
): Promise<void> {
  let checkpoint = await readCheckpoint(db);
  const consumer = await bus.js.consumers.get(bus.names.eventsStream, {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: checkpoint + 1,
  });
  const messages = await consumer.consume({ max_messages: batchSize * 2 });
  const close = () => void messages.close();
  signal.addEventListener('abort', close, { once: true });
  // Watchdog: an ordered consumer that silently stops delivering (seen after NATS cuts) is closed, so
  // the loop starts a new one from the checkpoint.
  let progressed = Date.now();
  // Closing the consumer is not relied on to end the loop (after a reconnect it may never settle).
  let restart: () => void = () => {};
  const restarted = new Promise<undefined>((resolve) => {
    restart = () => resolve(undefined);
  });
  let stalled = false;
  signal.addEventListener('abort', () => restart(), { once: true });
  const watchdog = setInterval(() => {
    if (Date.now() - progressed < STALL_CHECK_MS) return;
    bus.jsm.streams
      .info(bus.names.eventsStream)
      .then((info) => {
        if (info.state.last_seq > checkpoint && Date.now() - progressed >= STALL_CHECK_MS) {
          log.warn({ checkpoint, lastSeq: info.state.last_seq }, 'projection reader stalled; restarting it');
          stalled = true;
          restart();
        }
      })
      .catch(() => undefined);
  }, STALL_CHECK_MS);
  let batch: Envelope[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const outcome = await applyOrQuarantine(db, batch);
    checkpoint = Math.max(checkpoint, batch.at(-1)?.seq ?? checkpoint);
    progressed = Date.now();
    counters.applied += outcome.applied;
    counters.batches++;
    if (outcome.quarantined > 0) {
      counters.quarantined += outcome.quarantined;
      log.error({ quarantined: outcome.quarantined }, 'events the database refused were quarantined');
    }
    batch = [];
  };
  try {
    const iterator = messages[Symbol.asyncIterator]();
    let next = iterator.next();
    while (!signal.aborted) {
      const got = await Promise.race(
        batch.length === 0 ? [next, restarted] : [next, restarted, idle(FLUSH_IDLE_MS)],
      );
      if (stalled) break; // the batch in hand is read again from the checkpoint
      if (got === undefined) {
        await flush(); // nothing more arrived for a moment: apply what has
        continue;
      }
      if (got.done) break;
      next = iterator.next();
      batch.push(envelope(got.value, log));
      if (batch.length >= batchSize || got.value.info.pending === 0) await flush();
    }
  } finally {
    clearInterval(watchdog);
    signal.removeEventListener('abort', close);
    // Bounded: a close that never settles must not hold the projection.
    await Promise.race([messages.close(), idle(2000)]);
  }
}

function idle(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms));
}
