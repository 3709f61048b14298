// Drain selection: the longest-failing nodes go first, within the per-round cap and above minHealthy.
import { type DrainDecision, limitDrains } from '../failover/drain-cap.ts';
import { drainNode, type LifecycleRound, restartInPlace } from '../failover/node-lifecycle.ts';
import { replaceInPlace } from '../failover/replacement.ts';
import type { NodeState } from '../state.ts';

/** A listed node that failed long enough by quorum to be drained, if the fleet can spare it. */
export interface DrainCandidate {
  index: number;
  nodeId: string;
  failStreak: number;
  failVotes: number;
  reasons: string[];
  /** The runtime reports its task stopped or missing. */
  runtimeDown?: boolean;
}

/** Drain priority: longest fail streak first, then most failing votes, then node id for a stable order. */
export function drainPriority(a: DrainCandidate, b: DrainCandidate): number {
  return (
    b.failStreak - a.failStreak ||
    b.failVotes - a.failVotes ||
    (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0)
  );
}

/**
 * Drains what the cap and minHealthy allow (sorting `candidates` into priority order) and marks
 * the others held back with the rule that held them.
 */
export function selectDrains(
  lifecycle: LifecycleRound,
  candidates: DrainCandidate[],
  nextStates: readonly NodeState[],
  listedCount: number,
): DrainDecision<DrainCandidate> {
  const { failover } = lifecycle;
  candidates.sort(drainPriority);
  const decision = limitDrains(candidates, {
    maxDrainsPerRound: failover.maxDrainsPerRound,
    minHealthy: failover.minHealthy,
    listedCount,
  });
  for (const candidate of decision.drain) {
    drainNode(lifecycle, candidate.nodeId, nextStates[candidate.index] as NodeState, candidate);
  }
  for (const candidate of decision.heldByCap) {
    (nextStates[candidate.index] as NodeState).heldBack = 'drain-cap';
  }
  for (const candidate of decision.heldByMinHealthy) {
    (nextStates[candidate.index] as NodeState).heldBack = 'min-healthy';
  }
  // Runtime evidence always leads to a replacement, whatever the listing decided.
  for (const candidate of [...decision.heldByCap, ...decision.heldByMinHealthy]) {
    const next = nextStates[candidate.index] as NodeState;
    if (replaceInPlace(next, candidate.runtimeDown === true, lifecycle.round, failover)) {
      restartInPlace(lifecycle, candidate.nodeId, next);
    }
  }
  return decision;
}
