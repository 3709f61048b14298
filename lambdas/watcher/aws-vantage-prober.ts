// An AWS vantage point's prober: the fleet's deployed addresses (SSM) joined with the identities probers recorded (DynamoDB), probed over connections kept between rounds.
import {
  bareTcpMultiaddr,
  type DeployedAddressBook,
  identityFromHandshake,
  identityFromInfo,
  type NodeIdentity,
} from '../../control/node-addresses.ts';
import {
  type FleetConfig,
  probedPubsubTopics,
  type ResolvedNode,
  resolveNodes,
  type VantagePointConfig,
} from '../../fleet/config.ts';
import type { ProbeRound } from '../../fleet/observations.ts';
import type { StructuredLog, VantageProber } from '../../fleet/ports.ts';
import { mapBounded } from '../../probes/bounded-pool.ts';
import { type ProbeTarget, runProbeRound } from '../../probes/probe-round.ts';
import { PeerIdMismatchError } from '../../waku/errors.ts';
import {
  type ContainerDialer,
  probePubsubTopic,
  type VantageRest,
} from '../shared/container-dialer.ts';
import type { ControlPlaneSource } from '../shared/control-plane.ts';
import { fleetAddresses, probeTargets } from '../shared/fleet-targets.ts';
import type { NodeDirectory as IdentityDirectory } from '../shared/node-directory.ts';

/** A node's REST identity (peer id, ENR) is read again this often; a rotated key is also caught by a mismatched dial. */
export const IDENTITY_REFRESH_MS = 5 * 60 * 1000;

export interface AwsVantageProberOptions {
  config: FleetConfig;
  vantage: VantagePointConfig;
  controlPlane: ControlPlaneSource;
  identities: IdentityDirectory;
  dialer: ContainerDialer;
  rest: VantageRest;
  /** The node's REST base URL when this vantage point reaches it (its own region's VPC). */
  restUrlOf(node: ResolvedNode, vantage: VantagePointConfig): string | undefined;
  nowMs: () => number;
  log: StructuredLog;
}

/**
 * @example
 * const prober = new AwsVantageProber({ config, vantage, controlPlane, identities, dialer, rest, restUrlOf, nowMs: Date.now, log });
 * const report = await prober.probeRound(roundNumber(Date.now(), config.probe.intervalSeconds));
 */
export class AwsVantageProber implements VantageProber {
  readonly vantageId: string;
  readonly #options: AwsVantageProberOptions;
  readonly #restUrls = new Map<string, string>();
  readonly #topic: string;
  /** Nodes that answered with another key than the directory's: learnt again before the next round. */
  readonly #rotatedKeys = new Set<string>();
  #identitiesReadAtMs = Number.NEGATIVE_INFINITY;

  constructor(options: AwsVantageProberOptions) {
    this.#options = options;
    this.vantageId = options.vantage.id;
    this.#topic = probePubsubTopic(options.config);
    if (options.vantage.reachesRest) {
      for (const node of resolveNodes(options.config)) {
        const url = options.restUrlOf(node, options.vantage);
        if (url) this.#restUrls.set(node.id, url);
      }
    }
  }

  async probeRound(round: number): Promise<ProbeRound> {
    const { config, vantage } = this.#options;
    const targets = await this.#targets();
    return runProbeRound(
      {
        dialer: this.#flaggingRotatedKeys(targets),
        ...(vantage.reachesRest ? { rest: this.#options.rest } : {}),
        clock: { nowMs: this.#options.nowMs },
      },
      {
        vantage: { id: vantage.id, reachesRest: vantage.reachesRest },
        round,
        targets,
        probe: config.probe,
        clusterId: config.clusterId,
        pubsubTopic: this.#topic,
        pubsubTopics: probedPubsubTopics(config),
      },
    );
  }

  /** Who to probe this round: every node with a deployed address and a known peer id. */
  async #targets(): Promise<ProbeTarget[]> {
    const { config, controlPlane, identities, nowMs } = this.#options;
    if (nowMs() - this.#identitiesReadAtMs >= IDENTITY_REFRESH_MS) {
      await this.#readRestIdentities();
      this.#identitiesReadAtMs = nowMs();
    }
    const book = await controlPlane.addresses();
    const known = await identities.all();
    const toLearn = config.nodes
      .map((node) => node.id)
      .filter((nodeId) => book[nodeId] && (!known.has(nodeId) || this.#rotatedKeys.has(nodeId)));
    if (toLearn.length > 0) {
      for (const [nodeId, identity] of await this.#learnPeerIds(book, toLearn)) {
        const recorded = known.get(nodeId);
        if (!recorded || recorded.observedAtMs < identity.observedAtMs) known.set(nodeId, identity);
      }
    }
    const addresses = fleetAddresses(config, book, known);
    return probeTargets(addresses, (nodeId) => this.#restUrls.get(nodeId));
  }

  /** Asks each node this vantage point reaches over REST who it is, and records it. */
  async #readRestIdentities(): Promise<void> {
    const { config, identities, rest, nowMs, log } = this.#options;
    await Promise.all(
      [...this.#restUrls].map(async ([nodeId, restUrl]) => {
        try {
          const reply = await rest.info(restUrl, {
            signal: AbortSignal.timeout(config.probe.healthTimeoutMs),
          });
          await identities.record(identityFromInfo(nodeId, reply, nowMs()));
        } catch (error) {
          log.warn('could not read the node identity', {
            nodeId,
            restUrl,
            error: (error as Error).message,
          });
        }
      }),
    );
  }

  /** Dials each node's bare TCP address: the noise handshake proves its peer id, no REST needed. */
  async #learnPeerIds(
    book: DeployedAddressBook,
    nodeIds: readonly string[],
  ): Promise<Map<string, NodeIdentity>> {
    const { config, identities, dialer, nowMs, log } = this.#options;
    const learned = new Map<string, NodeIdentity>();
    await mapBounded(nodeIds, config.probe.concurrency, async (nodeId) => {
      const address = book[nodeId];
      if (!address) return;
      const bare = bareTcpMultiaddr(address);
      try {
        const { peerId } = await dialer.learnPeerId(bare, {
          signal: AbortSignal.timeout(config.probe.pingTimeoutMs),
        });
        const identity = identityFromHandshake(nodeId, peerId, nowMs());
        learned.set(nodeId, identity);
        this.#rotatedKeys.delete(nodeId);
        await identities.recordLearnedPeerId(identity);
      } catch (error) {
        log.warn('could not learn the node peer id', {
          nodeId,
          address: bare,
          error: (error as Error).message,
        });
      }
    });
    return learned;
  }

  #flaggingRotatedKeys(targets: readonly ProbeTarget[]): ContainerDialer {
    const { dialer } = this.#options;
    const nodeIdOf = new Map(targets.map((target) => [target.multiaddr, target.nodeId]));
    const flag = <T>(address: string, call: Promise<T>): Promise<T> =>
      call.catch((error: unknown) => {
        const nodeId = nodeIdOf.get(address);
        if (error instanceof PeerIdMismatchError && nodeId !== undefined) {
          this.#rotatedKeys.add(nodeId);
        }
        throw error;
      });
    return {
      learnPeerId: (address, options) => dialer.learnPeerId(address, options),
      stop: () => dialer.stop(),
      ping: (address, options) => flag(address, dialer.ping(address, options)),
      metadata: (address, options) => flag(address, dialer.metadata(address, options)),
      storeQuery: (address, query, options) =>
        flag(address, dialer.storeQuery(address, query, options)),
    };
  }
}
