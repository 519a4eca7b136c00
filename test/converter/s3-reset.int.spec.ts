import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { startProxy, type TcpProxy } from '../faults/support/proxy.ts';
import { type Harness, startHarness, waitFor } from '../support/harness.ts';
import { type ServiceProcess, spawnService } from '../support/processes.ts';

/** A noisy picture: its PNG is megabytes, so a transfer can be cut in the middle. */
async function noisyJpeg(): Promise<Buffer> {
  const width = 1200;
  const height = 900;
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) >>> 24;
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 95 })
    .toBuffer();
}

describe('a reset S3 connection mid-transfer', () => {
  let h: Harness;
  let s3: TcpProxy;
  let converter: ServiceProcess;
  before(async () => {
    h = await startHarness({ WORK_ACK_WAIT_MS: '10000' });
    h.start('planner', 'dispatcher', 'advisories', 'projections');
    const target = new URL(h.env.S3_ENDPOINT ?? '');
    s3 = await startProxy(Number(target.port));
    converter = spawnService('services/converter/main.ts', {
      ...h.env,
      S3_ENDPOINT: `http://127.0.0.1:${s3.port}`,
    });
    await converter.waitFor('converter consuming', 60_000);
  });
  after(async () => {
    await converter.kill('SIGTERM');
    await s3.close();
    await h.close();
  });

  it('does not kill the converter: the step is retried and the job completes', async () => {
    // The ZIP step streams the PNG output from S3: cut that download after 256 KiB.
    s3.resetResponse(/^GET \/[^ ]*outputs\/[^ ]*\/png\.png/, 256 * 1024);
    const response = await h.submit(await noisyJpeg(), 'noise.jpg', { operations: '["png","webp"]' });
    assert.equal(response.status, 202);
    const { job_id: jobId } = (await response.json()) as { job_id: string };
    const done = await waitFor(
      () => h.history(jobId),
      (events) => events.some((e) => e.type === 'JobCompleted' || e.type === 'JobFailed'),
      60_000,
    );
    assert.equal(s3.resets, 1, `the download was cut: ${JSON.stringify(done.map((e) => [e.type, e.data]))}`);
    assert.equal(converter.child.exitCode, null, `the converter died:\n${converter.output().slice(-2000)}`);
    const types = done.map((e) => e.type);
    assert.ok(types.includes('JobCompleted'), types.join(','));
    const retried = done.filter((e) => e.type === 'StepRetrying');
    assert.equal(retried.length, 1, 'the cut step was retried once');
  });
});
