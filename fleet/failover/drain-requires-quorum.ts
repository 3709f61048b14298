// Policy: drain only a node that a quorum saw failing for failuresBeforeDrain consecutive rounds.
import type { FailoverConfig } from '../config.ts';
import type { NodeStatus } from '../state.ts';

export interface DrainCandidacy {
  status: NodeStatus;
  /** Consecutive rounds with a failing verdict (quorum of witnesses), this round included. */
  failStreak: number;
}

/** Only listed nodes (active or suspect) can be drained; the others are already out of fleets.json. */
export function isDrainCandidate(
  node: DrainCandidacy,
  failover: Pick<FailoverConfig, 'failuresBeforeDrain'>,
): boolean {
  return (
    (node.status === 'active' || node.status === 'suspect') &&
    node.failStreak >= failover.failuresBeforeDrain
  );
}
