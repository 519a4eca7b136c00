/**
 * Denoising quality on CBSD68 with seeded Gaussian noise: mean PSNR per model and setting, and the
 * noise estimator's error. Not a test: prints a table.
 *
 *   CBSD68_DIR=… DNCNN_WEIGHTS_DIR=… npx tsx bench/denoise-quality.ts [--limit N] [--threads 2]
 *
 * Float rows: clean/255 + N(0,σ²/255²), neither clipped nor quantised (the DnCNN paper's protocol;
 * CDnCNN-B reports 33.89 / 31.23 / 27.92 dB). 8-bit rows: the same noise clipped to 0–255 and
 * rounded, as in a real file. PSNR is on 8-bit outputs (clipped, rounded) against the clean PNG.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_ONNX_DIR, DEFAULT_WEIGHTS_DIR } from '../models/catalog.ts';
import { ensureModels } from '../models/convert.ts';
import { autoSigma, denoiseImage, denoisePlanar } from '../services/denoiser/inference/denoise.ts';
import {
  addFloatNoise,
  addNoise8,
  listPngs,
  loadRgb8,
  planarToRgb8,
  psnr8,
} from '../services/denoiser/inference/fixtures.ts';
import { createSession } from '../services/denoiser/inference/session.ts';

const SIGMAS = [15, 25, 50] as const;
const ROWS = [
  ['noisy input (8-bit)', ''],
  ['blind, float noise', 'paper 33.89 / 31.23 / 27.92 (±0.05)'],
  ['blind, 8-bit noise', ''],
  ['clip, true sigma, 8-bit', ''],
  ['clip, sigma auto, 8-bit', '≥ blind / ≥31.0 / ≥27.5'],
  ['estimator |error| (mean)', ''],
  ['estimator error (max abs)', ''],
] as const;
type Row = (typeof ROWS)[number][0];

const { values } = parseArgs({
  options: {
    limit: { type: 'string' },
    threads: { type: 'string', default: '2' },
    'onnx-dir': { type: 'string', default: DEFAULT_ONNX_DIR },
  },
});
const datasetDir = process.env.CBSD68_DIR;
if (!datasetDir) throw new Error('set CBSD68_DIR to the CBSD68 folder (68 clean PNGs)');
const weightsDir = process.env.DNCNN_WEIGHTS_DIR ?? DEFAULT_WEIGHTS_DIR;
const paths = await ensureModels({ weightsDir, onnxDir: values['onnx-dir'] });
const threads = { intraOpNumThreads: Number(values.threads) };
const blind = await createSession(paths.blind, threads);
const clip = await createSession(paths.clip, threads);
const files = (await listPngs(datasetDir)).slice(0, values.limit ? Number(values.limit) : undefined);

const results = new Map<string, number[]>();
const record = (row: Row, sigma: number, value: number) => {
  const key = `${row}|${sigma}`;
  results.set(key, [...(results.get(key) ?? []), value]);
};

const started = performance.now();
for (const [index, file] of files.entries()) {
  const clean = await loadRgb8(file);
  for (const sigma of SIGMAS) {
    const seed = sigma * 1000 + index;
    const floatNoisy = addFloatNoise(clean, sigma, seed);
    const floatOut = await denoisePlanar(blind, floatNoisy, { model: 'blind' });
    record(
      'blind, float noise',
      sigma,
      psnr8(clean.data, planarToRgb8({ ...floatNoisy, data: floatOut }).data),
    );
    const noisy = addNoise8(clean, sigma, seed);
    record('noisy input (8-bit)', sigma, psnr8(clean.data, noisy.data));
    record(
      'blind, 8-bit noise',
      sigma,
      psnr8(clean.data, await denoiseImage(blind, noisy, { model: 'blind' })),
    );
    const truth = await denoiseImage(clip, noisy, { model: 'clip', sigma });
    record('clip, true sigma, 8-bit', sigma, psnr8(clean.data, truth));
    const estimate = autoSigma(noisy); // exactly what sigma: 'auto' uses
    record('estimator |error| (mean)', sigma, Math.abs(estimate - sigma));
    record('estimator error (max abs)', sigma, Math.abs(estimate - sigma));
    const auto = await denoiseImage(clip, noisy, { model: 'clip', sigma: estimate });
    record('clip, sigma auto, 8-bit', sigma, psnr8(clean.data, auto));
  }
  const elapsed = (performance.now() - started) / 1000;
  process.stderr.write(`\r${index + 1}/${files.length} images, ${elapsed.toFixed(0)} s`);
}
process.stderr.write('\n');

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const cell = (row: Row, sigma: number) => {
  const xs = results.get(`${row}|${sigma}`) ?? [];
  const value = row === 'estimator error (max abs)' ? Math.max(...xs) : mean(xs);
  return value.toFixed(row.startsWith('estimator') ? 2 : 2).padStart(8);
};
console.log(`CBSD68, ${files.length} images, seeded noise; PSNR in dB (estimator rows: sigma units)`);
console.log(`${'setting'.padEnd(28)}${SIGMAS.map((s) => `σ=${s}`.padStart(8)).join('')}   goal`);
for (const [row, goal] of ROWS) {
  console.log(`${row.padEnd(28)}${SIGMAS.map((s) => cell(row, s)).join('')}   ${goal}`);
}
console.log(
  `total ${((performance.now() - started) / 1000).toFixed(0)} s, ${threads.intraOpNumThreads} threads`,
);
