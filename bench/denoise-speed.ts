/**
 * Denoising speed against this machine's own ceiling, measured in the same run.
 *
 *   DNCNN_WEIGHTS_DIR=… FFDNET_WEIGHTS_DIR=… npx tsx bench/denoise-speed.ts \
 *     [--size 1024] [--tiles 768] [--threads 1,2] [--repeat 3] [--models blind,fast] [--skip-untiled]
 *
 * Ceilings, measured in the same run with the same thread count:
 * - the machine's FMA peak (the physical ceiling, used for the ratio): `bench/fma/peak.c`, compiled here
 *   with the system's C compiler (`CC`, default `cc`) for this CPU (-march=native: AVX-512 where present),
 *   independent fused multiply-adds on every thread, best of 5;
 * - a 2048×2048×2048 SGEMM (GEMM_N to change) through onnxruntime MatMul (2·n³ FLOP), best of 20, for
 *   comparison: what onnxruntime's own GEMM reaches (below its convolution kernels on an AVX-512 CPU).
 * Both are measured again after every model row (the highest value is used). Each model row reports
 * "useful" GFLOP/s, counting image pixels only (DnCNN 1.334 MFLOP per pixel: 20 3×3 convs with 64
 * features; FFDNet 0.4255 MFLOP per pixel: 12 3×3 convs with 96 features on a 2×2-subsampled image),
 * "computed" GFLOP/s (also the pixels overlapping tiles compute twice), and useful/FMA peak. Threads are
 * limited by onnxruntime's intraOpNumThreads (interOp 1, sequential); a ratio above 1 would mean a
 * wrong measurement. The load average is printed before and after: the machine is shared.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_ONNX_DIR, DEFAULT_WEIGHTS_DIR, type ModelKind } from '../models/catalog.ts';
import { ensureModels } from '../models/convert.ts';
import { encodeModel } from '../models/onnx-writer.ts';
import { ort } from '../models/ort.ts';
import { denoiseImage } from '../services/denoiser/inference/denoise.ts';
import { syntheticImage } from '../services/denoiser/inference/fixtures.ts';
import { createSession, geometryOf } from '../services/denoiser/inference/session.ts';
import { tilingOverhead } from '../services/denoiser/inference/tiled.ts';

const FLOP_PER_PIXEL: Partial<Record<ModelKind, number>> = { blind: 1.334e6, clip: 1.336e6, fast: 0.4255e6 };
const GEMM_N = Number(process.env.GEMM_N ?? 2048);

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1024' },
    tiles: { type: 'string', default: '768' },
    threads: { type: 'string', default: '1,2' },
    repeat: { type: 'string', default: '3' },
    models: { type: 'string', default: 'blind,fast' },
    'skip-untiled': { type: 'boolean', default: false },
    'onnx-dir': { type: 'string', default: DEFAULT_ONNX_DIR },
  },
});
const size = Number(values.size);
const repeat = Number(values.repeat);
const list = (text: string) => text.split(',').map(Number);
const models = values.models.split(',').filter((m): m is 'blind' | 'clip' | 'fast' => m in FLOP_PER_PIXEL);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function best(run: () => Promise<unknown>, times = repeat): Promise<number> {
  await run(); // warm-up
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await run();
    fastest = Math.min(fastest, (performance.now() - started) / 1000);
  }
  return fastest;
}

/** GFLOP/s of a large SGEMM through onnxruntime MatMul with `threads` intra-op threads. */
async function sgemmCeiling(threads: number, dir: string): Promise<number> {
  const path = join(dir, 'matmul.onnx');
  const bytes = encodeModel(
    {
      name: 'sgemm',
      doc: 'C = A·B',
      nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] }],
      initializers: [],
      inputs: [
        { name: 'a', dims: [GEMM_N, GEMM_N] },
        { name: 'b', dims: [GEMM_N, GEMM_N] },
      ],
      outputs: [{ name: 'c', dims: [GEMM_N, GEMM_N] }],
    },
    { producer: 'pixtools-bench', opset: 13, doc: 'SGEMM ceiling', metadata: {} },
  );
  await writeFile(path, bytes);
  const session = await createSession(path, { intraOpNumThreads: threads });
  const data = Float32Array.from({ length: GEMM_N * GEMM_N }, (_, i) => ((i * 7919) % 1000) / 1000);
  const a = new ort.Tensor('float32', data, [GEMM_N, GEMM_N]);
  const b = new ort.Tensor('float32', data.slice().reverse(), [GEMM_N, GEMM_N]);
  // Short runs, best of many: the ceiling takes the least-disturbed moment, so ratios err low.
  const seconds = await best(() => session.run({ a, b }), 20);
  await session.release();
  return (2 * GEMM_N ** 3) / seconds / 1e9;
}

