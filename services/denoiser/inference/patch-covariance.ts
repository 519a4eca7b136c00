/**
 * Covariance of colour patches (patchSize² pixels × 3 channels, as one vector) sampled on a grid:
 * the input of the PCA noise estimator in noise-estimate.ts.
 */
import type { Rgb8Image } from './image.ts';

const LANES = 8;

/** Covariance (row-major d×d, d = 3·patchSize²) of at most `maxPatches` patches on a regular grid. */
export function patchCovariance(image: Rgb8Image, patchSize: number, maxPatches: number): Float64Array {
  const cols = image.width - patchSize + 1;
  const rows = image.height - patchSize + 1;
  if (cols < 1 || rows < 1) throw new RangeError(`image smaller than a ${patchSize}×${patchSize} patch`);
  const stride = Math.max(1, Math.ceil(Math.sqrt((cols * rows) / maxPatches)));
  const moments = new PatchMoments(patchSize);
  for (let y = 0; y < rows; y += stride) for (let x = 0; x < cols; x += stride) moments.add(image, x, y);
  return moments.covariance();
}

/**
 * Running sums of patch vectors and of their outer products (upper triangle). Patches are buffered
 * 8 at a time, interleaved (element a of lane k at a·8 + k), and added as one rank-8 update, which
 * V8 runs about 3× faster than one outer product per patch.
 */
class PatchMoments {
  private readonly d: number;
  private readonly sums: Float64Array;
  private readonly products: Float64Array;
  private readonly block: Float64Array;
  private lanes = 0;
  private count = 0;

  constructor(private readonly patchSize: number) {
    this.d = patchSize * patchSize * 3;
    this.sums = new Float64Array(this.d);
    this.products = new Float64Array(this.d * this.d);
    this.block = new Float64Array(this.d * LANES);
  }

  add(image: Rgb8Image, x: number, y: number): void {
    let a = 0;
    for (let py = 0; py < this.patchSize; py++) {
      const offset = ((y + py) * image.width + x) * 3;
      for (let i = 0; i < this.patchSize * 3; i++, a++) {
        const value = image.data[offset + i] ?? 0;
        this.block[a * LANES + this.lanes] = value;
        this.sums[a] = (this.sums[a] ?? 0) + value;
      }
    }
    this.count++;
    if (++this.lanes === LANES) this.flush();
  }

  private flush(): void {
    const { d, block: v, products: p } = this;
    for (let a = 0; a < d; a++) {
      const i = a * LANES;
      const v0 = v[i] ?? 0;
      const v1 = v[i + 1] ?? 0;
      const v2 = v[i + 2] ?? 0;
      const v3 = v[i + 3] ?? 0;
      const v4 = v[i + 4] ?? 0;
      const v5 = v[i + 5] ?? 0;
      const v6 = v[i + 6] ?? 0;
      const v7 = v[i + 7] ?? 0;
      for (let b = a, j = i, k = a * d + a; b < d; b++, j += LANES, k++) {
        const lanes0to3 =
          v0 * (v[j] ?? 0) + v1 * (v[j + 1] ?? 0) + v2 * (v[j + 2] ?? 0) + v3 * (v[j + 3] ?? 0);
        const lanes4to7 =
          v4 * (v[j + 4] ?? 0) + v5 * (v[j + 5] ?? 0) + v6 * (v[j + 6] ?? 0) + v7 * (v[j + 7] ?? 0);
        p[k] = (p[k] ?? 0) + lanes0to3 + lanes4to7;
      }
    }
    this.block.fill(0);
    this.lanes = 0;
  }

  covariance(): Float64Array {
    if (this.lanes > 0) this.flush(); // unused lanes are zero and add nothing
    const { d, sums, products, count } = this;
    const cov = new Float64Array(d * d);
    for (let a = 0; a < d; a++) {
      for (let b = a; b < d; b++) {
        const value =
          (products[a * d + b] ?? 0) / count - ((sums[a] ?? 0) / count) * ((sums[b] ?? 0) / count);
        cov[a * d + b] = value;
        cov[b * d + a] = value;
      }
    }
    return cov;
  }
}
