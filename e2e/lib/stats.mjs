// Small statistics for the latency report.

/** quantile returns the q-quantile (0..1) of ascending values by nearest rank; NaN for none. */
export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}
