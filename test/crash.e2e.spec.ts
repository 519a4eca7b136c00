import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { type Harness, startHarness, waitFor } from './support/harness.ts';
import { type ServiceProcess, spawnService } from './support/processes.ts';

describe('crash safety: a converter killed mid-step', () => {
  let h: Harness;
  const converters: ServiceProcess[] = [];
  before(async () => {
    h = await startHarness({ WORK_ACK_WAIT_MS: '3000', CONVERTER_CONCURRENCY: '1' });
    h.start('planner', 'dispatcher', 'advisories', 'projections');
  });
  after(async () => {
    for (const converter of converters) await converter.kill('SIGKILL');
    await h.close();
  });

  it('has its step redelivered to a new converter and the job completes exactly once', async () => {
    const first = spawnService('services/converter/main.ts', h.env);
    converters.push(first);
    await first.waitFor('converter consuming');
    // A 24-megapixel AVIF encode keeps the converter busy for a while.
    const big = await sharp({
      create: { width: 6000, height: 4000, channels: 3, background: { r: 40, g: 120, b: 200 } },
    })
      .png()
      .toBuffer();
    const response = await h.submit(big, 'big.png', { operations: '["avif"]' });
    assert.equal(response.status, 202);
    const { job_id: jobId } = (await response.json()) as { job_id: string };

    await waitFor(
      () => h.history(jobId),
      (events) => events.some((e) => e.type === 'StepStarted'),
      20_000,
    );
    assert.equal(await first.kill('SIGKILL'), null, 'the converter died by SIGKILL, holding the step');
    const midway = await h.history(jobId);
    assert.ok(!midway.some((event) => event.type === 'StepSucceeded'), 'the step had not finished yet');

    const second = spawnService('services/converter/main.ts', h.env);
    converters.push(second);
    const view = await h.waitForJob(jobId, (v) => v.job.status === 'COMPLETED', 90_000);

    const history = await h.history(jobId);
    const count = (type: string) => history.filter((event) => event.type === type).length;
    assert.equal(count('StepSucceeded'), 1);
    assert.equal(count('JobCompleted'), 1);
    const attempts = history.flatMap((event) => (event.type === 'StepStarted' ? [event.data.attempt] : []));
    assert.deepEqual(attempts, [1, 2], 'the second converter received the redelivered step');
    assert.equal(view.artifacts.length, 1);
    const output = await h.storage.get(view.artifacts[0]?.key ?? '');
    assert.equal((await sharp(output).metadata()).format, 'heif');
  });
});
