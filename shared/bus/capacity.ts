import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { z } from 'zod';
import { Queue } from '../events/operations.ts';
import type { BusNames } from './names.ts';

/** What one worker process tells the others about itself, once a second, on core NATS. */
export const CapacityReport = z.object({
  worker: z.string().min(1).max(200),
  queue: Queue,
  /** Steps it runs at once. */
  concurrency: z.number().int().positive().max(1024),
  /** Exponentially weighted mean of its recent step durations; null before its first step. */
  serviceMs: z.number().nonnegative().nullable(),
});
export type CapacityReport = z.infer<typeof CapacityReport>;

/** A worker's side: observe step durations, publish the report every `everyMs` until stopped. */
export function reportCapacity(
  nc: NatsConnection,
  names: BusNames,
  base: Omit<CapacityReport, 'serviceMs'>,
  everyMs = 1000,
) {
  let serviceMs: number | null = null;
  const publish = () => {
    const report: CapacityReport = { ...base, serviceMs };
    if (!nc.isClosed()) nc.publish(names.capacitySubject(base.queue), JSON.stringify(report));
  };
  const timer = setInterval(publish, everyMs);
  timer.unref();
  publish();
  return {
    /** One finished step's duration (weight 0.2: the mean follows a change within a few steps). */
    observe(ms: number): void {
      serviceMs = serviceMs === null ? ms : serviceMs * 0.8 + ms * 0.2;
    },
    stop(): void {
      clearInterval(timer);
    },
  };
}

export type QueueCapacity = Readonly<{ workers: number; concurrency: number; serviceMs: number | null }>;

/** The reader's side: every live worker's latest report, a worker forgotten after `staleMs` of silence. */
export class CapacityBoard {
  private readonly reports = new Map<string, { report: CapacityReport; at: number }>();
  private readonly sub: Subscription;

  constructor(
    nc: NatsConnection,
    names: BusNames,
    private readonly staleMs = 5000,
  ) {
    this.sub = nc.subscribe(names.capacitySubject('*'), {
      callback: (error, msg) => {
        if (error !== null) return;
        const parsed = CapacityReport.safeParse(safeJson(msg.data));
        if (parsed.success) this.reports.set(parsed.data.worker, { report: parsed.data, at: Date.now() });
      },
    });
  }

  /** Live workers of one queue: how many steps they run at once, and their mean service time. */
  capacity(queue: Queue, now = Date.now()): QueueCapacity {
    let workers = 0;
    let concurrency = 0;
    let weighted = 0;
    let measured = 0;
    for (const [worker, { report, at }] of this.reports) {
      if (now - at > this.staleMs) {
        this.reports.delete(worker);
        continue;
      }
      if (report.queue !== queue) continue;
      workers++;
      concurrency += report.concurrency;
      if (report.serviceMs !== null) {
        weighted += report.serviceMs * report.concurrency;
        measured += report.concurrency;
      }
    }
    return { workers, concurrency, serviceMs: measured === 0 ? null : weighted / measured };
  }

  close(): void {
    this.sub.unsubscribe();
  }
}

function safeJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}
