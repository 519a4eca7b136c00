import { DeliverPolicy } from '@nats-io/jetstream';
import { type Kysely, sql } from 'kysely';
import { migrateDownAll, migrateToLatest } from '../db/migrator.ts';
import type { Bus } from '../shared/bus/connect.ts';
import { parseEvent } from '../shared/events/events.ts';
import type { Logger } from '../shared/log.ts';
import type { Database } from './database.ts';
import { applyOrQuarantine, type Envelope, REBUILD_LOCK } from './project.ts';

export function envelope(msg: { seq: number; data: Uint8Array; subject: string }, log: Logger): Envelope {
  try {
    return { seq: msg.seq, event: parseEvent(msg.data) };
  } catch (error) {
    log.error(
      { seq: msg.seq, subject: msg.subject, reason: (error as Error).message },
      'malformed event not projected',
    );
    return { seq: msg.seq, event: null };
  }
}

export type RebuildResult = Readonly<{ events: number; seconds: number }>;

/** Drops the read models, recreates them and replays the whole stream from its first sequence. */
export async function rebuild(
  db: Kysely<Database>,
  bus: Bus,
  log: Logger,
  batchSize = 500,
): Promise<RebuildResult> {
  // One connection holds the rebuild lock throughout, so the live projector waits instead of racing.
  return db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${REBUILD_LOCK})`.execute(conn);
    try {
      return await replay(conn, bus, log, batchSize);
    } finally {
      await sql`select pg_advisory_unlock(${REBUILD_LOCK})`.execute(conn);
    }
  });
}

async function replay(
  db: Kysely<Database>,
  bus: Bus,
  log: Logger,
  batchSize: number,
): Promise<RebuildResult> {
  const started = performance.now();
  await migrateDownAll(db);
  await migrateToLatest(db);
  const info = await bus.jsm.streams.info(bus.names.eventsStream);
  const lastSeq = info.state.last_seq;
  let events = 0;
  if (info.state.messages > 0) {
    const consumer = await bus.js.consumers.get(bus.names.eventsStream, {
      deliver_policy: DeliverPolicy.All,
    });
    const messages = await consumer.consume({ max_messages: batchSize * 2 });
    let batch: Envelope[] = [];
    for await (const msg of messages) {
      batch.push(envelope(msg, log));
      const done = msg.seq >= lastSeq;
      if (batch.length >= batchSize || done || msg.info.pending === 0) {
        events += (await applyOrQuarantine(db, batch)).applied;
        batch = [];
      }
      if (done) break;
    }
    await messages.close();
  }
  return { events, seconds: (performance.now() - started) / 1000 };
}
