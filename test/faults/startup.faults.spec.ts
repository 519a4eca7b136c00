import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { supervise } from '../../scripts/supervise.ts';
import { deleteStreams, freshEnv } from '../support/env.ts';
import { TEST_S3_ENDPOINT } from '../support/moto.ts';
import { type ServiceProcess, spawnService } from '../support/processes.ts';
import { startProxy, type TcpProxy } from './support/proxy.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('start-up while dependencies are down', () => {
  let nats: TcpProxy;
  let s3: TcpProxy;
  let converter: ServiceProcess | null = null;
  let env: Record<string, string>;
  before(async () => {
    nats = await startProxy(Number(new URL(process.env.NATS_URL ?? 'nats://127.0.0.1:4222').port || 4222));
    s3 = await startProxy(Number(new URL(TEST_S3_ENDPOINT).port));
    env = freshEnv({ NATS_URL: `nats://127.0.0.1:${nats.port}`, S3_ENDPOINT: `http://127.0.0.1:${s3.port}` });
  });
  after(async () => {
    await converter?.kill('SIGTERM');
    await nats.close();
    await s3.close();
    await deleteStreams(env.PIXTOOLS_NS ?? '');
  });

  it('a service waits for NATS and S3 instead of exiting, then starts when they are back', async () => {
    nats.down();
    s3.down();
    converter = spawnService('services/converter/main.ts', env);
    await converter.waitFor('not ready yet; retrying', 30_000);
    await sleep(3000);
    assert.equal(converter.child.exitCode, null, `exited:\n${converter.output()}`);
    s3.up(); // now it waits for NATS
    await sleep(3000);
    assert.equal(converter.child.exitCode, null, `exited:\n${converter.output()}`);
    assert.ok(!converter.output().includes('converter consuming'));
    nats.up();
    await converter.waitFor('converter consuming', 60_000);
  });
});

describe('the npm start supervisor', () => {
  it('restarts a SIGKILLed service within seconds, says so, and leaves the others running', async () => {
    const lines: string[] = [];
    const forever = `exec node -e "setInterval(() => {}, 1000)"`;
    const supervisor = supervise(
      [
        { name: 'one', command: forever },
        { name: 'two', command: forever },
      ],
      { env: process.env, write: (line) => lines.push(line) },
    );
    try {
      await sleep(500);
      const one = supervisor.running.get('one')?.pid;
      const two = supervisor.running.get('two')?.pid;
      assert.ok(one !== undefined && two !== undefined);
      process.kill(one, 'SIGKILL');
      const deadline = Date.now() + 5000;
      while (supervisor.running.get('one')?.pid === one || !supervisor.running.has('one')) {
        assert.ok(Date.now() < deadline, `not restarted:\n${lines.join('\n')}`);
        await sleep(100);
      }
      assert.equal(supervisor.running.get('two')?.pid, two, 'the other service kept running');
      const log = lines.join('\n');
      assert.match(log, new RegExp(`one \\(pid ${one}\\) exited with SIGKILL: restarting in 1 s`));
      assert.match(log, /one restarted \(pid \d+\)/);
    } finally {
      supervisor.stop();
      await supervisor.finished;
    }
  });
});
