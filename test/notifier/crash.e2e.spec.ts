import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ServiceProcess, spawnService } from '../support/processes.ts';
import { type Sink, startSink } from './support/sink.ts';
import { count, type NotifierSystem, startNotifierSystem } from './support/system.ts';

const ENTRY = 'services/notifier/main.ts';

describe('the notifier as its own process: killed or stopped mid-delivery', () => {
  let s: NotifierSystem;
  let sink: Sink;
  const processes: ServiceProcess[] = [];
  const spawnNotifier = async () => {
    const notifier = spawnService(ENTRY, s.env);
    processes.push(notifier);
    await notifier.waitFor('webhook deliveries consuming');
    return notifier;
  };
  before(async () => {
    // The first request on every path hangs: the notifier is always caught holding deliveries.
    sink = await startSink();
    s = await startNotifierSystem({ WEBHOOK_TIMEOUT_MS: '4000', WEBHOOK_RETRY_DELAYS_MS: '300,300' }, false);
  });
  after(async () => {
    for (const notifier of processes) await notifier.kill('SIGKILL');
    await s.close();
    await sink.close();
  });

  it('SIGKILL during deliveries, then a restart: every webhook arrives, each exactly once', async () => {
    const paths = ['/a', '/b', '/c'];
    for (const path of paths) sink.on(path, (nth) => ({ status: 200, delayMs: nth === 1 ? 3000 : 0 }));
    const first = await spawnNotifier();
    const jobs = await Promise.all(paths.map((path) => s.completeJob(sink.url(path))));
    const deadline = Date.now() + 15_000;
    while (sink.received.length < paths.length && Date.now() < deadline) await sleep(50);
    assert.equal(sink.received.length, paths.length, 'all three deliveries were in flight');
    assert.equal(await first.kill('SIGKILL'), null, 'killed by the signal, holding the deliveries');

    // Two more jobs finish while no notifier runs: they wait in JetStream.
    sink.on('/d', () => ({ status: 200 }));
    jobs.push(await s.completeJob(sink.url('/d')), await s.completeJob(sink.url('/d')));
    const second = await spawnNotifier();
    for (const jobId of jobs) await s.waitForEvent(jobId, 'WebhookDelivered', 30_000);

    for (const path of paths) {
      const requests = sink.requests(path);
      assert.equal(requests.length, 2, `${path}: the interrupted attempt and the redelivery`);
      const ids = new Set(requests.map((r) => r.headers['x-pixtools-delivery']));
      assert.equal(ids.size, 1, 'the redelivery carries the same delivery id, so receivers can de-duplicate');
      assert.equal(sink.answered.filter((a) => a.path === path).length, 1, 'one answered delivery');
    }
    assert.equal(sink.requests('/d').length, 2);
    for (const jobId of jobs) assert.equal(count(await s.history(jobId), 'WebhookDelivered'), 1);
    await Promise.all(
      jobs.map((jobId) => s.h.waitForJob(jobId, (v) => v.job.webhook_status === 'delivered')),
    );
    assert.equal(await second.kill('SIGTERM'), 0);
  });

  it('SIGTERM lets the delivery in flight finish and record its outcome, then exits cleanly', async () => {
    sink.on('/graceful', () => ({ status: 200, delayMs: 1500 }));
    const notifier = await spawnNotifier();
    const jobId = await s.completeJob(sink.url('/graceful'));
    while (sink.requests('/graceful').length === 0) await sleep(20);
    assert.equal(await notifier.kill('SIGTERM'), 0);
    assert.match(notifier.output(), /notifier stopped/);
    assert.equal(count(await s.history(jobId), 'WebhookDelivered'), 1, 'recorded before exit');
    assert.equal(sink.requests('/graceful').length, 1);
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
