// Which nodes a stress test may touch: never one the controller has taken out of fleets.json.
import { type FleetState, isListedStatus } from '../../fleet/state.ts';

/**
 * A guard for runStress from the controller's state: nodes that are drained, being replaced, in
 * probation or escalated are refused; nodes the state does not know (ad-hoc targets) are allowed.
 * @example
 * const isDrained = unlistedNodeGuard((await store.loadFleetState()).state);
 */
export function unlistedNodeGuard(
  state: Pick<FleetState, 'nodes'> | undefined,
): (nodeId: string) => boolean {
  return (nodeId) => {
    const node = state?.nodes[nodeId];
    return node !== undefined && !isListedStatus(node.status);
  };
}
