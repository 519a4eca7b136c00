import type { Kysely } from 'kysely';
import type { Metric, Registry } from 'prom-client';
import type { Database } from '../../../projections/database.ts';
import type { Bus } from '../../../shared/bus/connect.ts';
import { type BusSnapshot, busSnapshot } from './bus.ts';
import { type ReadModelSnapshot, readModelSnapshot, STEP_BUCKETS } from './read-model.ts';

export type MetricSources = Readonly<{
  db: Kysely<Database>;
  bus: Bus;
  timeoutMs?: number;
  cacheMs?: number;
}>;

type Kind = 'counter' | 'gauge' | 'histogram';
type Sample = Readonly<{ labels?: Record<string, string>; value: number; metricName?: string }>;

/**
 * Figures read at scrape time: JetStream consumer info and aggregates of the read model, each bounded
 * by a timeout and shared by every metric of one scrape (cached for `cacheMs`). A source that does not
 * answer is reported by `pixtools_metrics_source_up` and its series are left out, never faked.
 */
export function registerSystemMetrics(registry: Registry, sources: MetricSources): void {
  const timeoutMs = sources.timeoutMs ?? 2000;
  const bus = cached(() => withTimeout(busSnapshot(sources.bus), timeoutMs), sources.cacheMs ?? 1000);
  const model = cached(() => withTimeout(readModelSnapshot(sources.db), timeoutMs), sources.cacheMs ?? 1000);
  const fromBus = (read: (snapshot: BusSnapshot) => Sample[]) => async () => {
    const snapshot = await bus();
    return snapshot === null ? [] : read(snapshot);
  };
  const fromModel = (read: (snapshot: ReadModelSnapshot) => Sample[]) => async () => {
    const snapshot = await model();
    return snapshot === null ? [] : read(snapshot);
  };
  const add = (name: string, help: string, type: Kind, read: () => Promise<Sample[]>) =>
    registry.registerMetric(snapshotMetric(name, help, type, read));

  add(
    'pixtools_metrics_source_up',
    'Whether a metrics source answered within the timeout',
    'gauge',
    async () => [
      { labels: { source: 'jetstream' }, value: (await bus()) === null ? 0 : 1 },
      { labels: { source: 'read_model' }, value: (await model()) === null ? 0 : 1 },
    ],
  );
  const jobsBy = (match: (status: string) => boolean) =>
    fromModel((snapshot) => sumBy(snapshot.jobs.filter((row) => match(row.status))));
  add(
    'pixtools_jobs_submitted_total',
    'Jobs submitted, by requested operation',
    'counter',
    jobsBy(() => true),
  );
  add(
    'pixtools_jobs_completed_total',
    'Jobs completed (webhook outcome aside), by requested operation',
    'counter',
    jobsBy((status) => status === 'COMPLETED' || status === 'COMPLETED_WEBHOOK_FAILED'),
  );
  add(
    'pixtools_jobs_failed_total',
    'Jobs failed, by requested operation',
    'counter',
    jobsBy((s) => s === 'FAILED'),
  );
  add(
    'pixtools_jobs_in_progress',
    'Jobs not finished yet, by requested operation',
    'gauge',
    jobsBy((status) => status === 'PENDING' || status === 'PROCESSING'),
  );
  add(
    'pixtools_steps_total',
    'Steps by operation and status',
    'counter',
    fromModel((snapshot) =>
      snapshot.steps.map((row) => ({
        labels: { operation: row.operation, status: row.status },
        value: row.count,
      })),
    ),
  );
  add(
    'pixtools_step_duration_seconds',
    'Duration of succeeded steps, by operation',
    'histogram',
    fromModel((snapshot) => snapshot.durations.flatMap(histogramSamples)),
  );
  add(
    'pixtools_webhook_deliveries_total',
    'Webhook deliveries by outcome (retrying, delivered, failed)',
    'counter',
    fromModel((snapshot) =>
      snapshot.webhooks.map((row) => ({ labels: { outcome: row.status }, value: row.count })),
    ),
  );
  add(
    'pixtools_webhook_attempts_total',
    'Webhook HTTP attempts, by delivery outcome',
    'counter',
    fromModel((snapshot) =>
      snapshot.webhooks.map((row) => ({ labels: { outcome: row.status }, value: row.attempts })),
    ),
  );
  add(
    'pixtools_webhooks_dead_lettered_total',
    'Webhook deliveries that exhausted their retries (dead-lettered)',
    'counter',
    fromModel((snapshot) => [
      { value: snapshot.webhooks.find((row) => row.status === 'failed')?.count ?? 0 },
    ]),
  );

  add(
    'pixtools_queue_depth',
    'Steps waiting in a work queue (not yet pulled by a worker)',
    'gauge',
    fromBus((s) => s.queues.map((queue) => ({ labels: { queue: queue.queue }, value: queue.waiting }))),
  );
  add(
    'pixtools_queue_in_flight',
    'Steps pulled by a worker and not yet acknowledged',
    'gauge',
    fromBus((s) => s.queues.map((queue) => ({ labels: { queue: queue.queue }, value: queue.inFlight }))),
  );
  add(
    'pixtools_work_stream_messages',
    'Messages held by the bounded work stream, and its limit',
    'gauge',
    fromBus((s) => [
      { labels: { kind: 'held' }, value: s.workMessages },
      { labels: { kind: 'limit' }, value: s.workLimit },
    ]),
  );
  add(
    'pixtools_consumer_lag',
    'Messages a durable JetStream consumer has not been delivered yet',
    'gauge',
    fromBus((s) =>
      s.consumers.map((c) => ({ labels: { stream: c.stream, consumer: c.consumer }, value: c.pending })),
    ),
  );
  add(
    'pixtools_consumer_ack_pending',
    'Messages delivered to a durable consumer and not yet acknowledged',
    'gauge',
    fromBus((s) =>
      s.consumers.map((c) => ({ labels: { stream: c.stream, consumer: c.consumer }, value: c.inFlight })),
    ),
  );
  add(
    'pixtools_projection_quarantined_events',
    'Events the read model refused and set aside (projection_quarantine); alert on any increase',
    'gauge',
    async () => {
      const snapshot = await model();
      return snapshot === null ? [] : [{ value: snapshot.quarantined }];
    },
  );
  add(
    'pixtools_projection_lag_events',
    'Events on the log not yet folded into the read model',
    'gauge',
    async () => {
      const [log, snapshot] = await Promise.all([bus(), model()]);
      if (log === null || snapshot === null || snapshot.checkpoint === null) return [];
      return [{ value: Math.max(0, log.eventsLastSeq - snapshot.checkpoint) }];
    },
  );
}

