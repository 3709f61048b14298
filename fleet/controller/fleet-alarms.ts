// Fleet alarms: the drain cap and minHealthy, raised while they hold a drain back and cleared when none is held.
import type { FailoverConfig } from '../config.ts';
import { FLEET_SUBJECT, type FleetAction } from '../failover/actions.ts';
import type { DrainDecision } from '../failover/drain-cap.ts';
import { type AlarmLedger, nameSome } from './alarm-ledger.ts';
import type { DrainCandidate } from './drain-selection.ts';
import type { RoundListing } from './listing.ts';

export function judgeFleetAlarms(
  ledger: AlarmLedger,
  into: FleetAction[],
  round: number,
  failover: FailoverConfig,
  candidateCount: number,
  decision: DrainDecision<DrainCandidate>,
  listing: RoundListing,
): void {
  if (decision.heldByCap.length > 0) {
    ledger.raise(
      into,
      'DrainCapReached',
      FLEET_SUBJECT,
      `${candidateCount} nodes qualified for draining in round ${round} but at most ${failover.maxDrainsPerRound} may be drained per round; still listed: ${nameSome(decision.heldByCap.map((c) => c.nodeId))}`,
    );
  } else {
    ledger.clear(
      into,
      'DrainCapReached',
      FLEET_SUBJECT,
      `no drain was held back by the per-round cap in round ${round}`,
    );
  }
  if (decision.heldByMinHealthy.length > 0 || listing.filled.size > 0) {
    const kept = [...decision.heldByMinHealthy.map((c) => c.nodeId), ...listing.filled];
    ledger.raise(
      into,
      'RegistryBelowMinHealthy',
      FLEET_SUBJECT,
      `fewer than ${failover.minHealthy} healthy nodes in round ${round}; unhealthy nodes kept listed: ${nameSome(kept)}`,
    );
  } else {
    ledger.clear(
      into,
      'RegistryBelowMinHealthy',
      FLEET_SUBJECT,
      `at least ${failover.minHealthy} healthy nodes are listed again in round ${round}`,
    );
  }
}
