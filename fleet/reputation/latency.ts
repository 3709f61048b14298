// Latency judged against the fleet's median from the same vantage point, so a fleet-wide slowdown demotes nobody.

/**
 * Below this, round trips are noise (loopback, same host): a node at 0.4 ms is not "four times
 * slower" than one at 0.1 ms.
 */
export const LATENCY_NOISE_FLOOR_MS = 5;

/**
 * 1 at or below the fleet's median, falling linearly to 0 at `toleranceRatio` times the median.
 * @example latencyScore(120, 40, 4) // 3x the median with tolerance 4 -> 0.333...
 */
export function latencyScore(
  latencyMs: number,
  fleetMedianMs: number,
  toleranceRatio: number,
): number {
  const ratio =
    Math.max(latencyMs, LATENCY_NOISE_FLOOR_MS) / Math.max(fleetMedianMs, LATENCY_NOISE_FLOOR_MS);
  if (ratio <= 1) return 1;
  if (ratio >= toleranceRatio) return 0;
  return (toleranceRatio - ratio) / (toleranceRatio - 1);
}

/** Median of the finite values; sorts one copy (O(n log n)), so call it once per vantage point per round. */
export function medianOf(values: Float64Array): number | null {
  let count = 0;
  for (const value of values) if (Number.isFinite(value)) count++;
  if (count === 0) return null;
  const finite = new Float64Array(count);
  let next = 0;
  for (const value of values) if (Number.isFinite(value)) finite[next++] = value;
  finite.sort();
  const middle = count >> 1;
  return count % 2 === 1
    ? (finite[middle] as number)
    : ((finite[middle - 1] as number) + (finite[middle] as number)) / 2;
}
