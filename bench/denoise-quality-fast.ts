/**
 * FFDNet (`fast`) quality on CBSD68 beside the clip DnCNN, same seeds as bench/denoise-quality.ts.
 * Not a test: prints a table and the default-model decision of issue 12.
 *
 *   CBSD68_DIR=… DNCNN_WEIGHTS_DIR=… FFDNET_WEIGHTS_DIR=… npx tsx bench/denoise-quality-fast.ts \
 *     [--limit N] [--threads 2] [--no-dncnn]
 *
 * Float rows: clean/255 + N(0,σ²/255²), neither clipped nor quantised (the paper's protocol; FFDNet
 * reports 33.87 / 31.21 / 27.96 dB on CBSD68), run through FFDNet trained on unclipped noise
 * (`fast-float`) with the true σ. 8-bit rows: the same noise clipped to 0–255 and rounded, as in a
 * real file, with σ `auto` (the estimator the service uses). PSNR on 8-bit outputs.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_ONNX_DIR, DEFAULT_WEIGHTS_DIR, type ModelKind } from '../models/catalog.ts';
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
const PAPER: Record<number, number> = { 15: 33.87, 25: 31.21, 50: 27.96 };

const { values } = parseArgs({
  options: {
    limit: { type: 'string' },
    threads: { type: 'string', default: '2' },
    'no-dncnn': { type: 'boolean', default: false },
    'onnx-dir': { type: 'string', default: DEFAULT_ONNX_DIR },
  },
});
const datasetDir = process.env.CBSD68_DIR;
if (!datasetDir) throw new Error('set CBSD68_DIR to the CBSD68 folder (68 clean PNGs)');
const withDncnn = !values['no-dncnn'];
const kinds: ModelKind[] = withDncnn ? ['fast', 'fast-float', 'clip'] : ['fast', 'fast-float'];
const paths = await ensureModels(
  {
    weightsDir: process.env.DNCNN_WEIGHTS_DIR ?? DEFAULT_WEIGHTS_DIR,
    ffdnetWeightsDir: process.env.FFDNET_WEIGHTS_DIR ?? DEFAULT_WEIGHTS_DIR,
    onnxDir: values['onnx-dir'],
  },
  { kinds },
);
const threads = { intraOpNumThreads: Number(values.threads) };
const fast = await createSession(paths.fast, threads);
const fastFloat = await createSession(paths['fast-float'], threads);
const clip = withDncnn ? await createSession(paths.clip, threads) : null;
const files = (await listPngs(datasetDir)).slice(0, values.limit ? Number(values.limit) : undefined);

type Row = 'fast-float, float noise, true σ' | 'fast, σ auto, 8-bit' | 'clip (DnCNN), σ auto, 8-bit';
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
    const floatOut = await denoisePlanar(fastFloat, floatNoisy, { model: 'fast-float', sigma });
    const floatPsnr = psnr8(clean.data, planarToRgb8({ ...floatNoisy, data: floatOut }).data);
    record('fast-float, float noise, true σ', sigma, floatPsnr);
    const noisy = addNoise8(clean, sigma, seed);
    const estimate = autoSigma(noisy); // exactly what sigma: 'auto' uses
    const out = await denoiseImage(fast, noisy, { model: 'fast', sigma: estimate });
    record('fast, σ auto, 8-bit', sigma, psnr8(clean.data, out));
    if (clip !== null) {
      const reference = await denoiseImage(clip, noisy, { model: 'clip', sigma: estimate });
      record('clip (DnCNN), σ auto, 8-bit', sigma, psnr8(clean.data, reference));
    }
  }
  const elapsed = (performance.now() - started) / 1000;
  process.stderr.write(`\r${index + 1}/${files.length} images, ${elapsed.toFixed(0)} s`);
}
process.stderr.write('\n');

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const value = (row: Row, sigma: number) => mean(results.get(`${row}|${sigma}`) ?? []);
const line = (label: string, cells: readonly string[]) =>
  console.log(`${label.padEnd(34)}${cells.map((c) => c.padStart(9)).join('')}`);
console.log(`CBSD68, ${files.length} images, seeded noise; mean PSNR in dB`);
line(
  'setting',
  SIGMAS.map((s) => `σ=${s}`),
);
line(
  'paper (FFDNet, float noise)',
  SIGMAS.map((s) => (PAPER[s] ?? 0).toFixed(2)),
);
const rows: Row[] = ['fast-float, float noise, true σ', 'fast, σ auto, 8-bit'];
if (clip !== null) rows.push('clip (DnCNN), σ auto, 8-bit');
for (const row of rows)
  line(
    row,
    SIGMAS.map((s) => value(row, s).toFixed(2)),
  );
line(
  'float − paper',
  SIGMAS.map((s) => (value('fast-float, float noise, true σ', s) - (PAPER[s] ?? 0)).toFixed(3)),
);
if (clip !== null) {
  const gaps = SIGMAS.map((s) => value('clip (DnCNN), σ auto, 8-bit', s) - value('fast, σ auto, 8-bit', s));
  line(
    'clip − fast (8-bit, σ auto)',
    gaps.map((g) => g.toFixed(3)),
  );
  const ok = gaps.every((g) => g <= 0.1);
  console.log(
    `fast within 0.1 dB of clip at every σ: ${ok ? 'yes' : 'no'} → default model: ${ok ? 'fast' : 'unchanged'}`,
  );
}
console.log(
  `total ${((performance.now() - started) / 1000).toFixed(0)} s, ${threads.intraOpNumThreads} threads`,
);
