/**
 * High-level denoising: 8-bit interleaved RGB in, 8-bit interleaved RGB out, through tiled
 * inference. Tiles are converted from and to 8 bits one at a time, so beyond the input and output
 * buffers (6 bytes per pixel) memory is bounded by the tile size, whatever the image size.
 */
import * as ort from 'onnxruntime-node';
import type { Rgb8Image } from './image.ts';
import { estimateNoiseSigma } from './noise-estimate.ts';
import { type DenoiseModel, type DenoiseSession, sessionModel } from './session.ts';
import {
  inferPlanar,
  type PlanarImage,
  runTiled,
  type TileProgress,
  type TileRunner,
  type TileWindow,
} from './tiled.ts';

export type { Rgb8Image } from './image.ts';

export const DEFAULT_TILE_SIZE = 512;
/** The flexible model was trained for noise levels 0–75 (on the 0–255 scale). */
export const MAX_SIGMA = 75;

export interface DenoiseOptions {
  readonly model: DenoiseModel;
  /** Noise level on the 0–255 scale, or 'auto' to estimate it. Required by 'clip', ignored by 'blind'. */
  readonly sigma?: number | 'auto';
  /** Largest tile edge in pixels, margins included (> 40). Default 512. */
  readonly tileSize?: number;
  /** Called after each tile (e.g. to heartbeat a long step); 24 MP at 512 px is ~80 tiles. */
  readonly onProgress?: TileProgress;
}

function checkSigma(sigma: number): number {
  if (!Number.isFinite(sigma) || sigma < 0 || sigma > MAX_SIGMA) {
    throw new RangeError(`sigma must be within 0..${MAX_SIGMA}, got ${sigma}`);
  }
  return sigma;
}

/** A TileRunner feeding one session; `sigma` (0–255) is required for the clip model. */
export function modelRunner(session: DenoiseSession, model: DenoiseModel, sigma?: number): TileRunner {
  if (sessionModel(session) !== model)
    throw new Error(`session holds the ${sessionModel(session)} model, not ${model}`);
  if (model === 'clip' && sigma === undefined) throw new Error('the clip model needs a sigma');
  const sigmaTensor =
    model === 'clip' ? new ort.Tensor('float32', Float32Array.of(checkSigma(sigma ?? 0)), [1]) : null;
  return async (tile) => {
    const input = new ort.Tensor('float32', tile.data, [1, 3, tile.height, tile.width]);
    const outputs = await session.run(sigmaTensor ? { input, sigma: sigmaTensor } : { input });
    const output = outputs.output;
    if (!output || !(output.data instanceof Float32Array)) throw new Error('model returned no float output');
    return output.data;
  };
}

/** Reads a window of an 8-bit interleaved image as a planar float tile in [0,1]. */
export function readTile8(image: Rgb8Image, { x, y }: TileWindow): PlanarImage {
  const plane = x.size * y.size;
  const data = new Float32Array(3 * plane);
  for (let row = 0; row < y.size; row++) {
    let from = ((y.start + row) * image.width + x.start) * 3;
    for (let col = 0, to = row * x.size; col < x.size; col++, to++) {
      data[to] = (image.data[from++] ?? 0) / 255;
      data[to + plane] = (image.data[from++] ?? 0) / 255;
      data[to + 2 * plane] = (image.data[from++] ?? 0) / 255;
    }
  }
  return { data, width: x.size, height: y.size };
}

/** Clips to [0,1], scales to 0–255 and rounds half up. */
export function toByte(value: number): number {
  return Math.floor(Math.min(1, Math.max(0, value)) * 255 + 0.5);
}

/** Writes a tile's core, as 8-bit interleaved RGB, into an image buffer of the given width. */
export function writeCore8(
  target: Uint8Array,
  width: number,
  tile: Float32Array,
  { x, y }: TileWindow,
): void {
  const plane = x.size * y.size;
  for (let row = y.coreStart; row < y.coreEnd; row++) {
    let to = (row * width + x.coreStart) * 3;
    let from = (row - y.start) * x.size + (x.coreStart - x.start);
    for (let col = x.coreStart; col < x.coreEnd; col++, from++) {
      target[to++] = toByte(tile[from] ?? 0);
      target[to++] = toByte(tile[from + plane] ?? 0);
      target[to++] = toByte(tile[from + 2 * plane] ?? 0);
    }
  }
}

/** The sigma that `sigma: 'auto'` uses: the estimate, capped at the model's range. */
export function autoSigma(image: Rgb8Image): number {
  return Math.min(MAX_SIGMA, estimateNoiseSigma(image));
}

function resolveSigma(image: Rgb8Image, options: DenoiseOptions): number | undefined {
  if (options.model === 'blind') return undefined;
  return options.sigma === 'auto' ? autoSigma(image) : options.sigma;
}

/** Denoises an 8-bit interleaved RGB image; returns a new buffer of the same layout and size. */
export async function denoiseImage(
  session: DenoiseSession,
  image: Rgb8Image,
  options: DenoiseOptions,
): Promise<Buffer> {
  const { width, height, data } = image;
  if (data.length !== width * height * 3)
    throw new RangeError(`expected ${width}×${height}×3 bytes, got ${data.length}`);
  const run = modelRunner(session, options.model, resolveSigma(image, options));
  const output = Buffer.alloc(data.length);
  const io = {
    read: (window: TileWindow) => readTile8(image, window),
    write: (tile: Float32Array, window: TileWindow) => writeCore8(output, width, tile, window),
  };
  await runTiled(width, height, options.tileSize ?? DEFAULT_TILE_SIZE, io, run, options.onProgress);
  return output;
}

/** Denoises a planar float image in [0,1] (float output, not clipped): for tests and benchmarks. */
export async function denoisePlanar(
  session: DenoiseSession,
  image: PlanarImage,
  options: DenoiseOptions & { readonly sigma?: number },
): Promise<Float32Array> {
  const run = modelRunner(session, options.model, options.model === 'clip' ? options.sigma : undefined);
  return inferPlanar(run, image, options.tileSize ?? DEFAULT_TILE_SIZE);
}