function sumBy(rows: readonly { operation: string; count: number }[]): Sample[] {
  const totals = new Map<string, number>();
  for (const row of rows) totals.set(row.operation, (totals.get(row.operation) ?? 0) + row.count);
  return [...totals].map(([operation, value]) => ({ labels: { operation }, value }));
}

function histogramSamples(row: ReadModelSnapshot['durations'][number]): Sample[] {
  const name = 'pixtools_step_duration_seconds';
  const labels = { operation: row.operation };
  return [
    ...STEP_BUCKETS.map((le, index) => ({
      metricName: `${name}_bucket`,
      labels: { ...labels, le: String(le) },
      value: row.buckets[index] ?? 0,
    })),
    { metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: row.count },
    { metricName: `${name}_sum`, labels, value: row.sumSeconds },
    { metricName: `${name}_count`, labels, value: row.count },
  ];
}

/** A prom-client metric whose samples are computed at scrape time (prom-client's own custom-collector shape). */
function snapshotMetric(name: string, help: string, type: Kind, read: () => Promise<Sample[]>): Metric {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum' as const,
    get: async () => ({ name, help, type, aggregator: 'sum' as const, values: await read() }),
    reset: () => {},
  };
  return metric as unknown as Metric;
}

function cached<T>(load: () => Promise<T>, ttlMs: number): () => Promise<T> {
  let value: Promise<T> | null = null;
  let at = 0;
  return () => {
    if (value === null || Date.now() - at > ttlMs) {
      at = Date.now();
      value = load();
    }
    return value;
  };
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([work.catch(() => null), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
