// Policy: never drain more than failover.maxDrainsPerRound nodes in one round (Eureka's self-preservation).
import { drainRoomAboveMinHealthy } from './min-healthy.ts';

export interface DrainLimits {
  maxDrainsPerRound: number;
  minHealthy: number;
  /** Nodes listed before this round's drains. */
  listedCount: number;
}

export interface DrainDecision<T> {
  drain: T[];
  /** Candidates kept listed because the per-round cap was used up. */
  heldByCap: T[];
  /** Candidates kept listed because draining them would leave fewer than minHealthy. */
  heldByMinHealthy: T[];
}

/**
 * Splits drain candidates (already in priority order) into those drained now and those held back,
 * saying which rule held each: a real mass failure is then visible as an alarm rather than as an
 * emptied registry.
 */
export function limitDrains<T>(candidates: readonly T[], limits: DrainLimits): DrainDecision<T> {
  const room = drainRoomAboveMinHealthy(limits.listedCount, limits.minHealthy);
  const allowed = Math.min(limits.maxDrainsPerRound, room);
  const drain = candidates.slice(0, allowed);
  const heldByCap: T[] = [];
  const heldByMinHealthy: T[] = [];
  candidates.slice(allowed).forEach((candidate, offset) => {
    const position = allowed + offset;
    if (position >= room) heldByMinHealthy.push(candidate);
    else heldByCap.push(candidate);
  });
  return { drain, heldByCap, heldByMinHealthy };
}
