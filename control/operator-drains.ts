// Operator drains and undrains, with the one rule both APIs apply: a drain never takes fleets.json below failover.minHealthy.
import type { FleetConfig } from '../fleet/config.ts';
import type { OperatorDrains } from '../fleet/ports.ts';
import type { FleetState } from '../fleet/state.ts';
import { registryListing } from './listing.ts';

/** The drain or undrain asked for contradicts the fleet's state; the API answers 409 with this message. */
export class OperatorDrainRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OperatorDrainRefusedError';
  }
}

export interface OperatorDrainChange {
  nodeId: string;
  /** False when the node already was in the asked-for state (a repeated drain). */
  changed: boolean;
  drained: ReadonlySet<string>;
}

/**
 * Takes `nodeId` out of fleets.json by hand, unless that would leave fewer than minHealthy listed.
 * @throws OperatorDrainRefusedError naming the minimum and what to do instead.
 * @example await drainByOperator(config, state, drains, 'store-01.us-east.storefleet.test');
 */
export async function drainByOperator(
  config: Pick<FleetConfig, 'nodes' | 'failover'>,
  state: Pick<FleetState, 'listedNodeIds'>,
  drains: OperatorDrains,
  nodeId: string,
): Promise<OperatorDrainChange> {
  const drained = new Set(await drains.drained());
  if (drained.has(nodeId)) return { nodeId, changed: false, drained };
  const remaining = registryListing(config, state, drained).filter((id) => id !== nodeId);
  if (remaining.length < config.failover.minHealthy) {
    throw new OperatorDrainRefusedError(
      `draining ${nodeId} would leave ${remaining.length} listed node(s), below failover.minHealthy (${config.failover.minHealthy}); undrain or repair another node first`,
    );
  }
  drained.add(nodeId);
  await drains.setDrained(drained);
  return { nodeId, changed: true, drained };
}

/**
 * Gives `nodeId` back to the controller, which decides whether it is listed.
 * @throws OperatorDrainRefusedError when no operator drained it.
 */
export async function undrainByOperator(
  drains: OperatorDrains,
  nodeId: string,
): Promise<OperatorDrainChange> {
  const drained = new Set(await drains.drained());
  if (!drained.delete(nodeId)) {
    throw new OperatorDrainRefusedError(`${nodeId} was not drained by an operator`);
  }
  await drains.setDrained(drained);
  return { nodeId, changed: true, drained };
}
