// Summaries the benchmark reports: medians and spreads over repeats, never a single best run.

export interface Spread {
  /** Number of samples. */
  n: number;
  p50: number;
  p25: number;
  p75: number;
  p90: number;
  p95: number;
  min: number;
  max: number;
}

/** Linear interpolation between closest ranks, as most spreadsheet percentiles do. */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = (sorted.length - 1) * fraction;
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const a = sorted[low] as number;
  const b = sorted[high] as number;
  return a + (b - a) * (rank - low);
}

export function spreadOf(values: readonly number[]): Spread {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 0.5),
    p25: percentile(sorted, 0.25),
    p75: percentile(sorted, 0.75),
    p90: percentile(sorted, 0.9),
    p95: percentile(sorted, 0.95),
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/** Rounds to `significant` digits without scientific notation for the sizes the bench prints. */
export function formatNumber(value: number, significant = 3): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const decimals = Math.max(0, significant - 1 - magnitude);
  return value.toLocaleString('en-US', {
    maximumFractionDigits: decimals,
    minimumFractionDigits: 0,
    useGrouping: Math.abs(value) >= 10_000,
  });
}

/** "12.3 unit (min-max 11.0-13.1, n=5)": median first, then the spread over repeats. */
export function formatSpread(spread: Spread, unit = '', kind: 'range' | 'iqr' = 'range'): string {
  const u = unit ? ` ${unit}` : '';
  if (spread.n === 0) return 'no samples';
  if (spread.n === 1) return `${formatNumber(spread.p50)}${u} (n=1)`;
  const [label, low, high] =
    kind === 'iqr' ? ['IQR', spread.p25, spread.p75] : ['min-max', spread.min, spread.max];
  return `${formatNumber(spread.p50)}${u} (${label} ${formatNumber(low)}-${formatNumber(high)}, n=${spread.n})`;
}

export function formatRatio(spread: Spread): string {
  if (spread.n === 0) return 'n/a';
  if (spread.n === 1) return `${spread.p50.toFixed(2)}x`;
  return `${spread.p50.toFixed(2)}x (${spread.min.toFixed(2)}-${spread.max.toFixed(2)})`;
}
