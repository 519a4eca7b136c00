import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from './support/harness.ts';
import { samplePng } from './support/images.ts';
import { appendJob } from './support/jobs.ts';

describe('poison messages and exhausted deliveries', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ WORK_MAX_DELIVER: '2' });
    h.start();
  });
  after(() => h.close());

  async function submit() {
    const response = await h.submit(await samplePng(), 'p.png', { operations: '["webp"]' });
    return ((await response.json()) as { job_id: string }).job_id;
  }

  it('a malformed work message is terminated, reported to its job, and the consumer keeps working', async () => {
    await h.bus.js.publish(h.bus.names.workSubject('io'), 'this is not json {');
    const victim = await submit();
    await h.waitForJob(victim, (view) => view.job.status === 'COMPLETED');
    // a command that names its job but is otherwise wrong fails that job with the reason
    const jobId = await submit();
    await h.waitForJob(jobId, (view) => view.job.status === 'COMPLETED');
    await h.bus.js.publish(
      h.bus.names.workSubject('io'),
      JSON.stringify({ jobId, stepId: 'webp', op: 'sharpen', params: {} }),
    );
    const failure = await waitForEvent(h, jobId, 'StepFailed');
    assert.match(failure, /malformed work message: invalid RunStep/);
    const work = await h.bus.jsm.streams.info(h.bus.names.workStream);
    assert.equal(work.state.messages, 0, 'nothing is left behind in the work queue');
  });

  it('a step that keeps failing becomes a visible failure after max deliveries, not a loop', async () => {
    const jobId = await appendJob(h, {
      image: await samplePng(),
      name: 'gone.png',
      operations: ['webp'],
      storeSource: false,
    });
    const view = await h.waitForJob(jobId, (v) => v.job.status === 'FAILED', 30_000);
    assert.match(
      view.job.error_message ?? '',
      /Step "webp" \(webp\) failed: gave up after 2 delivery attempts: .*NoSuchKey|does not exist/,
    );
    const history = await h.history(jobId);
    const retries = history.filter((event) => event.type === 'StepRetrying');
    assert.equal(retries.length, 2, 'each failed attempt is recorded');
    assert.equal(history.filter((event) => event.type === 'JobFailed').length, 1);
    const step = view.steps.find((s) => s.step_id === 'webp');
    assert.equal(step?.status, 'failed');
  });
});

async function waitForEvent(h: Harness, jobId: string, type: string): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = (await h.history(jobId)).find((event) => event.type === type);
    if (found?.type === 'StepFailed') return found.data.error;
    if (Date.now() > deadline) throw new Error(`no ${type} for ${jobId}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
