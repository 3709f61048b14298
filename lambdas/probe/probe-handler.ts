// The probe function: one vantage point probes the whole fleet every probe.intervalSeconds for a minute, aligned to shared round boundaries.
import {
  bareTcpMultiaddr,
  type DeployedAddressBook,
  identityFromHandshake,
  identityFromInfo,
  type NodeIdentity,
} from '../../control/node-addresses.ts';
import { roundNumber, roundStartMs } from '../../control/rounds.ts';
import {
  type FleetConfig,
  probedPubsubTopics,
  type ResolvedNode,
  resolveNodes,
  type VantagePointConfig,
} from '../../fleet/config.ts';
import { METRIC_DIMENSIONS, METRICS } from '../../fleet/metrics.ts';
import type { ProbeRound } from '../../fleet/observations.ts';
import type { MetricsSink, StateStore } from '../../fleet/ports.ts';
import { mapBounded } from '../../probes/bounded-pool.ts';
import {
  type ProbeRoundDialer,
  type ProbeRoundRest,
  type ProbeTarget,
  runProbeRound,
} from '../../probes/probe-round.ts';
import { PeerIdMismatchError } from '../../waku/errors.ts';
import { containerDialer, probePubsubTopic } from '../shared/container-dialer.ts';
import type { ControlPlaneSource } from '../shared/control-plane.ts';
import { fleetAddresses, probeTargets } from '../shared/fleet-targets.ts';
import type { HandlerLog, InvocationContext, LoopClock } from '../shared/invocation.ts';
import type { NodeDirectory } from '../shared/node-directory.ts';

/** Time kept free after the last round for recording it and flushing metrics. */
export const PROBE_RECORD_MARGIN_MS = 2000;

/** The libp2p client a vantage point keeps for the life of its execution environment. */
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

export interface ProbeHandlerDeps {
  vantageId: string;
  /** How long one invocation keeps starting rounds (STOREFLEET_LOOP_SECONDS). */
  loopSeconds: number;
  controlPlane: ControlPlaneSource;
  store: Pick<StateStore<unknown>, 'recordProbeRound'>;
  directory: NodeDirectory;
  /** Called once per execution environment; the dialer's connections then serve every round. */
  createDialer(options: { clusterId: number; shards: number[] }): Promise<ContainerDialer>;
  rest: VantageRest;
  /** The node's REST base URL when this vantage point reaches it (same VPC); undefined otherwise. */
  restUrlOf(node: ResolvedNode, vantage: VantagePointConfig): string | undefined;
  clock: LoopClock;
  metrics: MetricsSink;
  log: HandlerLog;
}

export interface ProbeInvocationResult {
  vantageId: string;
  /** Round numbers probed, in order. */
  rounds: number[];
  /** Nodes whose identity this invocation read from their REST API. */
  identified: string[];
  /**
   * Nodes whose peer id this invocation learnt by dialling their bare TCP address: missing from
   * the directory, or answering with another key than the one recorded.
   */
  learnedPeerIds: string[];
  /** Nodes left out of every round: no deployed address or no known identity yet. */
  unreachable: string[];
}

/**
 * @example
 * export const handler = createProbeHandler(defaultProbeDependencies());
 */
