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

async function follow(
  { db, bus, log, batchSize }: Required<ProjectionsOptions>,
  counters: { applied: number; quarantined: number; batches: number },
  signal: AbortSignal,
): Promise<void> {
  const from = (await readCheckpoint(db)) + 1;
  const consumer = await bus.js.consumers.get(bus.names.eventsStream, {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: from,
  });
  const messages = await consumer.consume({ max_messages: batchSize * 2 });
  const close = () => void messages.close();
  signal.addEventListener('abort', close, { once: true });
  try {
    let batch: Envelope[] = [];
    for await (const msg of messages) {
      batch.push(envelope(msg, log));
      if (batch.length < batchSize && msg.info.pending > 0) continue;
      const outcome = await applyOrQuarantine(db, batch);
      counters.applied += outcome.applied;
      counters.batches++;
      if (outcome.quarantined > 0) {
        counters.quarantined += outcome.quarantined;
        log.error({ quarantined: outcome.quarantined }, 'events the database refused were quarantined');
      }
      batch = [];
      if (signal.aborted) break;
    }
  } finally {
    signal.removeEventListener('abort', close);
    await messages.close();
  }
}
