// Who goes into fleets.json: the controller's listed set minus nodes an operator drained, never below failover.minHealthy.
import type { FleetConfig } from '../fleet/config.ts';
import type { FleetState } from '../fleet/state.ts';

/**
 * Operator drains take nodes out in config order until only minHealthy listed nodes would remain;
 * further ones are refused here as the API refuses them.
 * @example registryListing(config, state, new Set(['store-01.eu-central.storefleet.test']))
 */
export function registryListing(
  config: Pick<FleetConfig, 'nodes' | 'failover'>,
  state: Pick<FleetState, 'listedNodeIds'>,
  operatorDrained: ReadonlySet<string>,
): string[] {
  const controllerListed = state.listedNodeIds;
  const kept = controllerListed.filter((id) => !operatorDrained.has(id));
  for (const id of controllerListed) {
    if (kept.length >= config.failover.minHealthy) break;
    if (!kept.includes(id)) kept.push(id);
  }
  const order = new Map(config.nodes.map((node, index) => [node.id, index]));
  return kept.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
}
