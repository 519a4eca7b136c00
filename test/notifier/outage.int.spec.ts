import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startProxy } from '../faults/support/proxy.ts';
import { waitFor } from '../support/harness.ts';
import { type Sink, startSink } from './support/sink.ts';
import { count, type NotifierSystem, RABBIT_URL, startNotifierSystem } from './support/system.ts';

describe('a RabbitMQ outage', () => {
  let s: NotifierSystem;
  let sink: Sink;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  before(async () => {
    sink = await startSink();
    proxy = await startProxy(Number(new URL(RABBIT_URL).port || 5672));
    const url = new URL(RABBIT_URL);
    url.port = String(proxy.port);
    s = await startNotifierSystem({ RABBITMQ_URL: url.toString() });
  });
  after(async () => {
    await s.close();
    await proxy.close();
    await sink.close();
  });

  it('keeps terminal events unacknowledged in JetStream, reconnects, and then delivers every webhook', async () => {
    const before = await s.completeJob(sink.url('/before'));
    await s.waitForEvent(before, 'WebhookDelivered');

    proxy.down();
    await waitFor(
      async () => s.notifier.link.connected,
      (connected) => !connected,
      5000,
    );
    const during = await Promise.all([1, 2, 3].map(() => s.completeJob(sink.url('/during'))));
    const { jsm, names } = s.h.bus;
    const held = await waitFor(
      () => jsm.consumers.info(names.eventsStream, names.durable.notifier),
      (info) => info.num_redelivered > 0 || info.num_ack_pending > 0,
      10_000,
    );
    assert.ok(
      held.num_ack_pending + held.num_pending >= 3,
      'the terminal events are still owed to the notifier',
    );
    assert.equal(sink.requests('/during').length, 0);
    await new Promise((resolve) => setTimeout(resolve, 2000)); // a few reconnect attempts fail meanwhile

    proxy.up();
    for (const jobId of during) await s.waitForEvent(jobId, 'WebhookDelivered', 40_000);
    assert.equal(sink.requests('/during').length, 3);
    for (const jobId of during) assert.equal(count(await s.history(jobId), 'WebhookDelivered'), 1);
  });
});
