import type { EventLog, StoredEvent } from '../../shared/bus/eventlog.ts';
import type { JobEvent } from '../../shared/events/events.ts';
import { evolve, initialState, type JobState } from './plan/plan.ts';

/** A job's planner state and the stream sequence of the last event folded into it. */
export type Known = Readonly<{ state: JobState; lastSeq: number }>;

/**
 * The planner's per-job states, kept up to date from the events it consumes instead of re-reading
 * each job's history for every event. A job is read whole once (first seen after a start, or after a
 * concurrency conflict); afterwards only the events it missed (those the planner acked unread, such
 * as `StepStarted`) are fetched, one direct get each. Work on one job is serialised; the map is an
 * LRU bounded by `capacity`.
 */
export class JobStates {
  /** Whole-history reads since start: one per job first met mid-way (after a start or a failure). */
  historyReads = 0;
  /** Expected-sequence conflicts (another writer appended first), each resolved by a catch-up read. */
  conflicts = 0;
  /** Single events fetched because the planner had acked them unread (`StepStarted` …). */
  missedReads = 0;
  private readonly known = new Map<string, Known>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly log: EventLog,
    private readonly capacity = 20_000,
  ) {}

  /** Runs `work` after every earlier piece of work on the same job has finished. */
  serialised<T>(jobId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(jobId) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => undefined);
    this.queues.set(jobId, tail);
    void tail.then(() => {
      if (this.queues.get(jobId) === tail) this.queues.delete(jobId);
    });
    return run;
  }

  /** The job's state including the event at `seq` (and everything before it). */
  async upTo(jobId: string, stored: StoredEvent): Promise<Known> {
    const known = this.known.get(jobId);
    if (known !== undefined && stored.seq <= known.lastSeq) return this.touch(jobId, known);
    if (known !== undefined) {
      const missed = await this.log.between(jobId, known.lastSeq, stored.seq - 1);
      this.missedReads += missed.length;
      return this.set(jobId, foldFrom(known, [...missed, stored]));
    }
    if (stored.event.type === 'JobSubmitted') {
      // A job's first event: nothing can precede it, and the append's expected sequence checks what follows.
      return this.set(jobId, foldFrom({ state: initialState, lastSeq: 0 }, [stored]));
    }
    return this.reload(jobId);
  }

  /** Reads the job's whole history (a job first met mid-way, after a start or a failure). */
  async reload(jobId: string): Promise<Known> {
    this.historyReads++;
    const history = await this.log.history(jobId);
    return this.set(jobId, foldFrom({ state: initialState, lastSeq: 0 }, history.events, history.lastSeq));
  }

  /**
   * After an expected-sequence conflict (another writer appended first): folds in only the events
   * appended since the planner's last one, instead of the whole history.
   */
  async catchUp(jobId: string, known: Known): Promise<Known> {
    this.conflicts++;
    const missed = await this.log.between(jobId, known.lastSeq, Number.POSITIVE_INFINITY);
    this.missedReads += missed.length;
    return this.set(jobId, foldFrom(known, missed));
  }

  /** Records what the planner itself appended, so its own events need no read when they come back. */
  appended(jobId: string, known: Known, events: readonly JobEvent[], lastSeq: number): void {
    this.set(jobId, { state: events.reduce(evolve, known.state), lastSeq });
  }

  forget(jobId: string): void {
    this.known.delete(jobId);
  }

  get size(): number {
    return this.known.size;
  }

  private touch(jobId: string, known: Known): Known {
    this.known.delete(jobId);
    this.known.set(jobId, known);
    return known;
  }

  private set(jobId: string, known: Known): Known {
    this.touch(jobId, known);
    if (this.known.size > this.capacity) {
      const oldest = this.known.keys().next();
      if (!oldest.done) this.known.delete(oldest.value);
    }
    return known;
  }
}

function foldFrom(known: Known, events: readonly StoredEvent[], lastSeq?: number): Known {
  let { state, lastSeq: seq } = known;
  for (const stored of events) {
    if (stored.seq <= seq) continue;
    state = evolve(state, stored.event);
    seq = stored.seq;
  }
  return { state, lastSeq: Math.max(seq, lastSeq ?? 0) };
}
