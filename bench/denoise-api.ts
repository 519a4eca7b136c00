/**
 * Issue 12's end-to-end goals, through the HTTP API of the real system (every service its own process,
 * fresh namespace, database and bucket, as in the e2e tests):
 *   1. a 12 MP photo denoised with `model: fast` in ≤ 60 s (submit → COMPLETED);
 *   2. a 1600×630 WebP conversion submitted meanwhile completes within 2× its idle latency.
 *
 *   DNCNN_WEIGHTS_DIR=… FFDNET_WEIGHTS_DIR=… npx tsx bench/denoise-api.ts \
 *     [--width 4000] [--height 3000] [--model fast] [--format webp] [--idle 5] [--max-threads 2]
 *
 * Latency = submit until the job body says COMPLETED (polled every 50 ms). The conversion ratio uses the
 * medians of the same run. The machine is shared: the load average is printed with the figures.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { syntheticImage } from '../services/denoiser/inference/fixtures.ts';
import { startSystem } from '../test/support/system.ts';
import { percentile, summary } from './stats.ts';

const { values } = parseArgs({
  options: {
    width: { type: 'string', default: '4000' },
    height: { type: 'string', default: '3000' },
    model: { type: 'string', default: 'fast' },
    format: { type: 'string', default: 'webp' },
    idle: { type: 'string', default: '5' },
    'max-threads': { type: 'string', default: '2' },
  },
});
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const system = await startSystem({ DENOISER_MAX_THREADS: values['max-threads'], DENOISER_THREADS: '1' });
type Job = { status: string; steps: { operation: string; status: string; progress: unknown }[] };

async function submit(file: Buffer, name: string, operations: string, params?: object): Promise<string> {
  const form = new FormData();
  form.set('file', new File([new Uint8Array(file)], name));
  form.set('operations', operations);
  if (params) form.set('operation_params', JSON.stringify(params));
  const response = await fetch(`${system.url}/api/process`, { method: 'POST', body: form });
  if (response.status !== 202) throw new Error(`submit ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { job_id: string }).job_id;
}

async function job(id: string): Promise<Job> {
  return (await (await fetch(`${system.url}/api/jobs/${id}`)).json()) as Job;
}

async function completion(id: string, timeoutMs = 900_000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const { status } = await job(id);
    if (status === 'COMPLETED') return performance.now() - started;
    if (status === 'FAILED') throw new Error(`job ${id} failed`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`job ${id} did not complete in ${timeoutMs} ms`);
}

async function convertOnce(source: Buffer): Promise<number> {
  const started = performance.now();
  const id = await submit(source, 'banner.png', '["webp"]');
  await completion(id);
  return performance.now() - started;
}

try {
  const banner = syntheticImage(1600, 630, 5, 11);
  const bannerPng = await sharp(banner.data, { raw: { width: 1600, height: 630, channels: 3 } })
    .png()
    .toBuffer();
  const width = Number(values.width);
  const height = Number(values.height);
  const photo = syntheticImage(width, height, 15, 12);
  const photoJpg = await sharp(photo.data, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 92 })
    .toBuffer();
  console.log(`load average at start: ${load()}`);

  await convertOnce(bannerPng); // warm-up
  const idle: number[] = [];
  for (let i = 0; i < Number(values.idle); i++) idle.push(await convertOnce(bannerPng));

  const params = { denoise: { model: values.model, format: values.format } };
  const started = performance.now();
  const denoiseId = await submit(photoJpg, 'photo.jpg', '["denoise"]', params);
  const done = completion(denoiseId);
  let finished = false;
  void done.then(() => {
    finished = true;
  });
  const busy: number[] = [];
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  while (!finished) {
    busy.push(await convertOnce(bannerPng));
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
  const denoiseMs = await done;
  const total = performance.now() - started;
  const ratio = percentile(busy, 50) / percentile(idle, 50);
  console.log(
    `${width}×${height} (${((width * height) / 1e6).toFixed(1)} MP) denoise, model ${values.model}, ` +
      `format ${values.format}, DENOISER_MAX_THREADS=${values['max-threads']}: ` +
      `${(denoiseMs / 1000).toFixed(1)} s submit→COMPLETED (goal ≤ 60 s; wall ${(total / 1000).toFixed(1)} s)`,
  );
  console.log(`1600×630 WebP conversion, idle: ${summary(idle)}`);
  console.log(`1600×630 WebP conversion while denoising: ${summary(busy)}`);
  console.log(`ratio of medians busy/idle: ${ratio.toFixed(2)} (goal ≤ 2)`);
  console.log(`load average at end: ${load()}`);
} finally {
  await system.stop();
}
