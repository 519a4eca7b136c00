/** Percentile of an unsorted sample (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function summary(values: readonly number[], unit = 'ms', digits = 1): string {
  const f = (v: number) => v.toFixed(digits);
  return `p50 ${f(percentile(values, 50))} ${unit}  p95 ${f(percentile(values, 95))} ${unit}  p99 ${f(percentile(values, 99))} ${unit}  (n=${values.length})`;
}
