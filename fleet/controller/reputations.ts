// Every configured node's reputation, for the registry and the dashboard.
import type { FleetConfig } from '../config.ts';
import { type NodeReputation, nodeReputation } from '../reputation/composite.ts';
import { type FleetState, freshNodeState } from '../state.ts';

/** The reputation of every configured node, for the registry and the dashboard. */
export function fleetReputations(config: FleetConfig, state: FleetState): NodeReputation[] {
  return config.nodes.map((node) => {
    const known = state.nodes[node.id];
    return nodeReputation(
      node.id,
      known ? known.reputation : freshNodeState('active', config).reputation,
      config.reputation,
    );
  });
}
