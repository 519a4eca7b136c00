/**
 * Helpers shared by the inference tests and the denoise benchmarks: image loading, seeded Gaussian
 * noise and PSNR. Deterministic: the same seed gives the same noise on every machine.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ensureModels } from '../../../models/convert.ts';
import { toByte } from './denoise.ts';
import type { Rgb8Image } from './image.ts';
import { createSession, type DenoiseSession } from './session.ts';
import type { PlanarImage } from './tiled.ts';

/** A directory named by an environment variable; throws (failing the test) when unset or missing. */
export function requireEnvDir(name: string, what: string): string {
  const dir = process.env[name];
  if (!dir) throw new Error(`${name} is not set: point it at ${what}`);
  if (!existsSync(dir)) throw new Error(`${name}=${dir} does not exist (expected ${what})`);
  return dir;
}

/** Memoises an async loader: the first caller starts it, later callers share its result (or error). */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load();
    return loading;
  };
}

export interface ConvertedModels {
  readonly blind: DenoiseSession;
  readonly clip: DenoiseSession;
  readonly dispose: () => Promise<void>;
}

/** Converts both .mat files of `weightsDir` into a fresh temporary folder and opens them. */
export async function convertAndOpen(weightsDir: string, intraOpNumThreads = 2): Promise<ConvertedModels> {
  const onnxDir = await mkdtemp(join(tmpdir(), 'pixtools-dncnn-'));
  const paths = await ensureModels({ weightsDir, onnxDir }, { kinds: ['blind', 'clip'] });
  const blind = await createSession(paths.blind, { intraOpNumThreads });
  const clip = await createSession(paths.clip, { intraOpNumThreads });
  const dispose = async () => {
    await Promise.all([blind.release(), clip.release()]);
    await rm(onnxDir, { recursive: true, force: true });
  };
  return { blind, clip, dispose };
}

export async function loadRgb8(path: string): Promise<Rgb8Image> {
  const { data, info } = await sharp(path)
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`${path}: expected 3 channels, got ${info.channels}`);
  return { data, width: info.width, height: info.height };
}

/** The PNG files of a directory, sorted by name. */
export async function listPngs(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((name) => name.toLowerCase().endsWith('.png')).sort();
  return names.map((name) => join(dir, name));
}

/** mulberry32: a small, fast, seedable 32-bit PRNG returning numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box–Muller), deterministic for a seed. */
export function seededGaussian(seed: number): () => number {
  const uniform = seededRandom(seed);
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const u = 1 - uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const phi = 2 * Math.PI * uniform();
    spare = r * Math.sin(phi);
    return r * Math.cos(phi);
  };
}

/** A deterministic synthetic test card: gradients, stripes and a disc, plus clipped noise. */
export function syntheticImage(width: number, height: number, sigma: number, seed: number): Rgb8Image {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const disc = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (height / 3) ** 2;
      const i = (y * width + x) * 3;
      data[i] = Math.round((255 * x) / width);
      data[i + 1] = disc ? 220 : Math.round((255 * y) / height);
      data[i + 2] = (Math.floor(x / 8) + Math.floor(y / 8)) % 2 === 0 ? 40 : 200;
    }
  }
  return addNoise8({ data, width, height }, sigma, seed);
}

/** Planar float [0,1] copy of an 8-bit image. */
export function toPlanar(image: Rgb8Image): PlanarImage {
  const plane = image.width * image.height;
  const data = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++)
    for (let c = 0; c < 3; c++) data[c * plane + i] = (image.data[i * 3 + c] ?? 0) / 255;
  return { data, width: image.width, height: image.height };
}

/** clean/255 + N(0, (sigma/255)²) as planar float, neither clipped nor quantised. */
export function addFloatNoise(clean: Rgb8Image, sigma: number, seed: number): PlanarImage {
  const planar = toPlanar(clean);
  const gaussian = seededGaussian(seed);
  for (let i = 0; i < planar.data.length; i++)
    planar.data[i] = (planar.data[i] ?? 0) + (sigma / 255) * gaussian();
  return planar;
}

/** clean + N(0, sigma²), clipped to 0–255 and rounded: what a real 8-bit noisy file holds. */
export function addNoise8(clean: Rgb8Image, sigma: number, seed: number): Rgb8Image {
  const gaussian = seededGaussian(seed);
  const data = Buffer.alloc(clean.data.length);
  for (let i = 0; i < data.length; i++) {
    data[i] = Math.min(255, Math.max(0, Math.round((clean.data[i] ?? 0) + sigma * gaussian())));
  }
  return { ...clean, data };
}

/** Planar float output → 8-bit interleaved, clipped and rounded half up (MATLAB im2uint8). */
export function planarToRgb8(planar: PlanarImage): Rgb8Image {
  const plane = planar.width * planar.height;
  const data = Buffer.alloc(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      data[i * 3 + c] = toByte(planar.data[c * plane + i] ?? 0);
    }
  }
  return { data, width: planar.width, height: planar.height };
}

/** PSNR in dB between two 8-bit buffers of equal length (peak 255). */
export function psnr8(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError('PSNR of buffers of different sizes');
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += ((a[i] ?? 0) - (b[i] ?? 0)) ** 2;
  return 10 * Math.log10((255 * 255) / (sum / a.length));
}
