import type { CapacityBoard, QueueCapacity } from '../../shared/bus/capacity.ts';
import type { QueueDepth } from '../../shared/bus/work.ts';
import { type Queue, queueOf, type StepOp } from '../../shared/events/operations.ts';
import { ApiError } from './errors.ts';

export type AdmissionConfig = Readonly<{
  /** Most expected queue wait a new job may face, per queue, before it is refused with 429. */
  maxWaitMs: Readonly<Record<Queue, number>>;
  /** Service time assumed for a queue whose workers have not reported one yet. */
  defaultServiceMs: Readonly<Record<Queue, number>>;
  /** How long a depth reading is reused (depth is read at most this often per queue). */
  cacheMs: number;
  /** A depth read slower than this counts as failed: the submission gets 503. */
  readTimeoutMs: number;
  /**
   * How long an admitted job's steps may take to show in a depth reading (its upload, its append and
   * the planner's dispatch): steps admitted less than this before a reading are added to it, so a burst
   * of submissions between two readings is not admitted on the same, too short, queue.
   */
  transitMs: number;
}>;

export type QueueWait = Readonly<{
  queue: Queue;
  waitMs: number;
  depth: QueueDepth;
  capacity: QueueCapacity;
}>;

/**
 * The expected wait of a step joining `queue` now: the steps waiting ahead of it times the workers'
 * observed service time, divided by how many steps the live workers run at once. Pure.
 */
export function expectedWaitMs(depth: QueueDepth, capacity: QueueCapacity, defaultServiceMs: number): number {
  const serviceMs = capacity.serviceMs ?? defaultServiceMs;
  return (depth.waiting * serviceMs) / Math.max(1, capacity.concurrency);
}

type Reading = { depth: QueueDepth; at: number };

/**
 * Admission that follows the real wait, per queue: a job is refused (429 + Retry-After) only when a
 * queue it needs would make it wait longer than that queue's budget, so a denoise backlog does not
 * refuse conversions and the reverse. While the bus does not answer a depth read in time the answer
 * is 503 + Retry-After, never a 429 or a 500.
 */
export class Admission {
  private readonly readings = new Map<Queue, Reading>();
  private readonly pending = new Map<Queue, Promise<Reading>>();
  /** When steps were admitted, per queue, oldest first (kept for `transitMs` past the newest reading). */
  private readonly admitted = new Map<Queue, number[]>();

  constructor(
    private readonly readDepth: (queue: Queue, timeoutMs: number) => Promise<QueueDepth>,
    private readonly board: Pick<CapacityBoard, 'capacity'>,
    private readonly config: AdmissionConfig,
    private readonly onRefusal: (queue: Queue) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  /** The expected wait of each queue now. Throws 503 when the bus cannot say. */
  async wait(queue: Queue): Promise<QueueWait> {
    const reading = await this.reading(queue);
    const depth = { ...reading.depth, waiting: reading.depth.waiting + this.unseen(queue, reading.at) };
    const capacity = this.board.capacity(queue);
    const waitMs = expectedWaitMs(depth, capacity, this.config.defaultServiceMs[queue]);
    return { queue, waitMs, depth, capacity };
  }

  /** Steps admitted too recently to be in a reading taken at `readingAt`. */
  private unseen(queue: Queue, readingAt: number): number {
    const times = this.admitted.get(queue);
    if (times === undefined) return 0;
    const since = readingAt - this.config.transitMs;
    while (times.length > 0 && (times[0] ?? 0) <= since) times.shift();
    return times.length;
  }

  /** Before reading a body: refuse at once only when every queue is over its budget. */
  async precheck(): Promise<void> {
    const waits = await Promise.all((['io', 'ml'] as const).map((queue) => this.wait(queue)));
    if (waits.every((wait) => wait.waitMs > this.config.maxWaitMs[wait.queue])) this.refuse(waits);
  }

  /** Refuses (429) when any queue one of these steps runs on is over its budget; records nothing. */
  async check(ops: readonly StepOp[]): Promise<void> {
    const queues = [...new Set(ops.map(queueOf))];
    const waits = await Promise.all(queues.map((queue) => this.wait(queue)));
    const over = waits.filter((wait) => wait.waitMs > this.config.maxWaitMs[wait.queue]);
    if (over.length > 0) this.refuse(over);
  }

  /** For a validated job: `check`, then its steps count as queued until the next depth reading. */
  async admit(ops: readonly StepOp[]): Promise<void> {
    await this.check(ops);
    const now = this.now();
    for (const op of ops) {
      const queue = queueOf(op);
      const times = this.admitted.get(queue) ?? [];
      times.push(now);
      this.admitted.set(queue, times);
    }
  }

  private refuse(over: readonly QueueWait[]): never {
    for (const wait of over) this.onRefusal(wait.queue);
    const worst = over.reduce((a, b) =>
      b.waitMs - this.config.maxWaitMs[b.queue] > a.waitMs - this.config.maxWaitMs[a.queue] ? b : a,
    );
    const excessMs = worst.waitMs - this.config.maxWaitMs[worst.queue];
    const retryAfter = Math.min(300, Math.max(1, Math.ceil(excessMs / 1000)));
    const seconds = (worst.waitMs / 1000).toFixed(1);
    throw new ApiError(
      429,
      `Too much work is queued: the ${worst.queue === 'ml' ? 'denoising' : 'conversion'} queue would make this job wait about ${seconds} s; try again in ${retryAfter} s`,
      { 'Retry-After': String(retryAfter) },
    );
  }

  private async reading(queue: Queue): Promise<Reading> {
    const last = this.readings.get(queue);
    const now = this.now();
    if (last !== undefined && now - last.at < this.config.cacheMs) return last;
    // One read in flight per queue, however many requests arrive meanwhile.
    let read = this.pending.get(queue);
    if (read === undefined) {
      read = this.readDepth(queue, this.config.readTimeoutMs).then((depth) => {
        const reading = { depth, at: this.now() };
        this.readings.set(queue, reading);
        return reading;
      });
      read.finally(() => this.pending.delete(queue)).catch(() => undefined);
      this.pending.set(queue, read);
    }
    try {
      return await read;
    } catch {
      // Admitting on an old reading would take uploads whose append then waits on the same bus (and
      // holds an upload slot meanwhile): while the bus does not answer, every submission gets 503.
      throw busUnavailable();
    }
  }
}

function busUnavailable(): ApiError {
  return new ApiError(
    503,
    'Work queues unavailable: the event bus did not answer in time; try again shortly',
    {
      'Retry-After': '2',
    },
  );
}
