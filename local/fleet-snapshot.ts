// What the dashboard and GET /api/nodes show: the control loop's fleet view joined with what the local runtime sees of each node.
import { fleetView } from '../control/fleet-view.ts';
import type { FleetConfig } from '../fleet/config.ts';
import type { ProbeRound } from '../fleet/observations.ts';
import type { TaskState } from '../fleet/ports.ts';
import type { FleetState } from '../fleet/state.ts';
import type { FleetSnapshot, NodeView } from './api.ts';
import type { NodeAddresses } from './process-runtime.ts';
import type { NodeSample } from './sqlite-state-store.ts';

/** Per node, from the latest round's reports. */
export interface RoundObservation {
  rttMs: number | null;
  freshnessAgeMs: number | null;
  lastError: string | null;
}

export interface SnapshotInput {
  config: FleetConfig;
  state: FleetState;
  operatorDrained: ReadonlySet<string>;
  observations: ReadonlyMap<string, RoundObservation>;
  taskStates: ReadonlyMap<string, TaskState>;
  addressesOf: (nodeId: string) => NodeAddresses | undefined;
  /** The round the loop is at (the latest probed). */
  round: number;
  atMs: number;
  /** Alarms the runtime itself holds raised. */
  runtimeAlarms: readonly string[];
}

export function fleetSnapshot(input: SnapshotInput): FleetSnapshot {
  const view = fleetView(input.config, input.state, input.operatorDrained);
  const rtts = [...input.observations.values()]
    .map((observed) => observed.rttMs)
    .filter((rtt): rtt is number => rtt !== null)
    .sort((a, b) => a - b);
  const medianRttMs = rtts.length > 0 ? (rtts[Math.floor((rtts.length - 1) / 2)] as number) : null;
  const nodes: NodeView[] = view.nodes.map((node) => {
    const observed = input.observations.get(node.id);
    const addresses = input.addressesOf(node.id);
    const taskState = input.taskStates.get(node.id) ?? 'missing';
    const slow = slowNote(observed?.rttMs ?? null, medianRttMs, {
      toleranceRatio: input.config.reputation.latencyToleranceRatio,
      minimumMs: input.config.probe.pingTimeoutMs * SLOW_AT_PING_TIMEOUT_FRACTION,
    });
    return {
      id: node.id,
      location: node.location,
      state:
        node.operatorDrained && !node.listed
          ? 'drained'
          : displayStatus(node.status, taskState, slow !== null),
      listed: node.listed,
      operatorDrained: node.operatorDrained,
      taskState,
      reputation: node.reputation,
      rttMs: observed?.rttMs ?? null,
      freshnessAgeMs: observed?.freshnessAgeMs ?? null,
      completeness: node.components.completeness,
      probationRoundsLeft: node.probationRoundsLeft,
      lastError: observed?.lastError ?? slow,
      tcp: addresses?.tcpAddress ?? null,
      wss: null,
    };
  });
  return {
    fleet: view.fleet,
    round: input.round,
    atMs: input.atMs,
    nodes,
    listedNodeIds: view.listedNodeIds,
    activeAlarms: [...view.activeAlarms, ...input.runtimeAlarms],
    blindVantageIds: view.blindVantageIds,
    reportingVantageIds: view.reportingVantageIds,
  };
}

/**
 * The dashboard speaks of healthy nodes; the controller calls them active. A node whose task is
 * stopped or missing is never shown healthy, whatever the controller has decided so far, and a
 * slow one says so in its state, not only in the RTT column.
 */
export function displayStatus(status: string, taskState: TaskState, slow = false): string {
  if (taskState === 'stopped' || taskState === 'missing') {
    return status === 'active' || status === 'suspect' ? 'down' : status;
  }
  if (status !== 'active') return status;
  return slow ? 'slow' : 'healthy';
}

/** Below this share of the ping timeout, a high ratio to a sub-millisecond loopback median is jitter, not slowness. */
const SLOW_AT_PING_TIMEOUT_FRACTION = 1 / 4;

/**
 * "slow: ..." when the node's RTT is beyond the tolerance the latency score uses and at least
 * `minimumMs`; null otherwise.
 */
export function slowNote(
  rttMs: number | null,
  medianRttMs: number | null,
  limits: { toleranceRatio: number; minimumMs: number },
): string | null {
  if (rttMs === null || medianRttMs === null || medianRttMs <= 0) return null;
  if (rttMs <= medianRttMs * limits.toleranceRatio || rttMs < limits.minimumMs) return null;
  return `slow: RTT ${rttMs.toFixed(0)} ms, ${(rttMs / medianRttMs).toFixed(0)}x the fleet median (${medianRttMs.toFixed(1)} ms)`;
}

/** Per node: the fastest ping, the freshest store answer and the first error across vantage points. */
export function summarizeRounds(rounds: readonly ProbeRound[]): Map<string, RoundObservation> {
  const byNode = new Map<string, RoundObservation>();
  for (const round of rounds) {
    for (const result of round.results) {
      const seen = byNode.get(result.nodeId) ?? {
        rttMs: null,
        freshnessAgeMs: null,
        lastError: null,
      };
      if (result.ok && result.kind === 'ping' && result.latencyMs !== undefined) {
        seen.rttMs =
          seen.rttMs === null ? result.latencyMs : Math.min(seen.rttMs, result.latencyMs);
      }
      if (result.ok && result.kind === 'store' && typeof result.newestMessageAgeMs === 'number') {
        seen.freshnessAgeMs =
          seen.freshnessAgeMs === null
            ? result.newestMessageAgeMs
            : Math.min(seen.freshnessAgeMs, result.newestMessageAgeMs);
      }
      if (!result.ok && seen.lastError === null) {
        seen.lastError = `${round.vantageId} ${result.kind}: ${result.errorClass ?? 'failed'}${result.errorMessage ? ` (${result.errorMessage})` : ''}`;
      }
      byNode.set(result.nodeId, seen);
    }
  }
  return byNode;
}

/** One history sample per node after a round, from the snapshot the round produced. */
export function nodeSamples(
  snapshot: FleetSnapshot,
  state: FleetState,
  round: number,
): NodeSample[] {
  return snapshot.nodes.map((node) => ({
    nodeId: node.id,
    atMs: snapshot.atMs,
    round,
    state: state.nodes[node.id]?.status ?? 'active',
    reputation: node.reputation,
    rttMs: node.rttMs,
    listed: node.listed,
  }));
}
