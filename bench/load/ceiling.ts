import { readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';

/** The reference workload: a 1600×630 photographic PNG, converted to WebP quality 80. */
export const WIDTH = 1600;
export const HEIGHT = 630;
export const QUALITY = 80;

/** A CBSD68 photo stretched to 1600×630 (fit `fill`), encoded as PNG once, in memory. */
export async function referencePng(dir: string, name?: string): Promise<{ file: string; png: Buffer }> {
  const files = (await readdir(dir)).filter((entry) => entry.endsWith('.png')).sort();
  const file = name ?? files[0];
  if (file === undefined) throw new Error(`no PNGs in ${dir} (set CBSD68_DIR)`);
  const png = await sharp(path.join(dir, file)).resize(WIDTH, HEIGHT, { fit: 'fill' }).png().toBuffer();
  return { file, png };
}

const encode = (png: Buffer) => sharp(png).webp({ quality: QUALITY }).toBuffer();

/**
 * Plain sharp's rate on the reference workload in this process: `concurrency` closed loops of
 * `sharp(png).webp({ quality: 80 }).toBuffer()` for about `seconds`, in images per second.
 */
export async function plainSharpRate(png: Buffer, concurrency: number, seconds: number): Promise<number> {
  await encode(png); // first-use costs (libvips init, codec tables) stay out of the figure
  const started = performance.now();
  const until = started + seconds * 1000;
  let done = 0;
  const loop = async () => {
    while (performance.now() < until) {
      await encode(png);
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return done / ((performance.now() - started) / 1000);
}

export type Ceiling = Readonly<{ c1: number; c2: number }>;

export async function measureCeiling(png: Buffer, seconds: number): Promise<Ceiling> {
  const c1 = await plainSharpRate(png, 1, seconds);
  const c2 = await plainSharpRate(png, 2, seconds);
  return { c1, c2 };
}

/** The CBSD68 folder, from `CBSD68_DIR` only (the npm scripts set it to the shared data set beside the checkout). */
export function cbsd68Dir(): string {
  const dir = process.env.CBSD68_DIR;
  if (!dir)
    throw new Error('set CBSD68_DIR to the CBSD68 folder (the npm bench scripts default it to ../shared)');
  return dir;
}

/** Plain sharp's CPU time per reference conversion in this process (`images` in a row), in ms. */
export async function plainSharpCpuMs(png: Buffer, images = 20): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < images; i++) await encode(png);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / images;
}
