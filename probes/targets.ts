// Where probes point: store nodes read from a fleets.json the way Status clients read them.
import type { FleetsJson } from '../fleet/registry/index.ts';
import type { ProbeTarget } from './probe-round.ts';

/** Status desktop reads store nodes from the split kind, or from `tcp/p2p/waku` on fleets without the split. */
export const STORE_NODE_KINDS = ['tcp/p2p/waku/store', 'tcp/p2p/waku'] as const;

/** Thrown when a fleets.json holds no probeable store node for the fleet asked about. */
export class NoProbeTargetsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoProbeTargetsError';
  }
}

/**
 * The TCP store nodes of `fleet`, sorted by name, as ProbeTargets (without REST: registries do not list it).
 * @example
 * const targets = storeTargetsFromFleetsJson(parseFleetsJson(json), 'status.prod');
 */
export function storeTargetsFromFleetsJson(document: FleetsJson, fleet: string): ProbeTarget[] {
  const kinds = document.fleets[fleet];
  if (kinds === undefined) {
    const known = Object.keys(document.fleets).sort().join(', ') || '(none)';
    throw new NoProbeTargetsError(
      `fleet "${fleet}" is not in this fleets.json; it lists: ${known}`,
    );
  }
  for (const kind of STORE_NODE_KINDS) {
    const table = kinds[kind];
    if (table === undefined) continue;
    const targets = Object.entries(table)
      .filter(([, address]) => address.startsWith('/') && address.includes('/tcp/'))
      .filter(([, address]) => !/\/(ws|wss)(\/|$)/.test(address))
      .map(([nodeId, multiaddr]) => ({ nodeId, multiaddr }))
      .sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
    if (targets.length > 0) return targets;
  }
  throw new NoProbeTargetsError(
    `fleet "${fleet}" lists no TCP store node under ${STORE_NODE_KINDS.join(' or ')}`,
  );
}
