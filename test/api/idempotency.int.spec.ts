import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../services/intake/app.ts';
import { createRedis } from '../../services/intake/redis.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { sampleJpeg, samplePng } from '../support/images.ts';
import { expectAccepted, expectError, post, type Upload } from './support/http.ts';
import { settledJob } from './support/jobs.ts';

describe('Idempotency-Key', () => {
  let h: Harness;
  let png: Upload;
  before(async () => {
    h = await startHarness();
    h.start();
    png = { bytes: await samplePng(), name: 'same.png' };
  });
  after(() => h.close());

  const submit = (file: Upload, key: string, fields = { operations: '["webp"]' }) =>
    post(h.app, file, fields, { 'Idempotency-Key': key });

  it('gives two concurrent identical requests one job', async () => {
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 5 }, () => submit(png, key)));
    const bodies = (await Promise.all(answers.map((answer) => answer.json()))) as { job_id: string }[];
    assert.deepEqual(
      answers.map((answer) => answer.status),
      [202, 202, 202, 202, 202],
    );
    const ids = new Set(bodies.map((body) => body.job_id));
    assert.equal(ids.size, 1, `one job for one key, got ${[...ids].join(', ')}`);
    const [jobId] = [...ids];
    await settledJob(h, jobId ?? '');
    const jobs = await h.db
      .selectFrom('jobs')
      .select('job_id')
      .where('original_name', '=', 'same.png')
      .execute();
    assert.deepEqual(
      jobs.map((job) => job.job_id),
      [jobId],
    );
  });

  it('answers a retry with the same job and its real status; the key lives 24 hours', async () => {
    const key = randomUUID();
    const jobId = await expectAccepted(submit(png, key));
    await settledJob(h, jobId);
    const again = await submit(png, key);
    assert.equal(again.status, 202);
    assert.deepEqual(await again.json(), { job_id: jobId, status: 'COMPLETED' });
    // The key is the client's key hashed, under the run's namespace (a SCAN page of a shared Redis may miss it).
    const stored = `${h.config.infra.namespace}:idempotency:${createHash('sha256').update(key).digest('hex')}`;
    const ttl = await h.redis.ttl(stored);
    assert.ok(ttl > 86_000 && ttl <= 86_400, `ttl ${ttl}`);
  });

  it('refuses the same key with another file, or other operations, with 422', async () => {
    const key = randomUUID();
    await expectAccepted(submit(png, key));
    const other = { bytes: await sampleJpeg(), name: 'other.jpg' };
    await expectError(submit(other, key), 422, /^Idempotency-Key was already used with a different request/);
    await expectError(submit(png, key, { operations: '["avif"]' }), 422, /^Idempotency-Key was already used/);
  });

  it('needs Redis only for requests that carry a key', async () => {
    const redis = createRedis('redis://127.0.0.1:1');
    redis.on('error', () => undefined);
    const app = createApp({ ...h, redis, now: () => new Date(), newId: randomUUID });
    try {
      await expectError(
        post(app, png, { operations: '["webp"]' }, { 'Idempotency-Key': 'k' }),
        503,
        /^Idempotency store unavailable: redis unreachable/,
      );
      await expectAccepted(post(app, png, { operations: '["webp"]' }));
    } finally {
      redis.disconnect();
    }
  });
});
