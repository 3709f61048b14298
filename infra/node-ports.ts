// The ports each store node listens on and is dialled at: distinct per node behind a region's one load balancer.
import type { FleetConfig, ResolvedNode } from '../fleet/config.ts';

export const TLS_WEBSOCKET_PORT = 443;

/** Where clients reach one node; nwaku listens on these same ports inside its task. */
export interface NodePublicPorts {
  tcp: number;
  websocket: number;
  /** TLS listener port, when the region has a certificate. */
  secureWebsocket: number;
}

/** Thrown when two nodes of one region would share a port on the region's load balancer. */
export class PortCollisionError extends Error {
  constructor(region: string, port: number, first: string, second: string) {
    super(
      `${region}: nodes ${first} and ${second} would both listen on port ${port} of the region's load balancer; ` +
        'give one of them its own nodes[].ports, or set aws.loadBalancing to "perNode"',
    );
    this.name = 'PortCollisionError';
  }
}

/** Port blocks per location and role within a region: node numbers have two digits. */
const PORTS_PER_BLOCK = 100;

/**
 * With one balancer per region, a node whose config spells no ports of its own gets the default
 * ports plus its number minus one (`store-03` -> 30305, 8002, 445), plus 100 for each earlier
 * location-and-role of its region in the order `nodes` first names them (`store-01` of a second
 * location in the same region -> 30403). Adding nodes, or appending locations, never moves a node.
 * With per-node balancers every node keeps the configured ports.
 */
export function nodePublicPorts(
  config: FleetConfig,
  nodes: readonly ResolvedNode[],
): Map<string, NodePublicPorts> {
  const shared = config.aws.loadBalancing === 'shared';
  const ports = new Map<string, NodePublicPorts>();
  const owners = new Map<string, string>();
  const blocks = new Map<string, number>();
  for (const node of nodes) {
    const block = `${node.region}/${node.location}/${node.role}`;
    if (!blocks.has(block)) {
      blocks.set(
        block,
        [...blocks.keys()].filter((key) => key.startsWith(`${node.region}/`)).length,
      );
    }
  }
  for (const node of nodes) {
    const own = config.nodes.find((candidate) => candidate.id === node.id)?.ports;
    const block = blocks.get(`${node.region}/${node.location}/${node.role}`) ?? 0;
    const offset = shared ? block * PORTS_PER_BLOCK + node.index - 1 : 0;
    const chosen: NodePublicPorts = {
      tcp: own?.tcp ?? node.ports.tcp + offset,
      websocket: own?.websocket ?? node.ports.websocket + offset,
      secureWebsocket:
        own?.secureWebsocket ?? (node.ports.secureWebsocket ?? TLS_WEBSOCKET_PORT) + offset,
    };
    if (shared) {
      for (const port of [chosen.tcp, chosen.websocket, chosen.secureWebsocket]) {
        const key = `${node.region}:${port}`;
        const owner = owners.get(key);
        if (owner !== undefined && owner !== node.id) {
          throw new PortCollisionError(node.region, port, owner, node.id);
        }
        owners.set(key, node.id);
      }
    }
    ports.set(node.id, chosen);
  }
  return ports;
}

/** Merges ports into contiguous ranges, so that a region of 100 nodes needs a handful of security group rules. */
export function portRanges(ports: Iterable<number>): Array<{ from: number; to: number }> {
  const sorted = [...new Set(ports)].sort((a, b) => a - b);
  const ranges: Array<{ from: number; to: number }> = [];
  for (const port of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && port === last.to + 1) last.to = port;
    else ranges.push({ from: port, to: port });
  }
  return ranges;
}
