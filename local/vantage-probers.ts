// The local vantage points: one libp2p prober each, probing the process runtime's nodes over connections kept between rounds.
import type { FleetConfig } from '../fleet/config.ts';
import type { ProbeRound } from '../fleet/observations.ts';
import type { VantageProber } from '../fleet/ports.ts';
import {
  type ProbeRoundDialer,
  type ProbeRoundRest,
  type ProbeTarget,
  runProbeRound,
} from '../probes/probe-round.ts';
import type { ProbeDialer } from '../waku/client/dialer.ts';
import { ConnectionRefusedError } from '../waku/errors.ts';
import { autoshard } from '../waku/node/autosharding.ts';
import { pubsubTopic } from '../waku/protocols.ts';
import type { ProcessRuntime } from './process-runtime.ts';

/** First dials share the CPU with six starting nodes: give them far longer than a probe. */
export const WARM_UP_TIMEOUT_MS = 10_000;

/** The pubsub topic the fleet's first content topic lives on: probes, stress and completeness ask there. */
export function fleetPubsubTopic(config: FleetConfig): string {
  const topic = config.probe.contentTopics[0] as string;
  return pubsubTopic(config.clusterId, autoshard(topic, config.shards));
}

/** Every node the runtime has an address for, as probe targets. */
export function processTargets(config: FleetConfig, runtime: ProcessRuntime): ProbeTarget[] {
  const targets: ProbeTarget[] = [];
  for (const node of config.nodes) {
    const addresses = runtime.addressesOf(node.id);
    if (addresses) {
      targets.push({
        nodeId: node.id,
        multiaddr: addresses.tcpAddress,
        restUrl: addresses.restUrl,
      });
    }
  }
  return targets;
}

export interface LocalVantageProberOptions {
  config: FleetConfig;
  vantage: { id: string; reachesRest: boolean };
  dialer: ProbeDialer;
  runtime: ProcessRuntime;
  clock: () => number;
  /** A blinded vantage point (chaos blind) fails every probe at once, as a prober cut off from the network would. */
  isBlind: () => boolean;
}

/**
 * @example
 * const prober = new LocalVantageProber({ config, vantage, dialer, runtime, clock: Date.now, isBlind: () => false });
 * const round = await prober.probeRound(7);
 */
export class LocalVantageProber implements VantageProber {
  readonly vantageId: string;
  readonly dialer: ProbeDialer;
  readonly #options: LocalVantageProberOptions;
  readonly #pubsubTopic: string;

  constructor(options: LocalVantageProberOptions) {
    this.#options = options;
    this.vantageId = options.vantage.id;
    this.dialer = options.dialer;
    this.#pubsubTopic = fleetPubsubTopic(options.config);
  }

  probeRound(round: number): Promise<ProbeRound> {
    const { config, vantage } = this.#options;
    return runProbeRound(
      {
        dialer: this.#blindable(),
        ...(vantage.reachesRest ? { rest: this.#blindableRest() } : {}),
        clock: { nowMs: this.#options.clock },
      },
      {
        vantage,
        round,
        targets: processTargets(config, this.#options.runtime),
        probe: config.probe,
        clusterId: config.clusterId,
        pubsubTopic: this.#pubsubTopic,
      },
    );
  }

  /**
   * Opens this prober's connection to every node before the first round: eighteen simultaneous
   * first dials would otherwise time out together and read as blind probers at each start.
   */
  async warmUp(): Promise<void> {
    const targets = processTargets(this.#options.config, this.#options.runtime);
    await Promise.allSettled(
      targets.map((target) =>
        this.dialer.ping(target.multiaddr, { signal: AbortSignal.timeout(WARM_UP_TIMEOUT_MS) }),
      ),
    );
  }

  #blindable(): ProbeRoundDialer {
    const { dialer } = this;
    const blind = this.#options.isBlind;
    const refuse = (address: string) =>
      Promise.reject(
        new ConnectionRefusedError(`${address} (vantage point ${this.vantageId} is blinded)`),
      );
    return {
      ping: (address, options) => (blind() ? refuse(address) : dialer.ping(address, options)),
      metadata: (address, options) =>
        blind() ? refuse(address) : dialer.metadata(address, options),
      storeQuery: (address, query, options) =>
        blind() ? refuse(address) : dialer.storeQuery(address, query, options),
    };
  }

  #blindableRest(): ProbeRoundRest {
    return {
      health: async (restUrl, options) => {
        if (this.#options.isBlind()) return Promise.reject(new ConnectionRefusedError(restUrl));
        const { health } = await import('../waku/client/rest.ts');
        return health(restUrl, options);
      },
    };
  }
}