export function createProbeHandler(deps: ProbeHandlerDeps) {
  const dialerFor = containerDialer((options) => deps.createDialer(options));

  /** Nodes that answered with another key than the directory's; kept across invocations. */
  const rotatedKeys = new Set<string>();

  return async function probeHandler(
    _event: unknown,
    context: InvocationContext,
  ): Promise<ProbeInvocationResult> {
    const startMs = deps.clock.nowMs();
    const { config } = await deps.controlPlane.load();
    const vantage = config.vantagePoints.find((candidate) => candidate.id === deps.vantageId);
    if (!vantage) {
      throw new Error(
        `vantage point "${deps.vantageId}" is not in the fleet config (has: ${config.vantagePoints.map((vp) => vp.id).join(', ')}); redeploy so the function matches the config`,
      );
    }
    const nodes = resolveNodes(config);
    const restUrls = new Map<string, string>();
    if (vantage.reachesRest) {
      for (const node of nodes) {
        const url = deps.restUrlOf(node, vantage);
        if (url) restUrls.set(node.id, url);
      }
    }
    const identified = await refreshIdentities(deps, config, restUrls);
    const book = await deps.controlPlane.addresses();
    let identities = await deps.directory.all();
    const learnedPeerIds = new Set<string>();
    /** Learns who answers at the bare address of each node that needs it, and probes them as that. */
    const learnMissingAndRotated = async (): Promise<void> => {
      const nodeIds = config.nodes
        .map((node) => node.id)
        .filter((nodeId) => book[nodeId] && (!identities.has(nodeId) || rotatedKeys.has(nodeId)));
      if (nodeIds.length === 0) return;
      const learned = await learnPeerIds(deps, config, await dialerFor(config), book, nodeIds);
      for (const nodeId of learned.keys()) {
        rotatedKeys.delete(nodeId);
        learnedPeerIds.add(nodeId);
      }
      identities = await deps.directory.all();
      for (const [nodeId, identity] of learned) {
        // The directory's record stands when it is newer; otherwise what this dial proved does.
        const recorded = identities.get(nodeId);
        if (!recorded || recorded.observedAtMs < identity.observedAtMs) {
          identities.set(nodeId, identity);
        }
      }
    };
    await learnMissingAndRotated();
    let addresses = fleetAddresses(config, book, identities);
    if (addresses.unreachable.length > 0) {
      deps.log.warn('nodes left out of probing', { unreachable: addresses.unreachable });
    }
    let targets = probeTargets(addresses, (nodeId) => restUrls.get(nodeId));
    const topic = probePubsubTopic(config);
    const intervalSeconds = config.probe.intervalSeconds;
    const loopEndMs = startMs + deps.loopSeconds * 1000;
    const rounds: number[] = [];
    let round = roundNumber(startMs, intervalSeconds);
    if (roundStartMs(round, intervalSeconds) < startMs) round += 1;
    for (; ; round++) {
      if (rotatedKeys.size > 0) {
        await learnMissingAndRotated();
        addresses = fleetAddresses(config, book, identities);
        targets = probeTargets(addresses, (nodeId) => restUrls.get(nodeId));
      }
      const boundaryMs = roundStartMs(round, intervalSeconds);
      const waitMs = Math.max(0, boundaryMs - deps.clock.nowMs());
      const fits =
        context.getRemainingTimeInMillis() - waitMs >
        config.probe.roundDeadlineMs + PROBE_RECORD_MARGIN_MS;
      if (boundaryMs >= loopEndMs || !fits) break;
      await deps.clock.sleep(waitMs);
      if (targets.length === 0) continue;
      const probeRound = await runProbeRound(
        {
          dialer: flaggingRotatedKeys(await dialerFor(config), targets, rotatedKeys),
          ...(vantage.reachesRest ? { rest: deps.rest } : {}),
          clock: deps.clock,
        },
        {
          vantage: { id: vantage.id, reachesRest: vantage.reachesRest },
          round,
          targets,
          probe: config.probe,
          clusterId: config.clusterId,
          pubsubTopic: topic,
          pubsubTopics: probedPubsubTopics(config),
        },
      );
      await deps.store.recordProbeRound(probeRound);
      recordProbeMetrics(deps.metrics, probeRound);
      await deps.metrics.flush();
      rounds.push(round);
    }
    return {
      vantageId: vantage.id,
      rounds,
      identified,
      learnedPeerIds: [...learnedPeerIds].sort(),
      unreachable: addresses.unreachable.map((entry) => entry.nodeId),
    };
  };
}

