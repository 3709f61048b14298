// What the functions that dial store nodes share: one dialer per execution environment, and the pubsub topic their store queries ask about.
import type { FleetConfig } from '../../fleet/config.ts';
import type { ProbeRoundDialer, ProbeRoundRest } from '../../probes/probe-round.ts';
import { autoshard } from '../../waku/node/autosharding.ts';
import { pubsubTopic } from '../../waku/protocols.ts';

/**
 * Creates the dialer on first use, for the fleet's cluster and shards, and keeps it for every later
 * invocation so its connections are reused; a dialer that failed to start is tried again next time.
 * @example
 * const dialerFor = containerDialer(deps.createDialer);
 * const client = await dialerFor(config);
 */
export function containerDialer<D>(
  createDialer: (options: { clusterId: number; shards: number[] }) => Promise<D>,
): (config: FleetConfig) => Promise<D> {
  let dialer: Promise<D> | undefined;
  return (config) => {
    if (!dialer) {
      dialer = createDialer({ clusterId: config.clusterId, shards: [...config.shards] });
      dialer.catch(() => {
        dialer = undefined;
      });
    }
    return dialer;
  };
}

/** The pubsub topic the fleet's first probe content topic is autosharded to. */
export function probePubsubTopic(config: FleetConfig): string {
  return pubsubTopic(
    config.clusterId,
    autoshard(config.probe.contentTopics[0] as string, config.shards),
  );
}

/** The libp2p client a vantage point keeps for the life of its task or execution environment. */
export type ContainerDialer = ProbeRoundDialer & {
  /** Dials an address without `/p2p/` and returns the peer id proven in the handshake. */
  learnPeerId(address: string, options: { signal: AbortSignal }): Promise<{ peerId: string }>;
  stop(): Promise<void>;
};

/** REST calls of a vantage point inside the VPC: health probes and the node's own info. */
export interface VantageRest extends ProbeRoundRest {
  info(
    restUrl: string,
    options: { signal: AbortSignal },
  ): Promise<{ listenAddresses: string[]; enrUri?: string }>;
}
