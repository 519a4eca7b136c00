import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { executeConvert } from '../services/converter/execute.ts';
import { consumeLoop } from '../shared/bus/consume.ts';
import { stepWorker } from '../shared/bus/worker.ts';
import type { RunStep } from '../shared/events/events.ts';
import { type Harness, startHarness, waitFor } from './support/harness.ts';
import { samplePng } from './support/images.ts';

describe('transient step failures are retried for a time budget, visibly', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    h.start('planner', 'dispatcher', 'advisories', 'projections');
  });
  after(() => h.close());

  /** A converter whose steps fail (as if S3 were down) until `healthyAt`, with its own retry budget. */
  function flakyConverter(retryBudgetMs: number, healthyAt: number) {
    const real = executeConvert({ storage: h.storage, maxInputPixels: 1e8 });
    const stop = new AbortController();
    const done = consumeLoop({
      js: h.bus.js,
      stream: h.bus.names.workStream,
      durable: h.bus.names.durable.converter,
      concurrency: 2,
      heartbeatMs: 1000,
      log: h.log,
      signal: stop.signal,
      handle: stepWorker({
        bus: h.bus,
        log: h.log,
        now: () => new Date(),
        worker: 'flaky',
        maxDeliver: 50,
        retryBudgetMs,
        execute: (command: RunStep) => {
          if (Date.now() < healthyAt) return Promise.reject(new Error('storage unreachable'));
          return real(command);
        },
      }),
    });
    return async () => {
      stop.abort();
      await done;
    };
  }

  const run = async () => {
    const answer = await h.submit(await samplePng(), 'flaky.png', { operations: '["webp"]' });
    const { job_id: jobId } = (await answer.json()) as { job_id: string };
    return waitFor(
      () => h.history(jobId),
      (events) => events.some((e) => e.type === 'JobCompleted' || e.type === 'JobFailed'),
      30_000,
    );
  };

  it('an outage longer than a few attempts but inside the budget: the step succeeds', async () => {
    const stop = flakyConverter(60_000, Date.now() + 4000);
    try {
      const events = await run();
      const retries = events.filter((e) => e.type === 'StepRetrying');
      assert.ok(retries.length >= 2, `retried ${retries.length} times`);
      assert.ok(events.some((e) => e.type === 'JobCompleted'));
    } finally {
      await stop();
    }
  });

  it('past the budget the step fails, saying why, without waiting for max deliveries', async () => {
    const stop = flakyConverter(2000, Number.POSITIVE_INFINITY);
    try {
      const events = await run();
      const failed = events.find((e) => e.type === 'StepFailed');
      assert.ok(failed?.type === 'StepFailed');
      assert.match(failed.data.error, /^gave up after \d+ s of transient failures: storage unreachable$/);
      assert.ok(failed.data.attempts < 10, `${failed.data.attempts} attempts`);
      assert.ok(events.some((e) => e.type === 'JobFailed'));
    } finally {
      await stop();
    }
  });
});
