import type { Subscription } from '@nats-io/transport-node';
import type { JobView } from '../../projections/queries.ts';
import type { Bus } from '../../shared/bus/connect.ts';
import { SETTLED_STATUSES } from '../../shared/jobs/status.ts';

export type JobCacheOptions = Readonly<{
  /** How long a settled job's view is reused (any new event of the job drops it at once). */
  settledMs: number;
  /** How long an unsettled job's view is reused (covers the read model trailing an event). */
  activeMs: number;
  capacity: number;
}>;

/** A cached view; `json` is its serialised body once built, when `reusable`. */
export type CachedJob = {
  readonly view: JobView;
  readonly until: number;
  readonly reusable: boolean;
  json: string | null;
};

const DEFAULTS: JobCacheOptions = { settledMs: 5000, activeMs: 200, capacity: 10_000 };

/**
 * Read-model views of recently read jobs, so clients polling a job do not cost a query each. Every
 * event appended for a job (seen on core NATS, where JetStream publishes are visible too) drops that
 * job's entry, so a change is read afresh on the next request; the short lifetimes only cover the
 * read model trailing the event by a few milliseconds.
 */
export class JobCache {
  private readonly entries = new Map<string, CachedJob>();
  private readonly sub: Subscription;
  private readonly prefix: string;

  constructor(
    bus: Pick<Bus, 'nc' | 'names'>,
    private readonly options: JobCacheOptions = DEFAULTS,
  ) {
    this.prefix = bus.names.eventsWildcard.slice(0, -1);
    this.sub = bus.nc.subscribe(bus.names.eventsWildcard, {
      callback: (error, msg) => {
        if (error === null) this.entries.delete(msg.subject.slice(this.prefix.length));
      },
    });
  }

  get(jobId: string, now = Date.now()): CachedJob | null {
    const entry = this.entries.get(jobId);
    if (entry === undefined) return null;
    if (entry.until <= now) {
      this.entries.delete(jobId);
      return null;
    }
    return entry;
  }

  set(jobId: string, view: JobView, now = Date.now()): CachedJob {
    const settled = SETTLED_STATUSES.includes(view.job.status as (typeof SETTLED_STATUSES)[number]);
    const until = now + (settled ? this.options.settledMs : this.options.activeMs);
    // The serialised body may be reused while nothing in it can change: links and `expired` hold
    // until the job's retention ends, so not within the entry's lifetime of that end.
    const entry: CachedJob = {
      view,
      until,
      json: null,
      reusable: settled && view.job.expires_at.getTime() > until,
    };
    this.entries.delete(jobId);
    this.entries.set(jobId, entry);
    if (this.entries.size > this.options.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    return entry;
  }

  close(): void {
    this.sub.unsubscribe();
  }
}
