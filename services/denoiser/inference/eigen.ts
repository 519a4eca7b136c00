/** Eigenvalues of a small dense symmetric matrix by cyclic Jacobi rotations (d ≈ 150: ~50 ms). */

/** Eigenvalues of the symmetric d×d matrix (row-major), ascending. The input is not modified. */
export function symmetricEigenvalues(matrix: Float64Array, d: number): number[] {
  const m = Float64Array.from(matrix);
  const at = (i: number, j: number) => m[i * d + j] ?? 0;
  let scale = 0;
  for (let i = 0; i < d * d; i++) scale += (m[i] ?? 0) ** 2;
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += at(p, q) ** 2;
    if (off <= 1e-24 * scale) break;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) rotate(m, d, p, q);
  }
  return Array.from({ length: d }, (_, i) => at(i, i)).sort((a, b) => a - b);
}

/** One Jacobi rotation m ← Jᵀ m J that zeroes m[p][q]. */
function rotate(m: Float64Array, d: number, p: number, q: number): void {
  const apq = m[p * d + q] ?? 0;
  if (apq === 0) return;
  const theta = ((m[q * d + q] ?? 0) - (m[p * d + p] ?? 0)) / (2 * apq);
  const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
  const c = 1 / Math.sqrt(t * t + 1);
  const s = t * c;
  for (let k = 0; k < d; k++) {
    const kp = m[k * d + p] ?? 0;
    const kq = m[k * d + q] ?? 0;
    m[k * d + p] = c * kp - s * kq;
    m[k * d + q] = s * kp + c * kq;
  }
  for (let k = 0; k < d; k++) {
    const pk = m[p * d + k] ?? 0;
    const qk = m[q * d + k] ?? 0;
    m[p * d + k] = c * pk - s * qk;
    m[q * d + k] = s * pk + c * qk;
  }
}
