// Policy: drain only a node that a quorum saw failing for failuresBeforeDrain consecutive rounds (one round when its task stopped).
import type { FailoverConfig } from '../config.ts';
import type { NodeStatus } from '../state.ts';

export interface DrainCandidacy {
  status: NodeStatus;
  /** Consecutive rounds with a failing verdict (quorum of witnesses), this round included. */
  failStreak: number;
}

/**
 * Only listed nodes (active or suspect) can be drained; the others are already out of fleets.json.
 * failuresBeforeDrain rides out transient probe failures. A node whose task the runtime reports
 * down this round, and that still made a failing quorum (the runtime plus at least one prober,
 * runtime-evidence.ts), has not failed transiently: it is a candidate after that one round, which
 * is what lets a crash leave fleets.json within seconds instead of failuresBeforeDrain rounds.
 */
export function isDrainCandidate(
  node: DrainCandidacy,
  failover: Pick<FailoverConfig, 'failuresBeforeDrain'>,
  runtimeDown = false,
): boolean {
  return (
    (node.status === 'active' || node.status === 'suspect') &&
    (node.failStreak >= failover.failuresBeforeDrain || (runtimeDown && node.failStreak >= 1))
  );
}
