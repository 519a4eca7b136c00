import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DeleteBucketCommand,
  DeleteBucketLifecycleCommand,
  GetBucketLifecycleConfigurationCommand,
  PutBucketLifecycleConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { deleteStreams, freshEnv } from './support/env.ts';
import { ensureS3Server } from './support/moto.ts';
import { spawnService } from './support/processes.ts';

describe('storage is created and repaired at service start', () => {
  const env = freshEnv();
  const s3 = new S3Client({
    endpoint: env.S3_ENDPOINT,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const bucket = env.S3_BUCKET ?? '';
  before(() => ensureS3Server());
  after(async () => {
    await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
    s3.destroy();
    await deleteStreams(env.PIXTOOLS_NS ?? '');
  });

  async function startConverterOnce() {
    const service = spawnService('services/converter/main.ts', env);
    await service.waitFor('converter consuming');
    await service.kill('SIGTERM');
    return service.output();
  }

  async function rules() {
    const out = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    return (out.Rules ?? [])
      .map((rule) => ({
        prefix: rule.Filter?.Prefix ?? '',
        days: rule.Expiration?.Days ?? null,
        abortAfter: rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation ?? null,
      }))
      .sort((a, b) => a.prefix.localeCompare(b.prefix));
  }

  const expected = [
    { prefix: '', days: null, abortAfter: 1 },
    { prefix: 'bundles/', days: 1, abortAfter: null },
    { prefix: 'outputs/', days: 1, abortAfter: null },
    { prefix: 'raw/', days: 1, abortAfter: null },
  ];

  it('creates the bucket with 24-hour lifecycle rules', async () => {
    const output = await startConverterOnce();
    assert.match(output, /"outcome":"created"/);
    assert.deepEqual(await rules(), expected);
  });

  it('puts the rules back after someone deleted them', async () => {
    await s3.send(new DeleteBucketLifecycleCommand({ Bucket: bucket }));
    await assert.rejects(() => rules(), /NoSuchLifecycleConfiguration|lifecycle/i);
    await startConverterOnce();
    assert.deepEqual(await rules(), expected);
  });

  it('repairs rules that drifted', async () => {
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: {
          Rules: [
            { ID: 'someone-else', Status: 'Enabled', Filter: { Prefix: 'raw/' }, Expiration: { Days: 30 } },
          ],
        },
      }),
    );
    const output = await startConverterOnce();
    assert.match(output, /"outcome":"repaired"/);
    assert.deepEqual(await rules(), expected);
  });
});
