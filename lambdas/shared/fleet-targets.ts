// Probe targets and registry addresses of every node: deployed addresses joined with the node directory.
import {
  type DeployedAddressBook,
  type NodeIdentity,
  type NodeMultiaddrs,
  nodeMultiaddrs,
} from '../../control/node-addresses.ts';
import type { FleetConfig } from '../../fleet/config.ts';
import type { ProbeTarget } from '../../probes/probe-round.ts';

export interface FleetAddresses {
  /** Nodes with both a deployed address and a known peer id, in config order. */
  multiaddrs: Map<string, NodeMultiaddrs>;
  /** Nodes that cannot be dialled yet: no address deployed, or no identity recorded. */
  unreachable: Array<{ nodeId: string; missing: 'address' | 'identity' }>;
}

/** @example const { multiaddrs } = fleetAddresses(config, await controlPlane.addresses(), await directory.all()); */
export function fleetAddresses(
  config: FleetConfig,
  book: DeployedAddressBook,
  identities: ReadonlyMap<string, NodeIdentity>,
): FleetAddresses {
  const multiaddrs = new Map<string, NodeMultiaddrs>();
  const unreachable: FleetAddresses['unreachable'] = [];
  for (const node of config.nodes) {
    const address = book[node.id];
    const identity = identities.get(node.id);
    if (!address) unreachable.push({ nodeId: node.id, missing: 'address' });
    else if (!identity) unreachable.push({ nodeId: node.id, missing: 'identity' });
    else
      multiaddrs.set(
        node.id,
        nodeMultiaddrs({ nodeId: node.id, address, identity, domain: config.registry.domain }),
      );
  }
  return { multiaddrs, unreachable };
}

/** Probe targets from the dialable nodes; `restUrlOf` adds REST where this vantage point reaches it. */
export function probeTargets(
  addresses: FleetAddresses,
  restUrlOf: (nodeId: string) => string | undefined,
): ProbeTarget[] {
  return [...addresses.multiaddrs].map(([nodeId, multiaddrs]) => {
    const restUrl = restUrlOf(nodeId);
    return { nodeId, multiaddr: multiaddrs.tcp, ...(restUrl ? { restUrl } : {}) };
  });
}

/**
 * On AWS a prober reaches REST only inside its own region's VPC, where Cloud Map resolves the node
 * id (`{host label}.{fleet}`) to the node's task.
 */
export function sameRegionRestUrl(
  node: { id: string; region: string; ports: { rest: number } },
  vantage: { region: string },
): string | undefined {
  return node.region === vantage.region ? `http://${node.id}:${node.ports.rest}` : undefined;
}
