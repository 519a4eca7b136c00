import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../log.ts';
import { progressReporter } from './progress.ts';

const JOB = '00000000-0000-4000-8000-000000000001';

function harness() {
  let clock = 0;
  const sent: { data: Record<string, unknown>; msgId: string }[] = [];
  const reporter = progressReporter({
    jobId: JOB,
    stepId: 'dn',
    attempt: 2,
    log: createLogger('test', { level: 'silent', pretty: false }),
    now: () => clock,
    publish: async (event, msgId) => {
      sent.push({ data: event.data as Record<string, unknown>, msgId });
    },
  });
  return { reporter, sent, advance: (ms: number) => (clock += ms) };
}

test('publishes at most one report a second, always the first and the last', async () => {
  const { reporter, sent, advance } = harness();
  for (let done = 1; done <= 10; done++) {
    advance(300);
    reporter.report(done, 10, 'tile');
  }
  await reporter.flush();
  assert.deepEqual(
    sent.map((s) => s.data.done),
    [1, 5, 9, 10],
  );
  assert.equal(sent.at(-1)?.data.etaMs, 0);
});

test('ETA extrapolates the measured rate; message ids are per (job, step, attempt, done)', async () => {
  const { reporter, sent, advance } = harness();
  advance(2_000);
  reporter.report(4, 10, 'tile');
  await reporter.flush();
  assert.equal(sent[0]?.data.etaMs, 3_000);
  assert.equal(sent[0]?.msgId, `${JOB}:StepProgressed:dn:2:4`);
  reporter.report(4, 10, 'tile');
  await reporter.flush();
  assert.equal(sent.length, 1, 'the same count is not published twice');
});

test('a failing publish is logged, not thrown, and later reports still go out', async () => {
  let calls = 0;
  const reporter = progressReporter({
    jobId: JOB,
    stepId: 'dn',
    attempt: 1,
    log: createLogger('test', { level: 'silent', pretty: false }),
    publish: async () => {
      calls++;
      if (calls === 1) throw new Error('bus down');
    },
  });
  reporter.report(1, 2, 'tile');
  reporter.report(2, 2, 'tile');
  await reporter.flush();
  assert.equal(calls, 2);
});
