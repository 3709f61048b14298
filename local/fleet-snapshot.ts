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
  const nodes: NodeView[] = view.nodes.map((node) => {
    const observed = input.observations.get(node.id);
    const addresses = input.addressesOf(node.id);
    return {
      id: node.id,
      location: node.location,
      state: node.operatorDrained && !node.listed ? 'drained' : displayStatus(node.status),
      listed: node.listed,
      operatorDrained: node.operatorDrained,
      taskState: input.taskStates.get(node.id) ?? 'missing',
      reputation: node.reputation,
      rttMs: observed?.rttMs ?? null,
      freshnessAgeMs: observed?.freshnessAgeMs ?? null,
      completeness: node.components.completeness,
      probationRoundsLeft: node.probationRoundsLeft,
      lastError: observed?.lastError ?? null,
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

/** The dashboard speaks of healthy nodes; the controller calls them active. */
function displayStatus(status: string): string {
  return status === 'active' ? 'healthy' : status;
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
