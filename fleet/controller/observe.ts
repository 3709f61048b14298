// Observe: the configured nodes with their previous state, and each vantage point's report as flat per-node arrays.
import type { FleetConfig } from '../config.ts';
import { judgeBlindness, type VantageRoundTally } from '../failover/blind-prober.ts';
import { probeFailure } from '../failover/failing-round.ts';
import type { ProbeRound } from '../observations.ts';
import type { TaskState } from '../ports.ts';
import { freshestAgeOf } from '../reputation/freshness.ts';
import { medianOf } from '../reputation/latency.ts';
import { type FleetState, freshNodeState, isListedStatus, type NodeState } from '../state.ts';

/** The configured nodes in config order; every per-node array of the round is indexed like nodeIds. */
export interface NodeRoster {
  nodeIds: readonly string[];
  nodeIndex: ReadonlyMap<string, number>;
  /** Each node's state before this round. */
  previous: readonly NodeState[];
}

/** What one vantage point reported this round, as flat arrays indexed like config.nodes. */
export interface VantageObservations {
  id: string;
  reported: boolean;
  blind: boolean;
  seen: Uint8Array;
  failed: Uint8Array;
  failures: Map<number, string>;
  /** Fastest successful ping; NaN when none. */
  pingMs: Float64Array;
  /** Newest message age from a successful store probe; Infinity when the node had none; NaN when not measured. */
  ageMs: Float64Array;
  medianPingMs: number | null;
  freshestAgeMs: number | null;
  /** What blindness was judged on: listed nodes probed, and failures nobody else saw. */
  tally: VantageRoundTally;
}

/** Nodes new to the config must earn their place (probation) unless the fleet itself is new. */
export function nodeRoster(config: FleetConfig, state: FleetState): NodeRoster {
  const nodeIds = config.nodes.map((node) => node.id);
  const nodeCount = nodeIds.length;
  const nodeIndex = new Map<string, number>();
  const previous: NodeState[] = new Array(nodeCount);
  for (let i = 0; i < nodeCount; i++) {
    const id = nodeIds[i] as string;
    nodeIndex.set(id, i);
    previous[i] =
      state.nodes[id] ??
      freshNodeState(state.lastProcessedRound === null ? 'active' : 'probation', config);
  }
  return { nodeIds, nodeIndex, previous };
}

/**
 * One entry per configured vantage point. Vantage points are judged blind together, on the nodes
 * that were listed before this round: one is blind when it sees failures that neither the other
 * vantage points nor the runtime see (failover/blind-prober.ts). A blind one gets no median or
 * freshest age (its numbers are not used).
 */
export function observeVantagePoints(
  config: FleetConfig,
  round: number,
  probeRounds: readonly ProbeRound[],
  roster: NodeRoster,
  taskStates?: ReadonlyMap<string, TaskState>,
): VantageObservations[] {
  const { nodeIds, nodeIndex, previous } = roster;
  const nodeCount = nodeIds.length;
  const reports = new Map<string, ProbeRound>();
  for (const report of probeRounds) {
    // A duplicated delivery of the same vantage point's round counts once.
    if (report.round === round && !reports.has(report.vantageId))
      reports.set(report.vantageId, report);
  }
  const observations = config.vantagePoints.map((vantage) => {
    const report = reports.get(vantage.id);
    const observed: VantageObservations = {
      id: vantage.id,
      reported: report !== undefined,
      blind: false,
      seen: new Uint8Array(nodeCount),
      failed: new Uint8Array(nodeCount),
      failures: new Map(),
      pingMs: new Float64Array(nodeCount).fill(Number.NaN),
      ageMs: new Float64Array(nodeCount).fill(Number.NaN),
      medianPingMs: null,
      freshestAgeMs: null,
      tally: { probed: 0, failing: 0 },
    };
    if (!report) return observed;
    for (const result of report.results) {
      const i = nodeIndex.get(result.nodeId);
      if (i === undefined) continue;
      observed.seen[i] = 1;
      const failure = probeFailure(result, config.clusterId);
      if (failure !== undefined) {
        observed.failed[i] = 1;
        if (!observed.failures.has(i)) observed.failures.set(i, failure);
        continue;
      }
      if (!result.ok) continue;
      if (result.kind === 'ping' && result.latencyMs !== undefined) {
        const before = observed.pingMs[i] as number;
        observed.pingMs[i] = Number.isNaN(before)
          ? result.latencyMs
          : Math.min(before, result.latencyMs);
      } else if (result.kind === 'store' && result.newestMessageAgeMs !== undefined) {
        observed.ageMs[i] =
          result.newestMessageAgeMs === null ? Number.POSITIVE_INFINITY : result.newestMessageAgeMs;
      }
    }
    return observed;
  });
  const listed = new Uint8Array(nodeCount);
  const runtimeDown = new Uint8Array(nodeCount);
  for (let i = 0; i < nodeCount; i++) {
    if (isListedStatus((previous[i] as NodeState).status)) listed[i] = 1;
    const task = taskStates?.get(nodeIds[i] as string);
    if (task === 'stopped' || task === 'missing') runtimeDown[i] = 1;
  }
  const reporting = observations.filter((observed) => observed.reported);
  const judged = judgeBlindness({
    sights: reporting,
    listed,
    runtimeDown,
    blindFraction: config.failover.blindFraction,
  });
  reporting.forEach((observed, r) => {
    const judgement = judged[r] as (typeof judged)[number];
    observed.blind = judgement.blind;
    observed.tally = judgement.tally;
    if (!observed.blind) {
      observed.medianPingMs = medianOf(observed.pingMs);
      observed.freshestAgeMs = freshestAgeOf(observed.ageMs);
    }
  });
  return observations;
}
