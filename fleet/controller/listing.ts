// Listing: who goes into fleets.json after this round's transitions, topped up to minHealthy when too few are listed.
import { fillToMinHealthy } from '../failover/min-healthy.ts';
import { isListedStatus, type NodeState, type NodeStatus } from '../state.ts';

/** Earlier statuses are better bets when the registry must be topped up to minHealthy. */
const FILL_PREFERENCE: Record<NodeStatus, number> = {
  active: 0,
  suspect: 0,
  probation: 1,
  replacing: 2,
  drained: 3,
  escalated: 4,
};

export interface RoundListing {
  /** In config order. */
  listed: string[];
  /** Unlisted nodes listed anyway to reach minHealthy. */
  filled: ReadonlySet<string>;
}

/** Lists the nodes whose status is listed, plus the best unlisted bets when fewer than minHealthy are. */
export function roundListing(
  nodeIds: readonly string[],
  nextStates: readonly NodeState[],
  minHealthy: number,
): RoundListing {
  const listedNodeIds: string[] = [];
  const unlisted: { nodeId: string; preference: number }[] = [];
  for (let i = 0; i < nodeIds.length; i++) {
    const next = nextStates[i] as NodeState;
    const nodeId = nodeIds[i] as string;
    if (isListedStatus(next.status)) listedNodeIds.push(nodeId);
    else
      unlisted.push({ nodeId, preference: FILL_PREFERENCE[next.status] * 1e6 - next.goodStreak });
  }
  const filled = new Set(fillToMinHealthy(listedNodeIds, unlisted, minHealthy));
  const listed =
    filled.size === 0
      ? listedNodeIds
      : nodeIds.filter(
          (id, i) => filled.has(id) || isListedStatus((nextStates[i] as NodeState).status),
        );
  return { listed, filled };
}

/** How many nodes have a listed status. */
export function listedCountOf(states: readonly NodeState[]): number {
  let count = 0;
  for (const state of states) if (isListedStatus(state.status)) count++;
  return count;
}
