import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Delivery } from '../../services/notifier/delivery.ts';
import { enqueueHandler } from '../../services/notifier/enqueue/enqueue.ts';
import { ensureTopology } from '../../shared/bus/provision.ts';
import { parseEvent } from '../../shared/events/events.ts';
import { waitFor } from '../support/harness.ts';
import { always, type Sink, startSink } from './support/sink.ts';
import { count, type NotifierSystem, startNotifierSystem } from './support/system.ts';

describe('exactly one webhook per delivery id, whatever is redelivered', () => {
  let s: NotifierSystem;
  let sink: Sink;
  before(async () => {
    sink = await startSink();
    s = await startNotifierSystem({ WEBHOOK_RETRY_DELAYS_MS: '300,300', WEBHOOK_TIMEOUT_MS: '2000' });
  });
  after(async () => {
    await s.close();
    await sink.close();
  });

  /**
   * Restarts the notifier on a re-created durable consumer, so every event of the stream, terminal ones
   * included, is delivered to it a second time.
   */
  async function replayNotifierConsumer() {
    const { jsm, names } = s.h.bus;
    await s.stopNotifier();
    await jsm.consumers.delete(names.eventsStream, names.durable.notifier);
    const { infra } = s.config;
    await ensureTopology(jsm, names, { ...infra, workQueueLimit: 10_000, replicas: 1 });
    await s.startNotifier();
    await waitFor(
      () => jsm.consumers.info(names.eventsStream, names.durable.notifier).catch(() => null),
      (info) => info !== null && info.num_pending === 0 && info.num_ack_pending === 0,
      15_000,
    );
  }

  it('redelivery of a terminal event already delivered sends no second webhook', async () => {
    const jobId = await s.completeJob(sink.url('/once'));
    await s.waitForEvent(jobId, 'WebhookDelivered');
    await replayNotifierConsumer();
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(sink.requests('/once').length, 1);
    assert.equal(count(await s.history(jobId), 'WebhookDelivered'), 1);
  });

  it('the same terminal event handled again while its delivery is in flight queues nothing new', async () => {
    sink.on('/in-flight', (nth) => ({ status: nth === 1 ? 503 : 200, delayMs: nth === 1 ? 0 : 1000 }));
    const jobId = await s.completeJob(sink.url('/in-flight'));
    await waitFor(
      async () => sink.requests('/in-flight').length,
      (n) => n === 2,
      10_000,
    ); // the second attempt is now waiting on the slow sink
    const again = await redeliver(jobId);
    assert.deepEqual(again, { kind: 'ack' });
    assert.equal(count(await s.history(jobId), 'WebhookDelivered'), 0, 'still in flight when handled again');
    await s.waitForEvent(jobId, 'WebhookDelivered');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(sink.requests('/in-flight').length, 2, 'one failed attempt, one success, nothing more');
    assert.equal(count(await s.history(jobId), 'WebhookDelivered'), 1);
  });

  /** Hands the job's terminal event, read back from the stream, to the notifier's handler once more. */
  async function redeliver(jobId: string) {
    const { js, names } = s.h.bus;
    const consumer = await js.consumers.get(names.eventsStream, { filter_subjects: names.jobSubject(jobId) });
    for (;;) {
      const msg = await consumer.next({ expires: 2000 });
      if (msg === null) throw new Error('no terminal event');
      if (parseEvent(msg.data).type !== 'JobCompleted') continue;
      const { link, ledger, names: rabbit } = s.notifier;
      const deps = { bus: s.h.bus, link, names: rabbit, ledger, storage: s.h.storage, log: s.h.log };
      return enqueueHandler({ ...deps, now: () => new Date() })(msg);
    }
  }

  it('two copies of one delivery message in flight at once reach the sink once', async () => {
    sink.on('/copies', always(200, 500));
    const jobId = await s.completeJob(null); // a job of its own, delivered by hand below
    const delivery: Delivery = {
      version: 1,
      deliveryId: randomBytes(16).toString('hex'),
      event: 'job.completed',
      url: sink.url('/copies'),
      jobId,
      correlationId: jobId,
      causationId: `${jobId}:JobCompleted`,
      payload: {
        job_id: jobId,
        status: 'COMPLETED',
        result_urls: {},
        archive_url: null,
        metadata: {},
        error_message: null,
        created_at: new Date().toISOString(),
        completed_at: new Date().toISOString(),
      },
    };
    const body = Buffer.from(JSON.stringify(delivery));
    for (let copy = 0; copy < 2; copy++)
      s.ch.publish(s.names.exchange, 'attempt.1', body, { persistent: true });
    await s.waitForEvent(jobId, 'WebhookDelivered');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(sink.requests('/copies').length, 1);
    assert.equal(count(await s.history(jobId), 'WebhookDelivered'), 1);
  });

  it('an unparsable message goes straight to the dead-letter queue with the reason', async () => {
    s.ch.publish(s.names.exchange, 'attempt.1', Buffer.from('{"not":"a delivery"'), {
      persistent: true,
      messageId: 'garbage-1',
    });
    const dead = await waitFor(
      () => s.deadLetters(),
      (messages) => messages.length > 0,
      5000,
    );
    assert.equal(dead.length, 1);
    assert.equal(dead[0]?.properties.messageId, 'garbage-1');
    assert.match(
      String(dead[0]?.properties.headers?.['x-pixtools-reason']),
      /^unparsable delivery: not JSON/,
    );
  });

  it('a target that resolves to a private address is refused at delivery time: failed for good, no retries', async () => {
    const jobId = await s.completeJob('http://10.0.0.5/hook');
    await s.waitForEvent(jobId, 'WebhookFailed');
    const history = await s.history(jobId);
    const failed = history.find((event) => event.type === 'WebhookFailed');
    assert.ok(failed?.type === 'WebhookFailed');
    assert.equal(failed.data.attempts, 1);
    assert.match(failed.data.error, /10\.0\.0\.5 \(private\), which is not a public address/);
    const dead = await waitFor(
      () => s.deadLetters(),
      (messages) => messages.length > 0,
      5000,
    );
    assert.match(String(dead[0]?.properties.headers?.['x-pixtools-reason']), /not a public address/);
  });

  it('follows a redirect to an allowed target, and refuses one to the metadata service', async () => {
    sink.on('/moved', () => ({ status: 307, headers: { location: '/moved-here' } }));
    sink.on('/metadata', () => ({
      status: 307,
      headers: { location: 'http://169.254.169.254/latest/meta-data' },
    }));
    const moved = await s.completeJob(sink.url('/moved'));
    const metadata = await s.completeJob(sink.url('/metadata'));
    await s.waitForEvent(moved, 'WebhookDelivered');
    assert.equal(sink.requests('/moved-here').length, 1);
    await s.waitForEvent(metadata, 'WebhookFailed');
    const failed = (await s.history(metadata)).find((event) => event.type === 'WebhookFailed');
    assert.ok(failed?.type === 'WebhookFailed');
    assert.match(failed.data.error, /169\.254\.169\.254 \(linkLocal\)/);
    assert.equal(sink.requests('/metadata').length, 1, 'refused for good after the first attempt');
    await s.deadLetters();
  });
});
