/**
 * High-level denoising: 8-bit interleaved RGB in, 8-bit interleaved RGB out, through tiled
 * inference. Tiles are converted from and to 8 bits one at a time, so beyond the input and output
 * buffers (6 bytes per pixel) memory is bounded by the tile size, whatever the image size.
 */
import { ort } from '../../../models/ort.ts';
import type { Rgb8Image } from './image.ts';
import { estimateNoiseSigma } from './noise-estimate.ts';
import { type DenoiseModel, type DenoiseSession, geometryOf, needsSigma, takesSigma } from './session.ts';
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

/**
 * The session to run a tile with: a fixed one, or a chooser asked before every tile (the denoiser's
 * thread policy picks a 1- or 2-thread session per tile, see services/denoiser/threads.ts).
 */
export type SessionSource = DenoiseSession | (() => DenoiseSession | Promise<DenoiseSession>);

function checkSigma(sigma: number): number {
  if (!Number.isFinite(sigma) || sigma < 0 || sigma > MAX_SIGMA) {
    throw new RangeError(`sigma must be within 0..${MAX_SIGMA}, got ${sigma}`);
  }
  return sigma;
}

/** A TileRunner feeding a session; `sigma` (0–255) is required by every model but `blind`. */
export function modelRunner(source: SessionSource, model: DenoiseModel, sigma?: number): TileRunner {
  if (needsSigma(model) && sigma === undefined) throw new Error(`the ${model} model needs a sigma`);
  const sigmaTensor = needsSigma(model)
    ? new ort.Tensor('float32', Float32Array.of(checkSigma(sigma ?? 0)), [1])
    : null;
  const pick = typeof source === 'function' ? source : () => source;
  return async (tile) => {
    const session = await pick();
    if (takesSigma(session) !== needsSigma(model))
      throw new Error(`session does not hold a ${model} model (sigma input ${takesSigma(session)})`);
    const input = new ort.Tensor('float32', tile.data, [1, 3, tile.height, tile.width]);
    const outputs = await session.run(sigmaTensor ? { input, sigma: sigmaTensor } : { input });
    const output = outputs.output;
    if (!output || !(output.data instanceof Float32Array)) throw new Error('model returned no float output');
    return output.data;
  };
}

/**
 * Reads a window of an 8-bit interleaved image as a planar float tile in [0,1]. A window reaching past
 * the image (FFDNet's even-size padding) repeats the last row/column, as the authors' demo does.
 */
export function readTile8(image: Rgb8Image, { x, y }: TileWindow): PlanarImage {
  const plane = x.size * y.size;
  const data = new Float32Array(3 * plane);
  for (let row = 0; row < y.size; row++) {
    const rowStart = Math.min(y.start + row, image.height - 1) * image.width;
    for (let col = 0, to = row * x.size; col < x.size; col++, to++) {
      let from = (rowStart + Math.min(x.start + col, image.width - 1)) * 3;
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
  const height = target.length / (3 * width);
  for (let row = y.coreStart; row < Math.min(y.coreEnd, height); row++) {
    let to = (row * width + x.coreStart) * 3;
    let from = (row - y.start) * x.size + (x.coreStart - x.start);
    for (let col = x.coreStart; col < Math.min(x.coreEnd, width); col++, from++) {
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
  if (!needsSigma(options.model)) return undefined;
  return options.sigma === 'auto' ? autoSigma(image) : options.sigma;
}

/** Denoises an 8-bit interleaved RGB image; returns a new buffer of the same layout and size. */
export async function denoiseImage(
  session: SessionSource,
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
  const tileSize = options.tileSize ?? DEFAULT_TILE_SIZE;
  await runTiled(width, height, tileSize, io, run, options.onProgress, geometryOf(options.model));
  return output;
}

/** Denoises a planar float image in [0,1] (float output, not clipped): for tests and benchmarks. */
export async function denoisePlanar(
  session: DenoiseSession,
  image: PlanarImage,
  options: DenoiseOptions & { readonly sigma?: number },
): Promise<Float32Array> {
  const run = modelRunner(session, options.model, needsSigma(options.model) ? options.sigma : undefined);
  return inferPlanar(run, image, options.tileSize ?? DEFAULT_TILE_SIZE, geometryOf(options.model));
}