/** Compiles the FMA-peak program for this CPU; null (with the reason printed) when there is no compiler. */
function buildFmaPeak(dir: string): string | null {
  const source = join(dirname(fileURLToPath(import.meta.url)), 'fma', 'peak.c');
  const binary = join(dir, 'fma-peak');
  const cc = process.env.CC ?? 'cc';
  try {
    execFileSync(cc, ['-O2', '-march=native', '-ffp-contract=fast', '-pthread', source, '-o', binary]);
    return binary;
  } catch (error) {
    console.log(
      `no FMA peak (${cc} failed: ${(error as Error).message.split('\n')[0]}); ratios use the SGEMM`,
    );
    return null;
  }
}

/** GFLOP/s of the FMA loop on `threads` threads, or null without the program. */
function fmaPeak(binary: string | null, threads: number): number | null {
  if (binary === null) return null;
  return Number(execFileSync(binary, [String(threads), '5'], { encoding: 'utf8' }).trim());
}

const scratch = await mkdtemp(join(tmpdir(), 'pixtools-speed-'));
const peakBinary = buildFmaPeak(scratch);
const paths = await ensureModels(
  {
    weightsDir: process.env.DNCNN_WEIGHTS_DIR ?? DEFAULT_WEIGHTS_DIR,
    ffdnetWeightsDir: process.env.FFDNET_WEIGHTS_DIR ?? DEFAULT_WEIGHTS_DIR,
    onnxDir: values['onnx-dir'],
  },
  { kinds: models },
);
const image = syntheticImage(size, size, 25, 1);
const megapixels = (size * size) / 1e6;
console.log(
  `${size}×${size} (${megapixels.toFixed(2)} MP) synthetic image, best of ${repeat}; load average ${load()}`,
);
console.log(
  'model  threads  tiling      overhead    s/MP  useful GFLOP/s  computed GFLOP/s    sgemm  fma peak  useful/peak',
);
for (const threads of list(values.threads)) {
  let sgemm = await sgemmCeiling(threads, scratch);
  let peak = fmaPeak(peakBinary, threads);
  for (const model of models) {
    const session = await createSession(paths[model], { intraOpNumThreads: threads });
    for (const tile of [...(values['skip-untiled'] ? [] : [size]), ...list(values.tiles)]) {
      const options = { model, sigma: 25, tileSize: tile } as const;
      const seconds = await best(() => denoiseImage(session, image, options));
      sgemm = Math.max(sgemm, await sgemmCeiling(threads, scratch));
      const again = fmaPeak(peakBinary, threads);
      if (peak !== null && again !== null) peak = Math.max(peak, again);
      const ceiling = peak ?? sgemm;
      const overhead = tilingOverhead(size, size, tile, geometryOf(model));
      const useful = ((FLOP_PER_PIXEL[model] ?? 0) * size * size) / seconds / 1e9;
      const label = tile >= size ? 'untiled' : `tile ${tile}`;
      console.log(
        `${model.padEnd(6)} ${String(threads).padStart(7)}  ${label.padEnd(10)} ${overhead.toFixed(3).padStart(8)} ` +
          `${(seconds / megapixels).toFixed(2).padStart(7)} ${useful.toFixed(1).padStart(15)} ` +
          `${(useful * overhead).toFixed(1).padStart(17)} ${sgemm.toFixed(1).padStart(8)} ` +
          `${(peak === null ? '-' : peak.toFixed(1)).padStart(9)} ` +
          `${(useful / ceiling).toFixed(2).padStart(12)}` +
          (useful > ceiling ? '  ← above the ceiling: a disturbed measurement (load), rerun' : ''),
      );
    }
    await session.release();
  }
  console.log(
    `${threads} thread(s): FMA peak ${peak === null ? 'not measured' : `${peak.toFixed(1)} GFLOP/s (the ceiling above)`}; SGEMM ${GEMM_N}³ ${sgemm.toFixed(1)} GFLOP/s`,
  );
}
console.log(`load average after: ${load()}`);
await rm(scratch, { recursive: true, force: true });
