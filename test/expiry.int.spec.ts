import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { keys } from '../shared/storage/storage.ts';
import { expectAccepted, post } from './api/support/http.ts';
import { type Harness, startHarness } from './support/harness.ts';
import { samplePng } from './support/images.ts';

const RETENTION_SECONDS = 2;

describe('expiry does not depend on the read model', () => {
  let h: Harness;
  before(async () => {
    // No loop runs: the projection is "stalled" (never applies an event).
    h = await startHarness({ RETENTION_SECONDS: String(RETENTION_SECONDS) });
  });
  after(() => h.close());

  const stored = async (jobId: string) => {
    let count = 0;
    for (const prefix of keys.jobPrefixes(jobId)) for await (const _ of h.storage.list(prefix)) count++;
    return count;
  };

  it('deletes an expired job from the bucket and the log alone while the projection is stalled', async () => {
    const jobId = await expectAccepted(
      post(h.app, { bytes: await samplePng(), name: 'old.png' }, { operations: '["webp"]' }),
    );
    assert.equal(await stored(jobId), 1);
    assert.equal(await h.sweepExpired(new Date()), 0, 'not due yet');
    const later = new Date(Date.now() + (RETENTION_SECONDS + 1) * 1000);
    assert.equal(await h.sweepExpired(later), 1);
    assert.equal(await stored(jobId), 0);
    const types = (await h.history(jobId)).map((event) => event.type);
    assert.deepEqual(types, ['JobSubmitted', 'JobExpired']);
    assert.equal(await h.sweepExpired(later), 0, 'expired once');
  });

  it('deletes the upload of a submission that was never recorded', async () => {
    const orphan = '00000000-0000-4000-8000-00000000beef';
    await h.storage.put(keys.raw(orphan, 'png'), await samplePng(), 'image/png');
    const later = new Date(Date.now() + (RETENTION_SECONDS + 1) * 1000);
    assert.equal(await h.sweepExpired(later), 0, 'no job to expire');
    assert.equal(await stored(orphan), 0);
    assert.deepEqual(await h.history(orphan), [], 'no event for a job that never existed');
  });

  it('exposes the projection lag as a metric', async () => {
    const body = await (await h.app.request('/metrics')).text();
    const lag = /^pixtools_projection_lag_events (\d+)$/m.exec(body);
    assert.ok(lag, body.slice(0, 500));
    assert.ok(Number(lag[1]) >= 2, `lag ${lag[1]}: two events were appended and none projected`);
  });
});
