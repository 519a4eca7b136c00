import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebhookPayload } from '../../services/notifier/delivery.ts';
import { waitFor } from '../support/harness.ts';
import { always, type Sink, startSink } from './support/sink.ts';
import { type NotifierSystem, startNotifierSystem } from './support/system.ts';

describe('circuit breaker per destination host', () => {
  let s: NotifierSystem;
  let down: Sink;
  let up: Sink;
  before(async () => {
    down = await startSink({ '/hook': always(200, 10_000) }); // hangs past every timeout
    up = await startSink();
    s = await startNotifierSystem({
      WEBHOOK_TIMEOUT_MS: '1000',
      WEBHOOK_PREFETCH: '4',
      WEBHOOK_BREAKER_THRESHOLD: '2',
      WEBHOOK_BREAKER_HALF_OPEN_MS: '60000',
      WEBHOOK_RETRY_DELAYS_MS: '300,300',
    });
  });
  after(async () => {
    await s.close();
    await down.close();
    await up.close();
  });

  it('while one sink is down and its breaker open, another sink gets its delivery without delay', async () => {
    // Two timeouts in a row open the breaker of the hanging sink's host.
    const first = await Promise.all([s.completeJob(down.url('/hook')), s.completeJob(down.url('/hook'))]);
    for (const jobId of first) await s.waitForEvent(jobId, 'WebhookAttempted');
    assert.equal(down.received.length, 2);

    // Eight more deliveries to the dead host queue ahead of one to the healthy host. Without the
    // breaker each would hold one of the 4 prefetch slots for the 1 s timeout: ≥ 2 s for the healthy one.
    const queued = await Promise.all(Array.from({ length: 8 }, () => s.completeJob(down.url('/hook'))));
    const healthy = await s.completeJob(up.url('/hook'));
    await s.waitForEvent(healthy, 'WebhookDelivered');
    const [receipt] = up.requests('/hook');
    assert.ok(receipt);
    const completedAt = Date.parse(WebhookPayload.parse(JSON.parse(receipt.body)).completed_at);
    const latencyMs = receipt.at - completedAt;
    assert.ok(latencyMs < 900, `healthy sink waited ${latencyMs} ms`);

    // The dead host was not called again, and no attempt was used up while its circuit was open: the
    // three attempts (300 ms apart) would all be gone by now if a refusal counted as one.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(down.received.length, 2, 'no request reached the host while its circuit was open');
    for (const jobId of queued) {
      const types = (await s.history(jobId)).map((event) => event.type);
      assert.ok(!types.includes('WebhookAttempted'), `${jobId}: ${types.join(',')}`);
      assert.ok(!types.includes('WebhookFailed'), `${jobId}: ${types.join(',')}`);
    }
    assert.equal((await s.deadLetters()).length, 0);
  });
});

describe('an open circuit delays deliveries instead of using up their attempts', () => {
  let s: NotifierSystem;
  let sink: Sink;
  before(async () => {
    let healedAt = Number.POSITIVE_INFINITY;
    sink = await startSink({ '/hook': () => ({ status: Date.now() < healedAt ? 503 : 200 }) });
    sink.on('/heal', () => {
      healedAt = Date.now();
      return { status: 200 };
    });
    s = await startNotifierSystem({
      WEBHOOK_BREAKER_THRESHOLD: '2',
      WEBHOOK_BREAKER_HALF_OPEN_MS: '1000',
      WEBHOOK_RETRY_DELAYS_MS: '300,300',
    });
  });
  after(async () => {
    await s.close();
    await sink.close();
  });

  it('every delivery arrives after a receiver outage longer than all its retry delays', async () => {
    const jobs = await Promise.all(Array.from({ length: 6 }, () => s.completeJob(sink.url('/hook'))));
    await waitFor(
      async () => sink.requests('/hook').length,
      (n) => n >= 2,
      10_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 3000)); // ≫ 300 + 300 ms of retry delays
    await fetch(sink.url('/heal'));
    for (const jobId of jobs) await s.waitForEvent(jobId, 'WebhookDelivered', 20_000);
    for (const jobId of jobs) {
      const types = (await s.history(jobId)).map((event) => event.type);
      assert.ok(!types.includes('WebhookFailed'), `${jobId}: ${types.join(',')}`);
    }
    assert.equal((await s.deadLetters()).length, 0);
  });
});
