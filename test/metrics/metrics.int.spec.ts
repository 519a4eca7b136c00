import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { recordAdmissionRefusal } from '../../services/intake/metrics.ts';
import { runJob } from '../api/support/jobs.ts';
import { truncatedPng } from '../api/support/photos.ts';
import { type Harness, startHarness, waitFor } from '../support/harness.ts';
import { samplePng } from '../support/images.ts';

type Series = Map<string, number>;

/** Parses the Prometheus text format into `name{label="v",…}` → value (labels sorted by name). */
function parse(text: string): Series {
  const series: Series = new Map();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) continue;
    const labels = [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, name, value]) => `${name}="${value}"`)
      .sort();
    series.set(`${match[1]}{${labels.join(',')}}`, Number(match[3]));
  }
  return series;
}

const key = (name: string, labels: Record<string, string> = {}) =>
  `${name}{${Object.entries(labels)
    .map(([label, value]) => `${label}="${value}"`)
    .sort()
    .join(',')}}`;

describe('GET /metrics reports jobs, steps, queues and lag from the running system', () => {
  let h: Harness;
  before(async () => {
    // a conversion queue whose budget one waiting step exceeds: the second job while it waits is refused
    // (no transit allowance and no reused reading: a fresh depth reading alone decides, so the first
    // job, already done, never counts; a reading reused from before it was admitted counted its steps
    // as still queued when it finished within the 200 ms reuse window)
    h = await startHarness({
      ADMISSION_IO_MAX_WAIT_MS: '50',
      ADMISSION_TRANSIT_MS: '0',
      ADMISSION_CACHE_MS: '0',
    });
    h.start();
  });
  after(() => h.close());

  const scrape = async () => {
    const response = await h.app.request('/metrics');
    assert.equal(response.status, 200);
    return parse(await response.text());
  };
  const scrapeUntil = (until: (series: Series) => boolean) => waitFor(scrape, until, 20_000);

  it('after a completed and a failed job: job counts by operation, step histograms, idle queues, no lag', async () => {
    const done = await runJob(
      h,
      { bytes: await samplePng(), name: 'a.png' },
      { operations: '["webp","avif"]' },
    );
    assert.equal(done.status, 'COMPLETED');
    const failed = await runJob(
      h,
      { bytes: await truncatedPng(), name: 'b.png' },
      { operations: '["webp"]' },
    );
    assert.equal(failed.status, 'FAILED');

    const events = h.bus.names.eventsStream;
    const series = await scrapeUntil(
      (s) =>
        s.get(key('pixtools_projection_lag_events')) === 0 &&
        s.get(key('pixtools_consumer_lag', { stream: events, consumer: 'planner' })) === 0,
    );
    const at = (name: string, labels: Record<string, string> = {}) => series.get(key(name, labels));
    assert.equal(at('pixtools_metrics_source_up', { source: 'jetstream' }), 1);
    assert.equal(at('pixtools_metrics_source_up', { source: 'read_model' }), 1);
    assert.equal(at('pixtools_jobs_submitted_total', { operation: 'webp' }), 2);
    assert.equal(at('pixtools_jobs_submitted_total', { operation: 'avif' }), 1);
    assert.equal(at('pixtools_jobs_completed_total', { operation: 'webp' }), 1);
    assert.equal(at('pixtools_jobs_failed_total', { operation: 'webp' }), 1);
    assert.equal(at('pixtools_jobs_failed_total', { operation: 'avif' }), undefined);
    assert.equal(at('pixtools_steps_total', { operation: 'webp', status: 'succeeded' }), 1);
    assert.equal(at('pixtools_steps_total', { operation: 'webp', status: 'failed' }), 1);

    for (const operation of ['webp', 'avif', 'bundle']) {
      const count = at('pixtools_step_duration_seconds_count', { operation });
      assert.equal(count, 1, `one succeeded ${operation} step`);
      const sum = at('pixtools_step_duration_seconds_sum', { operation }) ?? -1;
      assert.ok(sum > 0 && sum < 60, `${operation} took ${sum} s`);
      const buckets = [...series]
        .filter(
          ([name]) =>
            name.startsWith('pixtools_step_duration_seconds_bucket{') && name.includes(`"${operation}"`),
        )
        .map(([, value]) => value);
      assert.ok(buckets.length > 5);
      assert.ok(
        buckets.every((value) => value === 0 || value === 1),
        'cumulative counts of one step',
      );
      assert.equal(at('pixtools_step_duration_seconds_bucket', { operation, le: '+Inf' }), 1);
    }
    for (const queue of ['io', 'ml']) {
      assert.equal(at('pixtools_queue_depth', { queue }), 0);
      assert.equal(at('pixtools_queue_in_flight', { queue }), 0);
    }
    assert.equal(at('pixtools_consumer_lag', { stream: events, consumer: 'dispatcher' }) !== undefined, true);
    assert.equal(at('pixtools_work_stream_messages', { kind: 'limit' }), 10_000);
  });

  it('a step nobody pulls shows as queue depth and consumer lag until a worker takes it', async () => {
    await h.stop('converter');
    const response = await h.submit(await samplePng(), 'c.png', { operations: '["jpg"]' });
    assert.equal(response.status, 202);
    const work = h.bus.names.workStream;
    const waiting = await scrapeUntil((s) => s.get(key('pixtools_queue_depth', { queue: 'io' })) === 1);
    assert.equal(waiting.get(key('pixtools_consumer_lag', { stream: work, consumer: 'converter' })), 1);
    assert.equal(waiting.get(key('pixtools_queue_depth', { queue: 'ml' })), 0);
    assert.equal(waiting.get(key('pixtools_jobs_in_progress', { operation: 'jpg' })), 1);
    const refusedBefore = waiting.get(key('pixtools_admission_refusals_total', { queue: 'io' })) ?? 0;
    const refused = await h.submit(await samplePng(), 'd.png', { operations: '["webp"]' });
    assert.equal(refused.status, 429, await refused.text());
    const counted = await scrape();
    assert.equal(counted.get(key('pixtools_admission_refusals_total', { queue: 'io' })), refusedBefore + 1);
    h.start('converter');
    const drained = await scrapeUntil(
      (s) => s.get(key('pixtools_jobs_completed_total', { operation: 'jpg' })) === 1,
    );
    assert.equal(drained.get(key('pixtools_queue_depth', { queue: 'io' })), 0);
  });

  it('counts admission refusals per queue', async () => {
    const before = (await scrape()).get(key('pixtools_admission_refusals_total', { queue: 'ml' })) ?? 0;
    recordAdmissionRefusal('ml');
    recordAdmissionRefusal('ml');
    assert.equal((await scrape()).get(key('pixtools_admission_refusals_total', { queue: 'ml' })), before + 2);
  });
});
