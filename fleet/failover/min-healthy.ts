// Policy: never leave fewer than failover.minHealthy nodes listed in fleets.json.

/** How many listed nodes may leave the registry this round without going below minHealthy. */
export function drainRoomAboveMinHealthy(listedCount: number, minHealthy: number): number {
  return Math.max(0, listedCount - minHealthy);
}

export interface FillCandidate {
  nodeId: string;
  /** Lower is preferred: a node in probation is a better bet than one still being replaced. */
  preference: number;
}

/**
 * When the listed set is already below minHealthy (the fleet shrank, or nodes were added in
 * probation), lists the most promising unlisted nodes too: clients given a doubtful node can
 * still fall back, clients given an empty list cannot.
 */
export function fillToMinHealthy(
  listedNodeIds: readonly string[],
  unlisted: readonly FillCandidate[],
  minHealthy: number,
): string[] {
  const missing = minHealthy - listedNodeIds.length;
  if (missing <= 0) return [];
  return [...unlisted]
    .sort((a, b) => a.preference - b.preference || (a.nodeId < b.nodeId ? -1 : 1))
    .slice(0, missing)
    .map((candidate) => candidate.nodeId);
}
