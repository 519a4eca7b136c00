import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { type Harness, startHarness } from '../support/harness.ts';
import { samplePng } from '../support/images.ts';
import { getJob, runJob } from './support/jobs.ts';

const RETENTION_SECONDS = 5;

describe('retention: links never outlive the job, and expired jobs are deleted', () => {
  let h: Harness;
  let s3: S3Client;
  before(async () => {
    h = await startHarness({ RETENTION_SECONDS: String(RETENTION_SECONDS) });
    h.start();
    s3 = new S3Client({
      endpoint: h.env.S3_ENDPOINT,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  });
  after(async () => {
    s3.destroy();
    await h.close();
  });

  const objects = async (jobId: string) => {
    let count = 0;
    for (const prefix of [`raw/${jobId}/`, `outputs/${jobId}/`, `bundles/${jobId}/`]) {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: h.env.S3_BUCKET, Prefix: prefix }));
      count += listed.KeyCount ?? 0;
    }
    return count;
  };

  it('signs links only until expires_at, then answers expired with no links, then deletes everything', async () => {
    const job = await runJob(
      h,
      { bytes: await samplePng(), name: 'short.png' },
      { operations: '["webp","jpg"]' },
    );
    assert.equal(job.status, 'COMPLETED');
    const created = Date.parse(job.created_at);
    assert.equal(
      Date.parse(job.expires_at) - created,
      RETENTION_SECONDS * 1000,
      'expires_at = submission + retention',
    );
    for (const url of [...Object.values(job.result_urls), job.archive_url ?? '']) {
      const lifetime = Number(new URL(url).searchParams.get('X-Amz-Expires'));
      assert.ok(lifetime >= 1 && lifetime <= RETENTION_SECONDS, `URL lives ${lifetime} s`);
    }
    assert.equal(await objects(job.job_id), 4, 'source, two outputs and the ZIP');

    await new Promise((resolve) => setTimeout(resolve, Date.parse(job.expires_at) - Date.now() + 100));
    const expired = await getJob(h, job.job_id);
    assert.equal(expired.expired, true);
    assert.deepEqual(expired.result_urls, {});
    assert.equal(expired.archive_url, null);
    assert.equal(expired.status, 'COMPLETED', 'the job itself is still described');
    assert.ok(expired.steps.every((step) => step.output === null));

    assert.equal(await h.sweepExpired(), 1);
    assert.equal(await objects(job.job_id), 0, 'objects are deleted even without lifecycle rules');
    const events = await h.history(job.job_id);
    const expiry = events.filter((event) => event.type === 'JobExpired');
    assert.deepEqual(
      expiry.map((event) => event.data),
      [{ deletedObjects: 4 }],
    );
    await h.waitForJob(job.job_id, (view) => view.job.expired);
    assert.equal(await h.sweepExpired(), 0, 'an expired job is not expired again');
  });
});
