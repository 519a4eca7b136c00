/**
 * Peak memory of denoising a synthetic 24-megapixel photo (6000×4000) through the production code
 * path (denoiseImage: 8-bit in, tiled inference, 8-bit out). Goal: peak RSS < 1 GB.
 *
 *   DNCNN_WEIGHTS_DIR=… npx tsx bench/denoise-memory.ts [--model clip|blind] [--tile 512]
 *     [--threads 2] [--width 6000 --height 4000] [--no-arena]
 */
import { parseArgs } from 'node:util';
import { DEFAULT_ONNX_DIR, DEFAULT_WEIGHTS_DIR } from '../models/catalog.ts';
import { ensureModels } from '../models/convert.ts';
import { DEFAULT_TILE_SIZE, denoiseImage } from '../services/denoiser/inference/denoise.ts';
import { syntheticImage } from '../services/denoiser/inference/fixtures.ts';
import { createSession } from '../services/denoiser/inference/session.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'clip' },
    tile: { type: 'string', default: String(DEFAULT_TILE_SIZE) },
    threads: { type: 'string', default: '2' },
    width: { type: 'string', default: '6000' },
    height: { type: 'string', default: '4000' },
    'no-arena': { type: 'boolean', default: false },
    'onnx-dir': { type: 'string', default: DEFAULT_ONNX_DIR },
  },
});
const model = values.model === 'blind' ? 'blind' : 'clip';
const [width, height, tileSize] = [Number(values.width), Number(values.height), Number(values.tile)];
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const peak = () => process.resourceUsage().maxRSS * 1024; // maxRSS is in KiB

const paths = await ensureModels({
  weightsDir: process.env.DNCNN_WEIGHTS_DIR ?? DEFAULT_WEIGHTS_DIR,
  onnxDir: values['onnx-dir'],
});
const session = await createSession(paths[model], {
  intraOpNumThreads: Number(values.threads),
  enableCpuMemArena: !values['no-arena'],
});
const image = syntheticImage(width, height, 25, 24);
const before = process.memoryUsage().rss;
console.log(
  `${width}×${height} (${((width * height) / 1e6).toFixed(1)} MP), model ${model}, tile ${tileSize}`,
);
console.log(`RSS with session and 8-bit input loaded: ${mb(before)} (peak so far ${mb(peak())})`);

const started = performance.now();
const output = await denoiseImage(session, image, { model, sigma: 'auto', tileSize });
const seconds = (performance.now() - started) / 1000;

console.log(`denoised in ${seconds.toFixed(1)} s (${(seconds / ((width * height) / 1e6)).toFixed(2)} s/MP)`);
console.log(`output ${mb(output.length)}; RSS now ${mb(process.memoryUsage().rss)}`);
console.log(`peak RSS (process.resourceUsage().maxRSS): ${mb(peak())}  goal < 1024 MB`);
