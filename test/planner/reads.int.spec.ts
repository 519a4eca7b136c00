import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventLog } from '../../shared/bus/eventlog.ts';
import { busNames } from '../../shared/bus/names.ts';
import type { StepSpec } from '../../shared/events/operations.ts';
import { settledJob } from '../api/support/jobs.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { samplePng } from '../support/images.ts';
import { appendJob } from '../support/jobs.ts';

// Twelve requested steps: six resizes of the source, each feeding a WebP (plus the planner's ZIP step).
const TWELVE_STEPS: StepSpec[] = Array.from({ length: 6 }, (_, i): StepSpec[] => [
  { id: `r${i}`, op: 'resize' as const, params: { width: 8 + i * 4 }, inputs: ['source'], result: null },
  { id: `w${i}`, op: 'webp' as const, params: {}, inputs: [`r${i}`], result: `w${i}` },
]).flat();

const counts = (s: { historyReads: number; conflicts: number; missedReads: number }) =>
  `history reads ${s.historyReads}, conflicts ${s.conflicts}, missed ${s.missedReads}`;

describe('the planner reads a job O(events), not O(events²)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    h.start();
  });
  after(() => h.close());

  it('plans and completes a 12-step pipeline without reading its whole history, conflicts included', async () => {
    const jobId = await appendJob(h, { image: await samplePng(), name: 'a.png', pipeline: TWELVE_STEPS });
    const job = await settledJob(h, jobId);
    assert.equal(job.status, 'COMPLETED', job.error_message ?? '');
    assert.equal(Object.keys(job.result_urls).length, 6);
    const events = await h.history(jobId);
    const states = h.plannerStates;
    assert.ok(events.length >= 13 * 3, `a 13-step job has three events a step at least (${events.length})`);
    // A job the planner saw from its first event is never read whole, conflicts included.
    assert.equal(states.historyReads, 0, counts(states));
    // Events it acked unread, or that another writer appended, are fetched once each at most.
    assert.ok(states.missedReads <= events.length, `missed reads ${states.missedReads} ≤ ${events.length}`);
  });

  it('after a planner restart reads a job it meets mid-way once, then keeps it up to date', async () => {
    await h.stop('planner');
    const jobId = await appendJob(h, { image: await samplePng(), name: 'b.png', pipeline: TWELVE_STEPS });
    // The job is submitted while no planner runs; the new planner meets it from its first event.
    h.start('planner');
    const job = await settledJob(h, jobId);
    assert.equal(job.status, 'COMPLETED', job.error_message ?? '');
    const states = h.plannerStates;
    assert.ok(states.historyReads <= 1, counts(states));
  });
});

describe('EventLog.history', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('is empty only for a job without events', async () => {
    const history = await h.bus.log.history('00000000-0000-4000-8000-000000000000');
    assert.deepEqual(history, { events: [], lastSeq: 0 });
  });

  it('throws when the bus cannot answer, instead of reading it as "no events"', async () => {
    // No stream answers for this namespace: the lookup times out, which must not read as an empty job.
    const missing = new EventLog(h.bus.js, h.bus.jsm, busNames(`absent${Date.now()}`));
    await assert.rejects(missing.history('00000000-0000-4000-8000-000000000000'), /timeout|not found/i);
  });
});
