/**
 * Tiled inference with overlap. DnCNN is 20 convolutions of 3×3 with zero padding, so an output
 * pixel depends on a 41×41 window and a tile's zero padding disturbs only the 20 pixels along each
 * of its edges. Tiles therefore overlap by at least 2 × MARGIN and only their inner ("core") regions
 * are kept: the stitched result equals whole-image inference up to float rounding (~1e-6).
 * Along the image border no margin is needed: there the tile edge is the image edge.
 */

/** Receptive-field radius of a 20-layer 3×3 network. */
export const MARGIN = 20;

/**
 * What tiling must respect for one network: the margin (receptive-field radius) and the alignment of
 * tile starts and sizes. FFDNet works on 2×2 blocks, so its tiles start on even pixels (see
 * models/catalog.ts `GEOMETRY`). Images are tiled on their size rounded up to the alignment.
 */
export interface Geometry {
  readonly margin: number;
  readonly align: number;
}

export const DNCNN_GEOMETRY: Geometry = { margin: MARGIN, align: 1 };

/** One tile along one axis: the window [start, start+size) fed to the network, and the kept core. */
export interface Span {
  readonly start: number;
  readonly size: number;
  readonly coreStart: number;
  readonly coreEnd: number;
}

export interface TileWindow {
  readonly x: Span;
  readonly y: Span;
}

/** A 3-channel image, planar (CHW), float32. */
export interface PlanarImage {
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
}

/** Runs the network on one tile and returns its 3×h×w output. */
export type TileRunner = (tile: PlanarImage) => Promise<Float32Array>;

/**
 * Splits [0, length) into the fewest windows of at most `tileSize` that overlap by ≥ 2 × margin,
 * all of one size (the smallest that works, so little is computed twice) and evenly spread. Cores
 * partition [0, length); each core keeps `margin` pixels from its window's inner edges.
 */
export function planSpans(length: number, tileSize: number, margin = MARGIN, align = 1): Span[] {
  if (!Number.isInteger(length) || length < 1) throw new RangeError(`bad length ${length}`);
  if (align > 1) {
    if (length % align !== 0 || margin % align !== 0)
      throw new RangeError(`length ${length} and margin ${margin} must be multiples of ${align}`);
    const units = planSpans(length / align, Math.floor(tileSize / align), margin / align);
    return units.map((span) => ({
      start: span.start * align,
      size: span.size * align,
      coreStart: span.coreStart * align,
      coreEnd: span.coreEnd * align,
    }));
  }
  if (!Number.isInteger(tileSize) || tileSize <= 2 * margin) {
    throw new RangeError(`tile size must be an integer > ${2 * margin}, got ${tileSize}`);
  }
  if (length <= tileSize) return [{ start: 0, size: length, coreStart: 0, coreEnd: length }];
  const count = Math.ceil((length - 2 * margin) / (tileSize - 2 * margin));
  // Even spread: steps of at most ceil((length - size) / (count - 1)) ≤ size - 2·margin.
  const size = Math.ceil((length + 2 * margin * (count - 1)) / count);
  const starts = Array.from({ length: count }, (_, i) => Math.floor((i * (length - size)) / (count - 1)));
  return starts.map((start, i) => {
    const prev = starts[i - 1];
    const next = starts[i + 1];
    const coreStart = prev === undefined ? 0 : start + Math.floor((prev + size - start) / 2);
    const coreEnd = next === undefined ? length : next + Math.floor((start + size - next) / 2);
    return { start, size, coreStart, coreEnd };
  });
}

/** A size rounded up to the geometry's alignment (FFDNet pads odd sizes by one row/column). */
export function alignedSize(length: number, geometry: Geometry): number {
  return Math.ceil(length / geometry.align) * geometry.align;
}

