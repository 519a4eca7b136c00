import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { type Harness, startHarness } from './support/harness.ts';
import { samplePng } from './support/images.ts';

describe('consumers are idempotent under redelivery and duplicates', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    h.start();
  });
  after(() => h.close());

  async function counts(jobId: string) {
    const count = async (table: 'jobs' | 'steps' | 'artifacts' | 'job_events') =>
      Number(
        (
          await h.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('job_id', '=', jobId)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const s3 = new S3Client({
      endpoint: h.env.S3_ENDPOINT,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: h.env.S3_BUCKET, Prefix: `outputs/${jobId}/` }),
    );
    s3.destroy();
    return {
      jobs: await count('jobs'),
      steps: await count('steps'),
      artifacts: await count('artifacts'),
      timeline: await count('job_events'),
      outputs: listed.KeyCount ?? 0,
      events: (await h.history(jobId)).length,
    };
  }

  it('re-delivering every event, republishing them and re-running a step adds no rows, steps or outputs', async () => {
    const response = await h.submit(await samplePng(), 'dup.png', { operations: '["webp","jpg"]' });
    const { job_id: jobId } = (await response.json()) as { job_id: string };
    await h.waitForJob(jobId, (view) => view.job.status === 'COMPLETED');
    await settle(h);
    const baseline = await counts(jobId);
    // two conversions and the ZIP bundle step the planner adds after them
    assert.deepEqual(baseline, { jobs: 1, steps: 3, artifacts: 3, timeline: 12, outputs: 2, events: 12 });

    // 1. Redelivery: every consumer of the event stream sees the whole history again.
    await h.stop();
    for (const durable of Object.values(h.bus.names.durable)) {
      for (const stream of [h.bus.names.eventsStream, h.bus.names.workStream]) {
        await h.bus.jsm.consumers.delete(stream, durable).catch(() => false);
      }
    }
    // 2. Duplicates: republish each event with its own message id (JetStream drops them) ...
    const events = await h.history(jobId);
    for (const event of events) {
      const ack = await h.bus.js.publish(h.bus.names.jobSubject(jobId), JSON.stringify(event), {
        msgID: event.metadata.eventId,
      });
      assert.equal(ack.duplicate, true, `${event.type} should be recognised as a duplicate`);
    }
    // ... and a late copy of a success that slipped past the de-duplication window.
    const success = events.find((event) => event.type === 'StepSucceeded');
    assert.ok(success);
    await h.bus.js.publish(h.bus.names.jobSubject(jobId), JSON.stringify(success));
    // 3. A step command delivered again (as after a worker crash after its work was done).
    const dispatched = events.find((event) => event.type === 'StepDispatched');
    assert.ok(dispatched?.type === 'StepDispatched');
    await h.bus.js.publish(h.bus.names.workSubject('io'), JSON.stringify(dispatched.data.command));

    // Re-provision the durables (deliver all) and run everything again.
    const { connectBus } = await import('../shared/bus/connect.ts');
    const again = await connectBus({ ...h.config.infra, url: h.config.infra.natsUrl, name: 'reprovision' });
    await again.nc.close();
    h.start();
    await settle(h);

    const after = await counts(jobId);
    // The late duplicate success and the re-run step's start are in the log (it is append-only) ...
    assert.ok(after.events >= baseline.events + 1);
    // ... but no read-model row, step or output was duplicated.
    assert.deepEqual({ ...after, events: 0, timeline: 0 }, { ...baseline, events: 0, timeline: 0 });
    const view = await h.waitForJob(jobId, () => true);
    assert.equal(view.job.status, 'COMPLETED');
    const completions = (await h.history(jobId)).filter((event) => event.type === 'JobCompleted');
    assert.equal(completions.length, 1, 'the job completed exactly once');
  });
});

/** Waits until the work stream is empty and the projection has reached the stream's last sequence. */
async function settle(h: Harness) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const events = await h.bus.jsm.streams.info(h.bus.names.eventsStream);
    const work = await h.bus.jsm.streams.info(h.bus.names.workStream);
    const row = await h.db.selectFrom('projection_checkpoints').select('seq').executeTakeFirst();
    if (work.state.messages === 0 && (row?.seq ?? 0) >= events.state.last_seq) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const later = await h.bus.jsm.streams.info(h.bus.names.eventsStream);
      if (later.state.last_seq === events.state.last_seq) return;
    }
    if (Date.now() > deadline) throw new Error('system did not settle');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
