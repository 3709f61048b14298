// Store freshness: how far a node's newest message lags behind the freshest node's, as seen from one vantage point.

/**
 * Scores the lag behind the fleet's freshest node rather than the raw age, so that a quiet period
 * (no new traffic anywhere) demotes nobody. A node that returned no message while others did
 * (`Infinity`) scores 0.
 * @example freshnessScore(400_000, 100_000, 600) // 300 s behind, tolerance 600 s -> 0.5
 */
export function freshnessScore(
  newestMessageAgeMs: number,
  freshestAgeMs: number,
  freshnessMaxAgeSeconds: number,
): number {
  if (!Number.isFinite(newestMessageAgeMs)) return 0;
  const lagMs = Math.max(0, newestMessageAgeMs - freshestAgeMs);
  return Math.max(0, 1 - lagMs / (freshnessMaxAgeSeconds * 1000));
}

/** The smallest finite age, or null when no node returned any message (a quiet fleet: no evidence). */
export function freshestAgeOf(ages: Float64Array): number | null {
  let freshest = Number.POSITIVE_INFINITY;
  for (const age of ages) if (age < freshest) freshest = age;
  return Number.isFinite(freshest) ? freshest : null;
}