/** Pixels computed per image pixel: the cost of the overlap and alignment padding (1 = untiled). */
export function tilingOverhead(
  width: number,
  height: number,
  tileSize: number,
  geometry: Geometry = DNCNN_GEOMETRY,
): number {
  const sum = (spans: Span[]) => spans.reduce((total, span) => total + span.size, 0);
  const spans = (length: number) =>
    planSpans(alignedSize(length, geometry), tileSize, geometry.margin, geometry.align);
  return (sum(spans(width)) * sum(spans(height))) / (width * height);
}

/**
 * All tile windows, row by row (each row of tiles is a horizontal band of the image), over the size
 * rounded up to the alignment: windows may reach one row/column past an odd image, which readers
 * fill by repeating the last one and writers drop.
 */
export function planTiles(
  width: number,
  height: number,
  tileSize: number,
  geometry: Geometry = DNCNN_GEOMETRY,
): TileWindow[] {
  const { margin, align } = geometry;
  const xs = planSpans(alignedSize(width, geometry), tileSize, margin, align);
  return planSpans(alignedSize(height, geometry), tileSize, margin, align).flatMap((y) =>
    xs.map((x) => ({ x, y })),
  );
}

/** Called after each tile: for heartbeats and progress reports. */
export type TileProgress = (done: number, total: number) => void;

/**
 * Drives tiled inference: `read` builds a tile's input, `run` infers it, `write` stores its core.
 * Only one tile is alive at a time, so memory does not grow with the image size.
 */
export async function runTiled(
  width: number,
  height: number,
  tileSize: number,
  io: {
    read: (window: TileWindow) => PlanarImage;
    write: (output: Float32Array, window: TileWindow) => void;
  },
  run: TileRunner,
  onProgress?: TileProgress,
  geometry: Geometry = DNCNN_GEOMETRY,
): Promise<void> {
  const windows = planTiles(width, height, tileSize, geometry);
  for (const [index, window] of windows.entries()) {
    io.write(await run(io.read(window)), window);
    onProgress?.(index + 1, windows.length);
  }
}

/** Copies a window out of a planar image; rows/columns past the edge repeat the last one. */
export function cropPlanar(image: PlanarImage, { x, y }: TileWindow): PlanarImage {
  const { width, height } = image;
  const data = new Float32Array(3 * x.size * y.size);
  const inside = Math.min(x.size, width - x.start);
  for (let c = 0; c < 3; c++) {
    for (let row = 0; row < y.size; row++) {
      const from = c * width * height + Math.min(y.start + row, height - 1) * width + x.start;
      const to = (c * y.size + row) * x.size;
      data.set(image.data.subarray(from, from + inside), to);
      for (let col = inside; col < x.size; col++) data[to + col] = image.data[from + inside - 1] ?? 0;
    }
  }
  return { data, width: x.size, height: y.size };
}

/** Copies the core of a tile's output into a planar image of size width × height. */
export function pasteCore(target: PlanarImage, tile: Float32Array, { x, y }: TileWindow): void {
  const { width, height } = target;
  const coreWidth = Math.min(x.coreEnd, width) - x.coreStart;
  for (let c = 0; c < 3; c++) {
    for (let row = y.coreStart; row < Math.min(y.coreEnd, height); row++) {
      const from = (c * y.size + row - y.start) * x.size + (x.coreStart - x.start);
      target.data.set(tile.subarray(from, from + coreWidth), c * width * height + row * width + x.coreStart);
    }
  }
}

/** Tiled inference on a float image; tileSize ≥ max(width, height) means a single, untiled run. */
export async function inferPlanar(
  run: TileRunner,
  image: PlanarImage,
  tileSize: number,
  geometry: Geometry = DNCNN_GEOMETRY,
): Promise<Float32Array> {
  const output: PlanarImage = { ...image, data: new Float32Array(image.data.length) };
  const io = {
    read: (w: TileWindow) => cropPlanar(image, w),
    write: (t: Float32Array, w: TileWindow) => pasteCore(output, t, w),
  };
  await runTiled(image.width, image.height, tileSize, io, run, undefined, geometry);
  return output.data;
}
