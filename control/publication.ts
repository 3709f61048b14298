// The publish policy, once: fleets.json follows the listed set, is republished before it expires, and is never published unsafe.
import type { FleetConfig } from '../fleet/config.ts';
import { METRICS } from '../fleet/metrics.ts';
import type {
  MetricsSink,
  NodeDirectory,
  OperatorDrains,
  PublicationHistory,
  RegistryPublisher,
  RegistrySigner,
  StructuredLog,
} from '../fleet/ports.ts';
import { assertArtifactsPublishable } from '../fleet/registry/index.ts';
import type { FleetState } from '../fleet/state.ts';
import { registryListing } from './listing.ts';
import { buildRegistryArtifacts, listedNodesOf } from './registry-artifacts.ts';

/**
 * An unchanged version is published again once this share of its expiry has passed: clients
 * (and the RegistryStale alarm, at half the expiry) never see it grow old.
 */
export const REPUBLISH_AFTER_EXPIRY_FRACTION = 1 / 3;

/** What registry.json says of a node an operator took out. */
export const OPERATOR_DRAINED_REASON = 'drained by an operator';

/** Milliseconds after a publication at which the same version is published again. */
export function republishAfterMs(config: Pick<FleetConfig, 'registry'>): number {
  return config.registry.expiresAfterSeconds * 1000 * REPUBLISH_AFTER_EXPIRY_FRACTION;
}

export interface PublicationPorts {
  directory: NodeDirectory;
  drains: OperatorDrains;
  history: PublicationHistory;
  signer: RegistrySigner;
  publisher: RegistryPublisher;
  metrics: MetricsSink;
  log: StructuredLog;
}

export type PublicationOutcome =
  | {
      published: true;
      sequence: number;
      listedNodeIds: string[];
      why: 'changed' | 'due';
    }
  | { published: false; reason: 'unchanged'; sequence: number }
  | { published: false; reason: 'nothing-listable'; listed: string[] }
  | {
      published: false;
      reason: 'refused';
      error: Error;
      /** No version was published for more than half the expiry: raise RegistryStale. */
      stale: boolean;
    };

/**
 * Publishes the registry for a fleet state when the listed set (with addresses) changed or the
 * last version is due for republishing. One call at a time: calls made while one runs wait for
 * it, so sequences reach the publisher in order.
 * @example
 * const publication = new RegistryPublication(config, { directory, drains, history, signer, publisher, metrics, log });
 * const outcome = await publication.publishIfDue(state, clock.nowMs());
 */
export class RegistryPublication {
  readonly #config: FleetConfig;
  readonly #ports: PublicationPorts;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(config: FleetConfig, ports: PublicationPorts) {
    this.#config = config;
    this.#ports = ports;
  }

  publishIfDue(state: FleetState, nowMs: number): Promise<PublicationOutcome> {
    const run = this.#queue.then(() => this.#publishIfDueNow(state, nowMs));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #publishIfDueNow(state: FleetState, nowMs: number): Promise<PublicationOutcome> {
    const { directory, drains, history } = this.#ports;
    const [operatorDrained, book, last] = await Promise.all([
      drains.drained(),
      directory.addresses(),
      history.last(),
    ]);
    const listed = registryListing(this.#config, state, operatorDrained);
    const addressesOf = (nodeId: string) => book.byNode.get(nodeId);
    const listedNodes = listedNodesOf(listed, addressesOf);
    if (listedNodes.length === 0) {
      this.#ports.log.warn(
        'no listed node has an address and identity yet; keeping the published registry',
        { listed, unreachable: Object.fromEntries(book.unreachable) },
      );
      return { published: false, reason: 'nothing-listable', listed };
    }
    const listedKey = JSON.stringify(listedNodes);
    const changed = last?.listedKey !== listedKey;
    const due = last === undefined || nowMs - last.publishedAtMs >= republishAfterMs(this.#config);
    if (!changed && !due) return { published: false, reason: 'unchanged', sequence: last.sequence };
    const why = changed ? 'changed' : 'due';
    try {
      const lastSequence = Math.max(
        await this.#ports.publisher.lastSequence(),
        last?.sequence ?? 0,
      );
      const sequence = await history.reserveSequence(lastSequence);
      const reasons = new Map<string, string>(book.unreachable);
      for (const nodeId of operatorDrained) reasons.set(nodeId, OPERATOR_DRAINED_REASON);
      const { artifacts } = await buildRegistryArtifacts({
        config: this.#config,
        state,
        listed,
        addressesOf,
        signer: this.#ports.signer,
        sequence,
        nowMs,
        reasons,
      });
      assertArtifactsPublishable(artifacts, { nowMs, lastSequence });
      await this.#ports.publisher.publish(artifacts);
      await history.record({ sequence, listedKey, publishedAtMs: nowMs });
      const listedNodeIds = listedNodes.map((node) => node.id);
      this.#ports.metrics.record(METRICS.registryPublications, 1, 'Count');
      this.#ports.metrics.record(METRICS.registryHealthyNodes, listedNodes.length, 'Count');
      this.#ports.log.info('published fleets.json', { sequence, listed: listedNodeIds, why });
      return { published: true, sequence, listedNodeIds, why };
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      const expiresAfterMs = this.#config.registry.expiresAfterSeconds * 1000;
      const ageMs = last ? nowMs - last.publishedAtMs : Number.POSITIVE_INFINITY;
      this.#ports.log.warn('publication refused', { error: failure.message, why });
      return {
        published: false,
        reason: 'refused',
        error: failure,
        stale: ageMs > expiresAfterMs / 2,
      };
    }
  }
}
