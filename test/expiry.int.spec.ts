import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExpiryState } from '../services/expiry/state.ts';
import { type ExpiryDeps, sweepBucket, sweepLog } from '../services/expiry/sweep.ts';
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

describe('the log pass: a cursor over the log, not a listing of the bucket', () => {
  let h: Harness;
  let state: ExpiryState;
  const at = (ms: number): ExpiryDeps => ({
    bus: h.bus,
    storage: h.storage,
    log: h.log,
    now: () => new Date(ms),
    retentionMs: RETENTION_SECONDS * 1000,
    state,
  });
  const submit = async () =>
    expectAccepted(post(h.app, { bytes: await samplePng(), name: 'p.png' }, { operations: '["webp"]' }));
  const types = async (jobId: string) => (await h.history(jobId)).map((event) => event.type);
  before(async () => {
    h = await startHarness({ RETENTION_SECONDS: String(RETENTION_SECONDS) });
    state = await ExpiryState.open(h.bus);
  });
  after(() => h.close());

  it('expires due jobs in log order, stops at the first not due, and never reads an event twice', async () => {
    const first = await submit();
    const second = await submit();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const third = await submit();
    const submittedAt = async (jobId: string) => {
      const submitted = (await h.history(jobId))[0];
      assert.ok(submitted?.type === 'JobSubmitted');
      return Date.parse(submitted.data.expiresAt);
    };
    const secondDue = await submittedAt(second);
    const thirdDue = await submittedAt(third);
    assert.ok(thirdDue - secondDue >= 1000);

    assert.equal(await sweepLog(at(secondDue - 10_000), 100), 0, 'nothing due');
    assert.equal(await state.cursor(), 0, 'the cursor stays before the first submission not due');

    // Due: the first two, not the third. A batch of one takes one job per pass.
    assert.equal(await sweepLog(at(secondDue), 1), 1);
    assert.deepEqual(await types(first), ['JobSubmitted', 'JobExpired']);
    assert.deepEqual(await types(second), ['JobSubmitted']);
    assert.equal(await sweepLog(at(secondDue), 1), 1);
    assert.deepEqual(await types(second), ['JobSubmitted', 'JobExpired']);
    assert.deepEqual(await types(third), ['JobSubmitted']);
    const cursor = await state.cursor();
    const thirdSeq = (await h.bus.log.first(third))?.seq ?? 0;
    assert.ok(cursor > 0 && cursor < thirdSeq, `cursor ${cursor} stops before the third (${thirdSeq})`);

    // The bucket still holds the third job's upload; the log pass did not list it, and leaves it.
    assert.equal(await sweepLog(at(secondDue), 100), 0);
    assert.equal(await sweepLog(at(thirdDue), 100), 1);
    assert.deepEqual(await types(third), ['JobSubmitted', 'JobExpired']);
    for (const jobId of [first, second, third]) {
      for (const prefix of keys.jobPrefixes(jobId)) {
        for await (const item of h.storage.list(prefix)) assert.fail(`left behind: ${item.key}`);
      }
    }
    // The JobExpired events were read too: the cursor is now past every event, and nothing is done twice.
    const end = (await h.bus.log.last(third))?.seq ?? 0;
    assert.equal(await state.cursor(), end);
    assert.equal(await sweepLog(at(thirdDue + 3_600_000), 100), 0);
  });

  it('leaves uploads no submission recorded to the bucket pass, and never records JobExpired twice', async () => {
    const orphan = '00000000-0000-4000-8000-00000000f00d';
    await h.storage.put(keys.raw(orphan, 'png'), await samplePng(), 'image/png');
    const jobId = await submit();
    const orphanLeft = async () => {
      let left = 0;
      for await (const _ of h.storage.list(`raw/${orphan}`)) left++;
      return left;
    };
    assert.equal(await sweepLog(at(Date.now()), 100), 0);
    assert.equal(await orphanLeft(), 1, 'the log pass never looks at the bucket');
    const later = Date.now() + (RETENTION_SECONDS + 120) * 1000;
    // The bucket pass gets there first; the log pass then meets a job that has already expired.
    assert.equal(await sweepBucket(at(later), 100), 1);
    assert.equal(await sweepLog(at(later), 100), 0);
    assert.deepEqual(await types(jobId), ['JobSubmitted', 'JobExpired']);
    assert.equal(await orphanLeft(), 0, 'the bucket pass deleted the orphan upload');
  });
});
