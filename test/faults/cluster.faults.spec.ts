import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Sink, startSink } from '../notifier/support/sink.ts';
import { samplePng } from '../support/images.ts';
import { CLUSTER_URL, natsCluster } from './support/cluster.ts';
import { startFaultySystem } from './support/faulty-system.ts';
import { report } from './support/figures.ts';
import { startLoad } from './support/load.ts';
import { verify } from './support/verify.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('scale-out: the system on a three-node JetStream cluster, replicated streams', () => {
  const cluster = natsCluster(mkdtempSync(join(tmpdir(), 'pixtools-nats-cluster-')));
  let s: Awaited<ReturnType<typeof startFaultySystem>>;
  let sink: Sink;
  before(async () => {
    await cluster.start();
    sink = await startSink();
    s = await startFaultySystem({ PIXTOOLS_STREAM_REPLICAS: '3' }, CLUSTER_URL);
  });
  after(async () => {
    await s?.close();
    await sink?.close();
    await cluster.clean();
  });

  it('loses and duplicates nothing when one node is killed under load and restarted', async () => {
    const info = await s.bus.jsm.streams.info(s.bus.names.eventsStream);
    assert.equal(info.config.num_replicas, 3);
    const load = startLoad(s.url, await samplePng(320, 240), sink.url('/hook'), 700);
    const leader = info.cluster?.leader ?? 'pixtools-2';
    const node = Number(leader.replace(/\D+/g, '')) || 2; // kill the events stream's leader
    try {
      await sleep(8000);
      await cluster.kill(node);
      await sleep(10_000);
      await cluster.restart(node);
      await sleep(8000);
    } finally {
      await load.stop(); // also when a step above failed, or the load keeps the test process alive
    }
    const verdict = await verify(s.bus, s.storage, s.url, sink, load.accepted(), 120_000);
    const figures = report(`three-node cluster, node ${node} killed`, load.submissions, verdict, []);
    assert.deepEqual(verdict.lost, [], 'nothing lost');
    assert.deepEqual(verdict.duplicateOutputs, [], 'nothing duplicated');
    assert.deepEqual(verdict.badOutputs, []);
    assert.deepEqual(verdict.webhooksMissing, []);
    assert.equal(figures.http500, 0);
    assert.ok(verdict.jobs >= 20, `${verdict.jobs} jobs`);
  });
});