/**
 * Dials each node's `/ip4/{ip}/tcp/{tcp}` without `/p2p/`: the noise handshake proves the node's
 * peer id, so no vantage point needs REST to find it. Records each one learnt (the directory keeps
 * a REST record of the same peer id, ENR included) and returns them; failures are logged, not fatal.
 */
async function learnPeerIds(
  deps: ProbeHandlerDeps,
  config: FleetConfig,
  dialer: ContainerDialer,
  book: DeployedAddressBook,
  nodeIds: readonly string[],
): Promise<Map<string, NodeIdentity>> {
  const learned = new Map<string, NodeIdentity>();
  await mapBounded(nodeIds, config.probe.concurrency, async (nodeId) => {
    const address = book[nodeId];
    if (!address) return;
    const bareAddress = bareTcpMultiaddr(address);
    let identity: NodeIdentity;
    try {
      const { peerId } = await dialer.learnPeerId(bareAddress, {
        signal: AbortSignal.timeout(config.probe.pingTimeoutMs),
      });
      identity = identityFromHandshake(nodeId, peerId, deps.clock.nowMs());
    } catch (error) {
      deps.log.warn('could not learn the node peer id', {
        nodeId,
        address: bareAddress,
        error: (error as Error).message,
      });
      return;
    }
    learned.set(nodeId, identity);
    try {
      await deps.directory.recordLearnedPeerId(identity);
    } catch (error) {
      // Still probed with what the handshake proved; the next invocation records it again.
      deps.log.warn('could not record the node peer id', {
        nodeId,
        error: (error as Error).message,
      });
    }
  });
  return learned;
}

/** The round's dialer, noting the nodes that answered with another key than their target's peer id. */
function flaggingRotatedKeys(
  dialer: ProbeRoundDialer,
  targets: readonly ProbeTarget[],
  rotatedKeys: Set<string>,
): ProbeRoundDialer {
  const nodeIdOf = new Map(targets.map((target) => [target.multiaddr, target.nodeId]));
  const flag = <T>(address: string, call: Promise<T>): Promise<T> =>
    call.catch((error: unknown) => {
      const nodeId = nodeIdOf.get(address);
      if (error instanceof PeerIdMismatchError && nodeId !== undefined) rotatedKeys.add(nodeId);
      throw error;
    });
  return {
    ping: (address, options) => flag(address, dialer.ping(address, options)),
    metadata: (address, options) => flag(address, dialer.metadata(address, options)),
    storeQuery: (address, query, options) =>
      flag(address, dialer.storeQuery(address, query, options)),
  };
}

/** Asks each reachable node who it is and writes that into the directory; failures are logged, not fatal. */
async function refreshIdentities(
  deps: ProbeHandlerDeps,
  config: FleetConfig,
  restUrls: ReadonlyMap<string, string>,
): Promise<string[]> {
  const identified: string[] = [];
  await Promise.all(
    [...restUrls].map(async ([nodeId, restUrl]) => {
      try {
        const reply = await deps.rest.info(restUrl, {
          signal: AbortSignal.timeout(config.probe.healthTimeoutMs),
        });
        await deps.directory.record(identityFromInfo(nodeId, reply, deps.clock.nowMs()));
        identified.push(nodeId);
      } catch (error) {
        deps.log.warn('could not read the node identity', {
          nodeId,
          restUrl,
          error: (error as Error).message,
        });
      }
    }),
  );
  return identified.sort();
}

function recordProbeMetrics(metrics: MetricsSink, round: ProbeRound): void {
  for (const result of round.results) {
    metrics.record(METRICS.probeSuccess, result.ok ? 1 : 0, 'Count', {
      [METRIC_DIMENSIONS.node]: result.nodeId,
      [METRIC_DIMENSIONS.vantage]: result.vantageId,
    });
    if (result.ok && result.latencyMs !== undefined) {
      metrics.record(METRICS.probeLatencyMs, result.latencyMs, 'Milliseconds', {
        [METRIC_DIMENSIONS.node]: result.nodeId,
      });
    }
  }
}
