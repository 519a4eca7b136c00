import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { encode, encoderSettings } from '../services/converter/convert/encode.ts';
import type { JobEvent } from '../shared/events/events.ts';
import { keys } from '../shared/storage/storage.ts';
import { type Harness, startHarness } from '../test/support/harness.ts';
import { cbsd68Dir } from './load/ceiling.ts';
import { percentile } from './stats.ts';

// The converter path against a plain sharp loop, on this machine, at the same concurrency:
//   npx tsx bench/convert.ts [jobs=24] [images=4]      (CBSD68_DIR: where the CBSD68 PNGs are)
// Service path: JobSubmitted → planner → RunStep on NATS → converter loop (S3 get, decode, orientation,
// metadata policy, encode, S3 put) → StepSucceeded → JobCompleted, with the harness's 4 converter slots.
// Plain path: sharp(buffer).rotate().webp(same settings).toBuffer() in 4 concurrent loops.
// Both run closed loops (a slot takes the next job when its last one finished) over the same 12 MP JPEGs.
const jobs = Number(process.argv[2] ?? 24);
const imageCount = Number(process.argv[3] ?? 4);
const CONCURRENCY = 4; // the harness runs the converter loop with 4 slots
const dir = cbsd68Dir();

/** A realistic 12 MP camera JPEG: a CBSD68 photo upscaled to 4000x3000 with sensor-like noise. */
async function twelveMegapixelJpeg(file: string): Promise<Buffer> {
  const noise = await sharp({
    create: {
      width: 4000,
      height: 3000,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 10 },
    },
  })
    .png()
    .toBuffer();
  return sharp(file)
    .resize(4000, 3000, { fit: 'fill' })
    .composite([{ input: noise, blend: 'soft-light' }])
    .jpeg({ quality: 92 })
    .toBuffer();
}

async function closedLoop(count: number, run: (index: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  const slot = async () => {
    for (let index = next++; index < count; index = next++) await run(index);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, slot));
  return (performance.now() - started) / 1000;
}

async function submit(h: Harness, image: Buffer, index: number): Promise<string> {
  const jobId = randomUUID();
  const key = keys.raw(jobId, 'jpg');
  await h.storage.put(key, image, 'image/jpeg');
  const source = { key, format: 'jpg' as const, bytes: image.length, width: 4000, height: 3000 };
  const data = {
    source: { ...source, originalName: `bench-${index}.jpg`, sha256: '0'.repeat(64) },
    operations: ['webp' as const],
    operationParams: {},
    pipeline: null,
    webhookUrl: null,
    requestId: `bench-${index}`,
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
  };
  const time = new Date().toISOString();
  await h.bus.log.append({ jobId, correlationId: jobId, causationId: null, time }, [
    { type: 'JobSubmitted', data },
  ]);
  return jobId;
}

async function untilDone(h: Harness, jobId: string): Promise<JobEvent[]> {
  for (;;) {
    const history = await h.history(jobId);
    if (history.some((event) => event.type === 'JobCompleted' || event.type === 'JobFailed')) return history;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const span = (history: JobEvent[], from: JobEvent['type'], to: JobEvent['type']) => {
  const a = history.find((event) => event.type === from)?.metadata.time;
  const b = history.find((event) => event.type === to)?.metadata.time;
  return a && b ? Date.parse(b) - Date.parse(a) : Number.NaN;
};

function psnr(a: Buffer, b: Buffer): number {
  let squared = 0;
  for (let i = 0; i < a.length; i++) squared += ((a[i] ?? 0) - (b[i] ?? 0)) ** 2;
  return 10 * Math.log10((255 * 255) / (squared / a.length));
}

async function avifSweep(image: Buffer): Promise<void> {
  const small = await sharp(image).resize(2000, 1500).jpeg({ quality: 92 }).toBuffer();
  const reference = await sharp(small).raw().toBuffer();
  console.log('\nAVIF effort sweep (3 MP, quality 50, one encode at a time; PSNR against the JPEG):');
  for (const effort of [0, 2, 3, 4]) {
    const started = performance.now();
    const out = await sharp(small).avif({ quality: 50, effort }).toBuffer();
    const ms = performance.now() - started;
    const db = psnr(reference, await sharp(out).raw().toBuffer()).toFixed(2);
    const kib = (out.length / 1024).toFixed(0).padStart(5);
    console.log(`  effort ${effort}: ${ms.toFixed(0).padStart(6)} ms  ${kib} KiB  ${db} dB`);
  }
}

const files = (await readdir(dir))
  .filter((name) => name.endsWith('.png'))
  .sort()
  .slice(0, imageCount);
if (files.length === 0) throw new Error(`no PNGs in ${dir} (set CBSD68_DIR)`);
console.log(`making ${files.length} 12 MP JPEGs from ${dir} …`);
const images: Buffer[] = [];
for (const file of files) images.push(await twelveMegapixelJpeg(path.join(dir, file)));
const imageAt = (index: number) => images[index % images.length] ?? Buffer.alloc(0);
const settings = encoderSettings('webp', 'convert');
console.log(
  `sharp ${sharp.versions.sharp}, libvips threads ${sharp.concurrency()}, ${jobs} jobs, concurrency ${CONCURRENCY}`,
);

// warm-up both paths once so neither pays first-use costs in the measurement
await encode(sharp(imageAt(0)).rotate(), settings).toBuffer();
const plainSeconds = await closedLoop(jobs, async (index) => {
  await encode(sharp(imageAt(index)).rotate(), settings).toBuffer();
});

const h = await startHarness({ LOG_LEVEL: 'warn' });
h.start('planner', 'dispatcher', 'advisories', 'converter');
await untilDone(h, await submit(h, imageAt(0), -1));
const histories: JobEvent[][] = [];
const serviceSeconds = await closedLoop(jobs, async (index) => {
  histories.push(await untilDone(h, await submit(h, imageAt(index), index)));
});
await h.close();

const failed = histories.filter((history) => history.some((event) => event.type === 'JobFailed')).length;
const latency = histories.map((history) => span(history, 'JobSubmitted', 'JobCompleted'));
const step = histories.map((history) => span(history, 'StepStarted', 'StepSucceeded'));
const plainRate = jobs / plainSeconds;
const serviceRate = jobs / serviceSeconds;
console.log(`\nplain sharp loop : ${plainRate.toFixed(2)} images/s  (${plainSeconds.toFixed(1)} s)`);
console.log(
  `service path     : ${serviceRate.toFixed(2)} images/s  (${serviceSeconds.toFixed(1)} s, ${failed} failed)`,
);
console.log(`ratio            : ${(serviceRate / plainRate).toFixed(3)} (goal ≥ 0.85)`);
const ms = (values: number[], p: number) => `${percentile(values, p).toFixed(0)} ms`;
console.log(
  `12 MP JPEG → WebP job latency  p50 ${ms(latency, 50)}  p95 ${ms(latency, 95)}  (JobSubmitted → JobCompleted)`,
);
console.log(
  `  of which the step itself     p50 ${ms(step, 50)}  p95 ${ms(step, 95)}  (StepStarted → StepSucceeded)`,
);
await avifSweep(imageAt(0));
