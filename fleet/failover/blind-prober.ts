// Policy: a vantage point that sees most of the listed fleet fail at once is blind; nothing drains on its word.

/** Below this many listed nodes probed, "most of the fleet failing" says nothing about the prober. */
export const MIN_NODES_TO_JUDGE_BLINDNESS = 3;

export interface VantageRoundTally {
  /** Listed nodes (active or suspect) this vantage point reported on this round. */
  probed: number;
  /** Of those, how many its probes saw failing. */
  failing: number;
}

/**
 * True when more than `blindFraction` of the listed nodes it probed fail from this vantage point.
 * Judged on raw probe failures of listed nodes only: nodes already drained are known to be down
 * and would otherwise make a healthy prober look blind during an incident.
 */
export function isProberBlind(tally: VantageRoundTally, blindFraction: number): boolean {
  if (tally.probed < MIN_NODES_TO_JUDGE_BLINDNESS) return false;
  return tally.failing > blindFraction * tally.probed;
}
