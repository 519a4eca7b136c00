import { type ConsumerMessages, DeliverPolicy } from '@nats-io/jetstream';
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
  /**
   * How long a batch waits for more events once the consumer has nothing pending (default 25 ms,
   * `PROJECTIONS_LINGER_MS`): a job's events come in bursts a few ms apart (a step's end, the planner's
   * answer), and one transaction for the burst costs a fraction of one per event. The read model
   * trails the log by at most this much longer.
   */
  lingerMs?: number;
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
export function startProjections({ db, bus, log, batchSize = 500, lingerMs = 25 }: ProjectionsOptions) {
  const stop = new AbortController();
  const counters = { applied: 0, quarantined: 0, batches: 0, restarts: 0 };
  const progress: Progress = { at: Date.now(), checkpoint: 0, phase: 'starting' };
  const stopped = new Promise<'stopped'>((resolve) =>
    stop.signal.addEventListener('abort', () => resolve('stopped'), { once: true }),
  );
  const running = (async () => {
    while (!stop.signal.aborted) {
      // One reader at a time; a reader that stalls anywhere (creating its consumer after a NATS cut,
      // a consumer that stops delivering, a flush that never returns) is abandoned and a new one
      // starts from the checkpoint. An abandoned reader that wakes up finds its signal aborted; a batch
      // it was applying is harmless: every batch locks the checkpoint and skips what it already covers.
      const attempt = new AbortController();
      const onStop = () => attempt.abort();
      stop.signal.addEventListener('abort', onStop, { once: true });
      const watch = watchForStall(bus, progress, log);
      progress.at = Date.now();
      progress.phase = 'starting';
      try {
        const ended = await Promise.race([
          follow({ db, bus, log, batchSize, lingerMs }, counters, progress, attempt.signal).then(
            () => 'ended' as const,
          ),
          watch.stalled,
          stopped,
        ]);
        if (ended === 'stalled') counters.restarts++;
      } catch (error) {
        if (stop.signal.aborted) break;
        log.warn({ err: error }, 'projection interrupted; resuming from its checkpoint shortly');
        await Promise.race([idle(1000), stopped]);
      } finally {
        watch.cancel();
        attempt.abort();
        stop.signal.removeEventListener('abort', onStop);
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

/** When the read models last moved, and to which stream sequence. */
export type Progress = { at: number; checkpoint: number; phase: 'starting' | 'reading' | 'applying' };

/** A batch that stops growing is applied after this long, whatever the consumer says is pending. */
const FLUSH_IDLE_MS = 50;
/**
 * A reader is stalled when the log holds events past the checkpoint and none was applied for this long:
 * 5 s while it waits on the consumer, 15 s while a batch is being applied (a first batch after a cold
 * start, or a slow Postgres, is not a stuck consumer).
 */
const STALL_MS = { starting: 5_000, reading: 5_000, applying: 15_000 } as const;
/** How often that is looked at. */
const STALL_CHECK_MS = 1_000;

/** Resolves `stalled` once the log holds events past the checkpoint and nothing was applied for a while. */
export function watchForStall(bus: Bus, progress: Progress, log: Logger) {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<'stalled'>((resolve) => {
    timer = setInterval(() => {
      if (Date.now() - progress.at < STALL_MS[progress.phase]) return;
      bus.jsm.streams
        .info(bus.names.eventsStream)
        .then((info) => {
          const idleMs = Date.now() - progress.at;
          // Caught up with an idle log: nothing was due, so the next look is a full period away
          // (without this an idle projection asked NATS for the stream's info every second).
          if (info.state.last_seq <= progress.checkpoint) progress.at = Date.now();
          else if (idleMs >= STALL_MS[progress.phase]) {
            log.warn(
              { checkpoint: progress.checkpoint, lastSeq: info.state.last_seq, phase: progress.phase },
              'projection reader stalled; starting a new one from the checkpoint',
            );
            resolve('stalled');
          }
        })
        .catch(() => undefined); // NATS unreachable: nothing to tell yet
    }, STALL_CHECK_MS);
  });
  return { stalled, cancel: () => clearInterval(timer) };
}

async function follow(
  { db, bus, log, batchSize, lingerMs }: Required<ProjectionsOptions>,
  counters: { applied: number; quarantined: number; batches: number },
  progress: Progress,
  signal: AbortSignal,
): Promise<void> {
  let checkpoint = await readCheckpoint(db);
  progress.checkpoint = checkpoint;
  if (signal.aborted) return;
  const consumer = await bus.js.consumers.get(bus.names.eventsStream, {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: checkpoint + 1,
  });
  const messages = await consumer.consume({ max_messages: batchSize * 2 });
  void reportStatus(messages, log);
  progress.phase = 'reading';
  log.info({ checkpoint }, 'projection reading the event log after its checkpoint');
  // Closing the consumer is not relied on to end the loop (after a reconnect it may never settle).
  const aborted = new Promise<undefined>((resolve) => {
    if (signal.aborted) resolve(undefined);
    signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
  let batch: Envelope[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    progress.phase = 'applying';
    const outcome = await applyOrQuarantine(db, batch);
    progress.phase = 'reading';
    checkpoint = Math.max(checkpoint, batch.at(-1)?.seq ?? checkpoint);
    progress.checkpoint = Math.max(progress.checkpoint, checkpoint);
    progress.at = Date.now();
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
    let started = 0; // when the batch in hand got its first event
    let deadline = 0; // when it is applied if nothing more arrives
    while (!signal.aborted) {
      const got = await Promise.race(
        batch.length === 0 ? [next, aborted] : [next, aborted, idle(Math.max(0, deadline - Date.now()))],
      );
      if (signal.aborted) break; // the batch in hand is read again from the checkpoint
      if (got === undefined) {
        await flush(); // nothing more arrived in time: apply what has
        continue;
      }
      if (got.done) break;
      next = iterator.next();
      const now = Date.now();
      if (batch.length === 0) started = now;
      batch.push(envelope(got.value, log));
      // Caught up: wait out the linger for the rest of a burst; behind: apply once the batch stops growing.
      deadline = got.value.info.pending === 0 ? started + lingerMs : now + FLUSH_IDLE_MS;
      if (batch.length >= batchSize || deadline <= now) await flush();
    }
  } finally {
    // Bounded: a close that never settles must not hold the projection.
    await Promise.race([messages.close(), idle(2000)]);
  }
}

/** The consumer's own notices (missed heartbeats, a recreated ordered consumer …), for diagnosis. */
async function reportStatus(messages: ConsumerMessages, log: Logger): Promise<void> {
  try {
    for await (const status of messages.status()) {
      // A pull that expired unfilled ('discard') is routine on an idle log.
      if (['next', 'heartbeat', 'debug', 'discard'].includes(status.type)) continue;
      log.warn(
        { status: status.type, data: 'data' in status ? status.data : undefined },
        'projection consumer notice',
      );
    }
  } catch {
    // the consumer was closed
  }
}

function idle(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms));
}
