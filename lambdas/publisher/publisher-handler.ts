// The publisher function: fleets.json for the listed nodes, signed, guarded and written, when the listed set changed or the version nears expiry.
import { registryListing } from '../../control/listing.ts';
import { buildRegistryArtifacts, listedNodesOf } from '../../control/registry-artifacts.ts';
import type { FleetConfig } from '../../fleet/config.ts';
import { METRICS } from '../../fleet/metrics.ts';
import type { MetricsSink, RegistryPublisher, StateStore } from '../../fleet/ports.ts';
import { assertArtifactsPublishable, type RegistrySigner } from '../../fleet/registry/index.ts';
import { type FleetState, initialFleetState } from '../../fleet/state.ts';
import type { ControlPlaneSource } from '../shared/control-plane.ts';
import type { FleetSettings } from '../shared/fleet-settings.ts';
import { fleetAddresses } from '../shared/fleet-targets.ts';
import type { HandlerLog, InvocationContext } from '../shared/invocation.ts';
import type { NodeDirectory } from '../shared/node-directory.ts';

/** The publisher runs once a minute: one schedule period of slack between two publications. */
const SCHEDULE_PERIOD_MS = 60_000;

/**
 * Age at which an unchanged version is published again. Half the expiry, as clients need, but
 * also early enough that the RegistryStale alarm (no publication in floor(expiry / 2 / 60) minutes,
 * infra/FleetAlarms.ts) never sees an empty window between two minutely runs.
 */
export function republishAfterMs(config: Pick<FleetConfig, 'registry'>): number {
  const halfExpiryMs = (config.registry.expiresAfterSeconds * 1000) / 2;
  const staleWindowMs =
    Math.max(60, Math.floor(config.registry.expiresAfterSeconds / 2 / 60) * 60) * 1000;
  return Math.max(
    SCHEDULE_PERIOD_MS,
    Math.min(halfExpiryMs, staleWindowMs) - 2 * SCHEDULE_PERIOD_MS,
  );
}

export interface PublisherHandlerDeps {
  controlPlane: ControlPlaneSource;
  store: Pick<StateStore<FleetState>, 'loadFleetState'>;
  settings: FleetSettings;
  directory: NodeDirectory;
  signer: RegistrySigner;
  publisher: RegistryPublisher;
  nowMs: () => number;
  metrics: MetricsSink;
  log: HandlerLog;
}

export type PublisherInvocationResult =
  | { published: true; sequence: number; listedNodeIds: string[]; why: 'changed' | 'due' }
  | { published: false; reason: 'unchanged' | 'nothing-listable'; sequence?: number };

/**
 * @example
 * export const handler = createPublisherHandler(defaultPublisherDependencies());
 */
export function createPublisherHandler(deps: PublisherHandlerDeps) {
  return async function publisherHandler(
    _event: unknown,
    _context: InvocationContext,
  ): Promise<PublisherInvocationResult> {
    const nowMs = deps.nowMs();
    const { config } = await deps.controlPlane.load();
    const [loaded, operatorDrained, book, identities, last] = await Promise.all([
      deps.store.loadFleetState(),
      deps.settings.operatorDrained(),
      deps.controlPlane.addresses(),
      deps.directory.all(),
      deps.settings.lastPublication(),
    ]);
    const state = loaded.state ?? initialFleetState(config);
    const listed = registryListing(config, state, operatorDrained);
    const { multiaddrs, unreachable } = fleetAddresses(config, book, identities);
    const addressesOf = (nodeId: string) => multiaddrs.get(nodeId);
    const listedNodes = listedNodesOf(listed, addressesOf);
    const listedKey = JSON.stringify(listedNodes);
    if (listedNodes.length === 0) {
      deps.log.warn(
        'no listed node has an address and identity yet; keeping the published registry',
        {
          listed,
          unreachable,
        },
      );
      return { published: false, reason: 'nothing-listable' };
    }
    const changed = last?.listedKey !== listedKey;
    const due = last === undefined || nowMs - last.publishedAtMs >= republishAfterMs(config);
    if (!changed && !due) return { published: false, reason: 'unchanged', sequence: last.sequence };

    const lastSequence = Math.max(await deps.publisher.lastSequence(), last?.sequence ?? 0);
    const sequence = lastSequence + 1;
    const reasons = new Map<string, string>();
    for (const nodeId of operatorDrained) reasons.set(nodeId, 'drained by an operator');
    for (const entry of unreachable) {
      reasons.set(
        entry.nodeId,
        entry.missing === 'identity'
          ? 'peer id not known yet (no prober has reached the node)'
          : 'no deployed address',
      );
    }
    const { artifacts } = await buildRegistryArtifacts({
      config,
      state,
      listed,
      addressesOf,
      signer: deps.signer,
      sequence,
      nowMs,
      reasons,
    });
    assertArtifactsPublishable(artifacts, { nowMs, lastSequence });
    await deps.publisher.publish(artifacts);
    await deps.settings.recordPublication({ sequence, listedKey, publishedAtMs: nowMs });
    deps.metrics.record(METRICS.registryPublications, 1, 'Count');
    deps.metrics.record(METRICS.registryHealthyNodes, listedNodes.length, 'Count');
    await deps.metrics.flush();
    deps.log.info('published fleets.json', {
      sequence,
      listed: listedNodes.map((node) => node.id),
      why: changed ? 'changed' : 'due',
    });
    return {
      published: true,
      sequence,
      listedNodeIds: listedNodes.map((node) => node.id),
      why: changed ? 'changed' : 'due',
    };
  };
}
