// The fleet as the APIs show it: each node's state, reputation and listing, the alarms, and who reported the latest decided round.
import type { FleetConfig } from '../fleet/config.ts';
import { fleetReputations } from '../fleet/controller.ts';
import type { FleetState, NodeStatus } from '../fleet/state.ts';
import { registryListing } from './listing.ts';

export interface FleetNodeView {
  id: string;
  location: string;
  status: NodeStatus;
  listed: boolean;
  operatorDrained: boolean;
  reputation: number | null;
  components: {
    availability: number | null;
    latency: number | null;
    freshness: number | null;
    completeness: number | null;
    stress: number | null;
  };
  /** Good rounds still needed before a node on probation (or being replaced) is listed again. */
  probationRoundsLeft: number | null;
}

export interface FleetView {
  fleet: string;
  /** The latest decided round; null before the first. */
  round: number | null;
  nodes: FleetNodeView[];
  listedNodeIds: string[];
  activeAlarms: string[];
  blindVantageIds: string[];
  /** Vantage points whose reports the latest decided round was decided on. */
  reportingVantageIds: string[];
}

/**
 * @example const view = fleetView(config, (await store.loadFleetState()).state, await drains.drained());
 */
export function fleetView(
  config: FleetConfig,
  state: FleetState,
  operatorDrained: ReadonlySet<string>,
): FleetView {
  const listed = registryListing(config, state, operatorDrained);
  const listedSet = new Set(listed);
  const reputations = new Map(fleetReputations(config, state).map((rep) => [rep.nodeId, rep]));
  const nodes = config.nodes.map((node): FleetNodeView => {
    const nodeState = state.nodes[node.id];
    const rep = reputations.get(node.id);
    const status = nodeState?.status ?? 'active';
    return {
      id: node.id,
      location: node.location,
      status,
      listed: listedSet.has(node.id),
      operatorDrained: operatorDrained.has(node.id),
      reputation: rep?.composite ?? null,
      components: {
        availability: rep?.availability ?? null,
        latency: rep?.latency ?? null,
        freshness: rep?.freshness ?? null,
        completeness: rep?.completeness ?? null,
        stress: rep?.stress ?? null,
      },
      probationRoundsLeft:
        nodeState && (status === 'probation' || status === 'replacing')
          ? Math.max(0, nodeState.requiredProbationRounds - nodeState.goodStreak)
          : null,
    };
  });
  return {
    fleet: config.fleet,
    round: state.lastProcessedRound,
    nodes,
    listedNodeIds: listed,
    activeAlarms: Object.values(state.alarms).map((alarm) =>
      alarm.subject === 'fleet' ? alarm.alarm : `${alarm.alarm}: ${alarm.subject}`,
    ),
    blindVantageIds: Object.entries(state.vantagePoints)
      .filter(([, vantage]) => vantage.blind)
      .map(([id]) => id),
    reportingVantageIds: [...(state.reportingVantageIds ?? [])],
  };
}
