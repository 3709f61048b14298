// What makes a round "failing" for a node from one vantage point, and how vantage points' votes combine.
import type { ProbeResult } from '../observations.ts';

/**
 * nwaku health states that mean "do not send clients here". INITIALIZING and SYNCHRONIZING are a
 * node on its way up, judged by its other probes rather than failed outright.
 */
const NOT_SERVING_HEALTH = new Set(['NOT_READY', 'SHUTTING_DOWN', 'NOT_MOUNTED']);
const SERVING_HEALTH = new Set(['READY', 'INITIALIZING', 'SYNCHRONIZING']);

/**
 * Why this probe result counts against the node, or undefined when it does not. A failed ping,
 * store query, metadata exchange or health check counts, and so do a wrong cluster id and a
 * not-ready health report. A 429 does not: the node is alive and shedding load, and clients
 * already back off from it for 10 s.
 */
export function probeFailure(result: ProbeResult, expectedClusterId: number): string | undefined {
  if (!result.ok) {
    if (result.errorClass === 'rate_limited') return undefined;
    return `${result.kind} ${result.errorClass ?? 'failed'}`;
  }
  if (
    result.kind === 'metadata' &&
    result.clusterId !== undefined &&
    result.clusterId !== expectedClusterId
  ) {
    return `metadata wrong_cluster (node reports cluster ${result.clusterId}, expected ${expectedClusterId})`;
  }
  if (result.kind === 'health' && result.nodeHealth !== undefined) {
    if (SERVING_HEALTH.has(result.nodeHealth)) return undefined;
    // Older nwaku spells states "Not Ready"; the prober should normalise, but do not trust it blindly.
    const normalised = result.nodeHealth.trim().toUpperCase().replace(/\s+/g, '_');
    if (NOT_SERVING_HEALTH.has(normalised)) return `health ${normalised}`;
  }
  return undefined;
}

export type RoundVerdict = 'failing' | 'good' | 'inconclusive';

export interface RoundVotes {
  /** Vantage points (and the runtime) that saw the node fail this round. */
  failing: number;
  /** Vantage points whose probes all passed and whose view of its reputation is above suspectBelow. */
  passing: number;
  /** False when the runtime says the task is stopped, missing or still starting. */
  runtimeAllowsGood: boolean;
}

/**
 * A failing round needs `quorum` witnesses; a good round needs `quorum` passing vantage points.
 * Anything in between (too few reports, split votes) is inconclusive and breaks both streaks, so
 * neither a drain nor a re-admission is ever decided on thin evidence.
 */
export function roundVerdict(votes: RoundVotes, quorum: number): RoundVerdict {
  if (votes.failing >= quorum) return 'failing';
  if (votes.passing >= quorum && votes.runtimeAllowsGood) return 'good';
  return 'inconclusive';
}
