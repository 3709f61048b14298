// Policy: re-admit only after enough consecutive good rounds, and longer for nodes that flap.
import type { FailoverConfig } from '../config.ts';

/** Drain rounds still inside the flap window as of `round`. */
export function recentDrainRounds(
  drainRounds: readonly number[],
  round: number,
  flapWindowRounds: number,
): number[] {
  return drainRounds.filter((drained) => round - drained < flapWindowRounds);
}

/**
 * probationRounds, times flapProbationMultiplier for every earlier drain inside the flap window:
 * a node drained for the second time in the window waits twice as long (with the default 2).
 * @example requiredProbationRounds([100], 150, failover) // 5 * 2 = 10 with the defaults
 */
export function requiredProbationRounds(
  earlierDrainRounds: readonly number[],
  round: number,
  failover: Pick<
    FailoverConfig,
    'probationRounds' | 'flapProbationMultiplier' | 'flapWindowRounds'
  >,
): number {
  const flaps = recentDrainRounds(earlierDrainRounds, round, failover.flapWindowRounds).length;
  return Math.ceil(failover.probationRounds * failover.flapProbationMultiplier ** flaps);
}

export function mayReadmit(goodStreak: number, requiredRounds: number): boolean {
  return goodStreak >= requiredRounds;
}

/** A node drained twice or more within the flap window flaps: NodeFlapping (warning) stays raised until it calms down. */
export function isFlapping(
  drainRounds: readonly number[],
  round: number,
  failover: Pick<FailoverConfig, 'flapWindowRounds'>,
): boolean {
  return recentDrainRounds(drainRounds, round, failover.flapWindowRounds).length >= 2;
}
