/**
 * Denoising speed: seconds per megapixel and achieved GFLOP/s for 1 and 2 intra-op threads,
 * untiled and with several tile sizes, through denoiseImage (8-bit in/out, the production path).
 *
 *   DNCNN_WEIGHTS_DIR=… npx tsx bench/denoise-speed.ts [--size 1024] [--tiles 256,384,512]
 *     [--threads 1,2] [--repeat 2] [--model blind|clip] [--skip-untiled]
 *
 * DnCNN costs 1.334 MFLOP per pixel (20 3×3 convolutions, 64 features; a multiply-add = 2 FLOP).
 * "useful" GFLOP/s counts image pixels only; "computed" also counts the pixels that overlapping
 * tiles process twice (the tiling overhead factor).
 */
import { parseArgs } from 'node:util';
import { DEFAULT_ONNX_DIR, DEFAULT_WEIGHTS_DIR } from '../models/catalog.ts';
import { ensureModels } from '../models/convert.ts';
import { denoiseImage } from '../services/denoiser/inference/denoise.ts';
import { syntheticImage } from '../services/denoiser/inference/fixtures.ts';
import { createSession } from '../services/denoiser/inference/session.ts';
import { tilingOverhead } from '../services/denoiser/inference/tiled.ts';

const FLOP_PER_PIXEL = 1.334e6;

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1024' },
    tiles: { type: 'string', default: '256,384,512' },
    threads: { type: 'string', default: '1,2' },
    repeat: { type: 'string', default: '2' },
    model: { type: 'string', default: 'blind' },
    'skip-untiled': { type: 'boolean', default: false },
    'onnx-dir': { type: 'string', default: DEFAULT_ONNX_DIR },
  },
});
const size = Number(values.size);
const model = values.model === 'clip' ? 'clip' : 'blind';
const list = (text: string) => text.split(',').map(Number);
const paths = await ensureModels({
  weightsDir: process.env.DNCNN_WEIGHTS_DIR ?? DEFAULT_WEIGHTS_DIR,
  onnxDir: values['onnx-dir'],
});
const image = syntheticImage(size, size, 25, 1);
const megapixels = (size * size) / 1e6;

console.log(
  `${model} model, ${size}×${size} (${megapixels.toFixed(2)} MP) synthetic image, best of ${values.repeat}`,
);
console.log('threads  tiling      overhead   s/MP   useful GFLOP/s   computed GFLOP/s');
for (const threads of list(values.threads)) {
  const session = await createSession(paths[model], { intraOpNumThreads: threads });
  for (const tile of [...(values['skip-untiled'] ? [] : [size]), ...list(values.tiles)]) {
    const options = { model, sigma: 25, tileSize: tile } as const;
    await denoiseImage(session, syntheticImage(128, 128, 25, 2), options); // warm-up
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < Number(values.repeat); i++) {
      const started = performance.now();
      await denoiseImage(session, image, options);
      best = Math.min(best, (performance.now() - started) / 1000);
    }
    const overhead = tilingOverhead(size, size, tile);
    const useful = (FLOP_PER_PIXEL * size * size) / best / 1e9;
    const label = tile >= size ? 'untiled' : `tile ${tile}`;
    console.log(
      `${String(threads).padStart(7)}  ${label.padEnd(10)} ${overhead.toFixed(3).padStart(8)} ${(best / megapixels).toFixed(2).padStart(6)}` +
        `${useful.toFixed(0).padStart(17)}${(useful * overhead).toFixed(0).padStart(19)}`,
    );
  }
  await session.release();
}
