// History completeness: the share of the fleet's union of message hashes that a node holds.
import type { CompletenessResult } from '../observations.ts';

/**
 * Mean completeness over the vantage points that got an answer for one window; null when the node
 * answered none of them (that is an availability problem, not evidence about its archive).
 */
export function completenessScore(results: readonly CompletenessResult[]): number | null {
  let sum = 0;
  let count = 0;
  for (const result of results) {
    if (result.completeness === null) continue;
    sum += result.completeness;
    count++;
  }
  return count > 0 ? sum / count : null;
}

/** True when some vantage point confirmed, by asking for the hashes, that the node lacks messages. */
export function confirmedGaps(results: readonly CompletenessResult[]): boolean {
  return results.some((result) => result.missingCount > 0);
}
