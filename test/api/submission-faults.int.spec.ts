import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fingerprint, IdempotencyKeys, jobIdFor } from '../../services/intake/submission/idempotency.ts';
import type { Submission } from '../../services/intake/submission/validate.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { samplePng } from '../support/images.ts';
import { expectAccepted, post, type Upload } from './support/http.ts';

describe('submissions survive crashes and lost answers', () => {
  let h: Harness;
  let png: Upload;
  before(async () => {
    h = await startHarness();
    png = { bytes: await samplePng(), name: 'retry.png' };
  });
  after(() => h.close());

  /** The fingerprint intake computes for `png` with `["webp"]`. */
  const print = () =>
    fingerprint({
      sha256: sha(png.bytes),
      operations: ['webp'],
      operationParams: {},
      pipeline: null,
      webhookUrl: null,
    } as unknown as Submission);
  const submit = (key: string) => post(h.app, png, { operations: '["webp"]' }, { 'Idempotency-Key': key });
  const submitted = async (jobId: string) =>
    (await h.history(jobId)).filter((event) => event.type === 'JobSubmitted').length;
  const uploads = async () => {
    let count = 0;
    for await (const _ of h.storage.list('raw/')) count++;
    return count;
  };

  it('a retry after a crash between reserving the key and recording the job creates the job', async () => {
    const key = randomUUID();
    // What a crashed first request leaves: the key reserved for a job that was never recorded.
    const orphan = randomUUID();
    const keysStore = new IdempotencyKeys(h.redis, h.config.infra.namespace, 3600);
    assert.equal((await keysStore.reserve(key, print(), orphan)).kind, 'reserved');

    const jobId = await expectAccepted(submit(key));
    assert.equal(jobId, orphan, 'the reserved job id is kept');
    assert.equal(await submitted(jobId), 1, 'the 202 names a job that exists');
  });

  it('a retry after an answer was lost (the key released, the job stored) does not make a second job', async () => {
    const key = randomUUID();
    const first = await expectAccepted(submit(key));
    assert.equal(first, jobIdFor(h.config.infra.namespace, key, print()), 'the job id follows from the key');
    // The first request's append "timed out" after it was stored: it answered 503 and freed its key.
    await h.redis.del(`${h.config.infra.namespace}:idempotency:${sha(key)}`);
    const second = await expectAccepted(submit(key));
    assert.equal(second, first);
    assert.equal(await submitted(first), 1, 'one JobSubmitted');
  });

  it('a submission whose job cannot be recorded answers 503 and deletes its upload', async () => {
    const before = await uploads();
    const stream = h.bus.names.eventsStream;
    const { config } = await h.bus.jsm.streams.info(stream);
    await h.bus.jsm.streams.update(stream, { ...config, max_msg_size: 64 }); // every append is refused
    try {
      const answer = await post(h.app, png, { operations: '["webp"]' });
      assert.equal(answer.status, 503, await answer.text());
      assert.equal(await uploads(), before, 'the upload was deleted');
    } finally {
      await h.bus.jsm.streams.update(stream, { ...config });
    }
  });
});

const sha = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
