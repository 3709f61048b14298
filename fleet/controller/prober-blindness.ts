// Prober blindness: judged per vantage point that reported; one that did not report keeps its last judgement.
import type { FailoverConfig } from '../config.ts';
import type { FleetAction } from '../failover/actions.ts';
import type { AlarmSink } from '../failover/node-lifecycle.ts';
import type { FleetState, VantageState } from '../state.ts';
import type { VantageObservations } from './observe.ts';

/**
 * The vantage points' next state. Raises ProberBlind when one turns blind and clears it when it
 * sees normally again; a vantage point that did not report takes its last judgement into
 * `observations` too, so its (absent) votes stay ignored the same way.
 */
export function judgeVantagePoints(
  observations: VantageObservations[],
  state: FleetState,
  round: number,
  failover: FailoverConfig,
  alarms: AlarmSink,
  proberActions: FleetAction[],
): Record<string, VantageState> {
  const vantagePoints: Record<string, VantageState> = {};
  for (const vantage of observations) {
    const before = state.vantagePoints[vantage.id] ?? {
      blind: false,
      blindSinceRound: null,
      blindRounds: 0,
    };
    if (!vantage.reported) {
      vantage.blind = before.blind;
      vantagePoints[vantage.id] = before;
      continue;
    }
    if (vantage.blind) {
      vantagePoints[vantage.id] = {
        blind: true,
        blindSinceRound: before.blind ? before.blindSinceRound : round,
        blindRounds: before.blindRounds + 1,
      };
      alarms.raise(
        proberActions,
        'ProberBlind',
        vantage.id,
        `vantage point ${vantage.id} saw ${vantage.tally.failing} of the ${vantage.tally.probed} listed nodes it probed fail in round ${round} (more than ${Math.round(failover.blindFraction * 100)} %) where neither the other vantage points nor the runtime saw them fail; its results are ignored until it recovers`,
      );
    } else {
      vantagePoints[vantage.id] = {
        blind: false,
        blindSinceRound: null,
        blindRounds: before.blindRounds,
      };
      if (before.blind) {
        alarms.clear(
          proberActions,
          'ProberBlind',
          vantage.id,
          `vantage point ${vantage.id} sees the fleet normally again in round ${round}`,
        );
      }
    }
  }
  return vantagePoints;
}
