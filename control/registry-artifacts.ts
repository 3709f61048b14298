// The control step's publishing half: fleets.json and registry.json for the listed nodes, signed, ready for any RegistryPublisher.
import type { FleetConfig } from '../fleet/config.ts';
import { fleetReputations } from '../fleet/controller.ts';
import type { RegistryArtifacts } from '../fleet/ports.ts';
import {
  buildCandidatesJson,
  buildFleetsConfig,
  buildFleetsJson,
  buildRegistryJson,
  CANDIDATES_FILE,
  FLEETS_CONFIG_FILE,
  FLEETS_CONFIG_SIGNATURE_FILE,
  type ListedNode,
  type RegistryNodeEntry,
  type RegistryProbeSummary,
  type RegistrySigner,
} from '../fleet/registry/index.ts';
import type { FleetState } from '../fleet/state.ts';
import type { NodeMultiaddrs } from './node-addresses.ts';

const JSON_CONTENT_TYPE = 'application/json';
/** As fleets.json.sig: base64 of the DER signature of the exact bytes, and a newline. */
const SIGNATURE_CONTENT_TYPE = 'text/plain; charset=utf-8';

export interface BuildRegistryArtifactsInput {
  config: FleetConfig;
  state: FleetState;
  /** Node ids to list (registryListing's answer), in config order. */
  listed: readonly string[];
  /** A node's addresses; undefined while its identity is unknown (it is then left out of fleets.json). */
  addressesOf: (nodeId: string) => NodeMultiaddrs | undefined;
  signer: RegistrySigner;
  /** Above the sequence published last. */
  sequence: number;
  nowMs: number;
  /** One line per node on why it is where it is (e.g. `drained by an operator`). */
  reasons?: ReadonlyMap<string, string>;
  lastProbes?: ReadonlyMap<string, RegistryProbeSummary>;
  /** The probe round the reputations are from, stamped on candidates.json. */
  round?: number;
}

export interface BuiltRegistryArtifacts {
  artifacts: RegistryArtifacts;
  /** The nodes fleets.json lists, with the addresses it gives them. */
  listedNodes: ListedNode[];
}

/**
 * @throws EmptyRegistryError when no listed node has addresses: keep the previous version published.
 * @example
 * const { artifacts } = await buildRegistryArtifacts({
 *   config, state, listed, addressesOf, signer, sequence: (await publisher.lastSequence()) + 1, nowMs,
 * });
 * await publisher.publish(artifacts);
 */
export async function buildRegistryArtifacts(
  input: BuildRegistryArtifactsInput,
): Promise<BuiltRegistryArtifacts> {
  const { config, state, registry } = { ...input, registry: input.config.registry };
  const listedNodes = listedNodesOf(input.listed, input.addressesOf);
  const fleetsJson = buildFleetsJson({
    fleet: config.fleet,
    hostname: registry.hostname,
    sequence: input.sequence,
    nowMs: input.nowMs,
    expiresAfterSeconds: registry.expiresAfterSeconds,
    nodes: listedNodes,
    bootNodes: registry.bootNodes,
    otherFleets: registry.passThroughFleets,
  });
  const fleetsConfig = buildFleetsConfig({
    fleet: config.fleet,
    clusterId: config.clusterId,
    nodes: listedNodes,
    bootNodes: registry.bootNodes,
  });
  const listedIds = new Set(listedNodes.map((node) => node.id));
  const reputations = new Map(fleetReputations(config, state).map((rep) => [rep.nodeId, rep]));
  const entries: RegistryNodeEntry[] = config.nodes.map((node) => {
    const rep = reputations.get(node.id);
    const addresses = input.addressesOf(node.id);
    const reason = input.reasons?.get(node.id);
    const lastProbe = input.lastProbes?.get(node.id);
    return {
      id: node.id,
      status: state.nodes[node.id]?.status ?? 'active',
      listed: listedIds.has(node.id),
      reputation: rep?.composite ?? null,
      ...(rep
        ? {
            components: {
              availability: rep.availability,
              latency: rep.latency,
              freshness: rep.freshness,
              completeness: rep.completeness,
              stress: rep.stress,
            },
          }
        : {}),
      ...(lastProbe ? { lastProbe } : {}),
      ...(reason ? { reason } : {}),
      addresses: addresses ? { ...addresses } : {},
    };
  });
  const registryJson = buildRegistryJson({
    fleet: config.fleet,
    hostname: registry.hostname,
    sequence: input.sequence,
    nowMs: input.nowMs,
    expiresAfterSeconds: registry.expiresAfterSeconds,
    nodes: entries,
  });
  const candidates = buildCandidatesJson({
    fleet: config.fleet,
    hostname: registry.hostname,
    sequence: input.sequence,
    round: input.round,
    nowMs: input.nowMs,
    candidates: listedNodes.map((node) => {
      const rep = reputations.get(node.id);
      return {
        node,
        score: rep?.composite ?? null,
        components: {
          availability: rep?.availability ?? null,
          latency: rep?.latency ?? null,
          freshness: rep?.freshness ?? null,
          completeness: rep?.completeness ?? null,
          stress: rep?.stress ?? null,
        },
      };
    }),
  });
  const fleetsConfigSignature = await input.signer.sign(fleetsConfig.bytes);
  return {
    artifacts: {
      sequence: input.sequence,
      fleetsJson: fleetsJson.bytes,
      fleetsJsonSignature: await input.signer.sign(fleetsJson.bytes),
      registryJson: registryJson.bytes,
      publicKeyPem: await input.signer.publicKeyPem(),
      cacheMaxAgeSeconds: registry.cacheMaxAgeSeconds,
      files: [
        { name: FLEETS_CONFIG_FILE, bytes: fleetsConfig.bytes, contentType: JSON_CONTENT_TYPE },
        {
          name: FLEETS_CONFIG_SIGNATURE_FILE,
          bytes: new TextEncoder().encode(
            `${Buffer.from(fleetsConfigSignature).toString('base64')}\n`,
          ),
          contentType: SIGNATURE_CONTENT_TYPE,
        },
        { name: CANDIDATES_FILE, bytes: candidates.bytes, contentType: JSON_CONTENT_TYPE },
      ],
    },
    listedNodes,
  };
}

/** The listed nodes that have addresses, as fleets.json entries. */
export function listedNodesOf(
  listed: readonly string[],
  addressesOf: (nodeId: string) => NodeMultiaddrs | undefined,
): ListedNode[] {
  const nodes: ListedNode[] = [];
  for (const id of listed) {
    const addresses = addressesOf(id);
    if (addresses) nodes.push({ id, ...addresses });
  }
  return nodes;
}
