import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebhookPayload } from '../../services/notifier/delivery.ts';
import { verifySignature } from '../../services/notifier/sign/sign.ts';
import { waitFor } from '../support/harness.ts';
import { always, type Sink, startSink } from './support/sink.ts';
import { count, type NotifierSystem, startNotifierSystem, TEST_SECRET } from './support/system.ts';

describe('webhook delivery through RabbitMQ (real broker, real HTTP sink)', () => {
  let s: NotifierSystem;
  let sink: Sink;
  before(async () => {
    sink = await startSink();
    s = await startNotifierSystem({ WEBHOOK_RETRY_DELAYS_MS: '300,300', WEBHOOK_TIMEOUT_MS: '700' });
  });
  after(async () => {
    await s.close();
    await sink.close();
  });

  it('delivers a completed job once, signed, with the reference payload', async () => {
    const jobId = await s.completeJob(sink.url('/ok'));
    await s.waitForEvent(jobId, 'WebhookDelivered');
    const [request] = sink.requests('/ok');
    assert.ok(request);
    const signature = request.headers['x-pixtools-signature'];
    assert.equal(typeof signature, 'string');
    const check = verifySignature(
      TEST_SECRET,
      String(signature),
      request.body,
      Math.floor(Date.now() / 1000),
    );
    assert.deepEqual(check, { ok: true });
    assert.deepEqual(
      verifySignature('another-secret-of-16+', String(signature), request.body, Date.now() / 1000),
      {
        ok: false,
        reason: 'signature mismatch',
      },
    );
    assert.equal(request.headers['x-pixtools-event'], 'job.completed');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.match(String(request.headers['x-pixtools-delivery']), /^[0-9a-f]{32}$/);
    const payload = WebhookPayload.parse(JSON.parse(request.body));
    assert.equal(payload.job_id, jobId);
    assert.equal(payload.status, 'COMPLETED');
    assert.match(payload.result_urls.webp ?? '', /outputs%2F|outputs\//);
    assert.equal(payload.error_message, null);
    assert.equal(payload.archive_url, null);
    assert.deepEqual(payload.metadata, {});

    const history = await s.history(jobId);
    const delivered = history.find((event) => event.type === 'WebhookDelivered');
    assert.equal(delivered?.type === 'WebhookDelivered' && delivered.data.attempts, 1);
    assert.equal(
      delivered?.type === 'WebhookDelivered' && delivered.data.deliveryId,
      request.headers['x-pixtools-delivery'],
    );
    const view = await s.h.waitForJob(jobId, (v) => v.job.webhook_status === 'delivered');
    assert.equal(view.job.status, 'COMPLETED');
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.equal(sink.requests('/ok').length, 1, 'exactly one request reached the sink');
  });

  it('a sink that fails twice then succeeds gets the delivery on the third attempt', async () => {
    sink.on('/flaky', (nth) => ({ status: nth <= 2 ? 503 : 204 }));
    const jobId = await s.completeJob(sink.url('/flaky'));
    await s.waitForEvent(jobId, 'WebhookDelivered');
    const requests = sink.requests('/flaky');
    assert.equal(requests.length, 3);
    assert.deepEqual(
      requests.map((r) => r.headers['x-pixtools-attempt']),
      ['1', '2', '3'],
    );
    assert.equal(new Set(requests.map((r) => r.headers['x-pixtools-delivery'])).size, 1, 'one delivery id');
    assert.ok((requests[1]?.at ?? 0) - (requests[0]?.at ?? 0) >= 250, 'the retry waited in its TTL queue');
    const history = await s.history(jobId);
    const attempts = history.flatMap((e) =>
      e.type === 'WebhookAttempted' ? [[e.data.attempt, e.data.error]] : [],
    );
    assert.deepEqual(attempts, [
      [1, 'sink answered HTTP 503'],
      [2, 'sink answered HTTP 503'],
    ]);
    const delivered = history.find((event) => event.type === 'WebhookDelivered');
    assert.ok(delivered?.type === 'WebhookDelivered');
    assert.equal(delivered.data.attempts, 3);
    assert.equal(delivered.data.statusCode, 204);
    const row = await waitFor(
      () =>
        s.h.db.selectFrom('webhook_deliveries').selectAll().where('job_id', '=', jobId).executeTakeFirst(),
      (r) => r?.status === 'delivered',
      10_000,
    );
    assert.equal(row?.attempts, 3);
    assert.equal(row?.status_code, 204);
  });

  it('a sink that always fails ends in the dead-letter queue with x-death; the job says COMPLETED_WEBHOOK_FAILED', async () => {
    sink.on('/down', always(500));
    const jobId = await s.completeJob(sink.url('/down'));
    await s.waitForEvent(jobId, 'WebhookFailed');
    assert.equal(sink.requests('/down').length, 3, '1 attempt + 2 retries');
    const view = await s.h.waitForJob(jobId, (v) => v.job.status === 'COMPLETED_WEBHOOK_FAILED');
    assert.equal(view.job.webhook_status, 'failed');
    const body = await (await s.h.app.request(`/api/jobs/${jobId}`)).json();
    assert.equal(body.status, 'COMPLETED_WEBHOOK_FAILED');
    assert.equal(body.webhook.status, 'failed');
    assert.equal(body.webhook.attempts, 3);
    assert.match(body.webhook.last_error, /500/);
    const history = await s.history(jobId);
    assert.equal(count(history, 'WebhookAttempted'), 3);
    const failed = history.find((event) => event.type === 'WebhookFailed');
    assert.ok(failed?.type === 'WebhookFailed');
    assert.equal(failed.data.attempts, 3);

    const dead = await waitFor(
      () => s.deadLetters(),
      (messages) => messages.length > 0,
      5000,
    );
    assert.equal(dead.length, 1);
    const [message] = dead;
    assert.ok(message);
    assert.equal(JSON.parse(message.content.toString()).jobId, jobId);
    const deaths = message.properties.headers?.['x-death'] as {
      queue: string;
      reason: string;
      count: number;
    }[];
    const byQueue = Object.fromEntries(deaths.map((d) => [`${d.queue}/${d.reason}`, d.count]));
    assert.deepEqual(byQueue, {
      [`${s.names.queue}/rejected`]: 3,
      [`${s.names.retryQueue(1)}/expired`]: 1,
      [`${s.names.retryQueue(2)}/expired`]: 1,
    });
    const row = await s.h.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('job_id', '=', jobId)
      .executeTakeFirst();
    assert.equal(row?.status, 'failed');
    assert.equal(row?.attempts, 3);
    assert.equal(row?.last_error, 'sink answered HTTP 500');
  });

  it('a sink that answers slower than the timeout counts as a failed attempt', async () => {
    sink.on('/slow', (nth) => ({ status: 200, delayMs: nth === 1 ? 3000 : 0 }));
    const jobId = await s.completeJob(sink.url('/slow'));
    await s.waitForEvent(jobId, 'WebhookDelivered');
    const history = await s.history(jobId);
    const attempted = history.find((event) => event.type === 'WebhookAttempted');
    assert.ok(attempted?.type === 'WebhookAttempted');
    assert.equal(attempted.data.error, 'timed out after 700 ms');
    const delivered = history.find((event) => event.type === 'WebhookDelivered');
    assert.equal(delivered?.type === 'WebhookDelivered' && delivered.data.attempts, 2);
  });

  it('notifies failed jobs too, and a failed webhook never moves a FAILED job', async () => {
    sink.on('/failed-job', always(500));
    const jobId = await s.completeJob(sink.url('/failed-job'), 'failed');
    await s.waitForEvent(jobId, 'WebhookFailed');
    const payload = WebhookPayload.parse(JSON.parse(sink.requests('/failed-job')[0]?.body ?? '{}'));
    assert.equal(payload.status, 'FAILED');
    assert.equal(payload.error_message, 'Step "webp" (webp) failed: corrupt image');
    assert.deepEqual(payload.result_urls, {});
    const view = await s.h.waitForJob(jobId, (v) => v.job.webhook_status === 'failed');
    assert.equal(view.job.status, 'FAILED');
    await s.deadLetters();
  });

  it('a job without a webhook URL sends nothing', async () => {
    const before = sink.received.length;
    const jobId = await s.completeJob(null);
    const view = await s.h.waitForJob(jobId, (v) => v.job.status === 'COMPLETED');
    assert.equal(view.job.webhook_status, null);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(sink.received.length, before);
  });
});
