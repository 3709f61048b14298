// NodeRuntime on ECS: one service per store node (desired count 1), in the cluster of the node's region.
//
// Replacing a node forces a new deployment of its service rather than calling StopTask:
// - Each node's service runs with minimumHealthyPercent 0 and maximumPercent 100. A deployment may
//   then never have more than one task RUNNING or PENDING, so ECS stops the old task before it
//   starts the new one: two tasks never hold the same node key (libp2p peer id) at once.
// - StopTask is not a deployment, so that cap does not govern it: the service scheduler refills its
//   desired count as soon as the old task's desired status is STOPPED, which can be while the old
//   container is still inside its stop timeout (30 s for nwaku), still listening with the key.
// - A forced deployment also recovers a service whose scheduler has given up on a failing task,
//   which StopTask (with no task to stop) cannot.
// Before deploying, the service's deployment settings are read back; a service that would allow a
// second task is refused rather than replaced, because the one-task guarantee rests on them.
// ECS's UpdateService takes no free-text reason, so `reason` goes to the log line of the replacement.
import {
  DescribeServicesCommand,
  ECSClient,
  type Service,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import type { NodeRuntime, TaskState } from '../../fleet/ports.ts';
import { callAws } from './aws-call-error.ts';
import { logger as defaultLogger } from './logger.ts';

/** DescribeServices accepts at most 10 services per call. */
const DESCRIBE_SERVICES_MAX = 10;
/** With more than this share of the desired count allowed during a deployment, two tasks could share a key. */
const MAX_SAFE_MAXIMUM_PERCENT = 100;

const clientsByRegion = new Map<string, ECSClient>();

/** One client per region for the life of the execution environment. */
function defaultClientForRegion(region: string): ECSClient {
  let client = clientsByRegion.get(region);
  if (!client) {
    client = new ECSClient({ region });
    clientsByRegion.set(region, client);
  }
  return client;
}

/** The part of a ResolvedNode this runtime needs. */
export interface EcsNode {
  id: string;
  region: string;
}

export interface EcsNodeRuntimeProps {
  /** The nodes' ECS cluster, named the same in every region (infra's clusterName(fleet)). */
  clusterName: string;
  /** Every node of the fleet with its region; taskStates reports on exactly these. */
  nodes: readonly EcsNode[];
  /** Node id to ECS service name, e.g. `store-01.do-ams3.status.prod` -> `store-01-do-ams3`. */
  serviceName: (nodeId: string) => string;
  /**
   * Swappable for tests.
   * @default one module-scope ECSClient per region, created on first use
   */
  clientForRegion?: (region: string) => ECSClient;
  /**
   * Where the replacement and its reason are logged.
   * @default the shared storefleet Logger
   */
  logger?: ReplacementLogger;
}

/** The one logger call this runtime makes; Powertools' Logger fits it. */
export interface ReplacementLogger {
  info(message: string, attributes: Record<string, unknown>): void;
}

/** A node's service cannot be replaced safely, or is not there to replace. */
export class NodeReplacementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeReplacementError';
  }
}

/**
 * @example
 * const runtime = new EcsNodeRuntime({
 *   clusterName: 'storefleet-status-prod',
 *   nodes: resolveNodes(config),
 *   serviceName: (id) => id.replace(`.${config.fleet}`, '').replaceAll('.', '-'),
 * });
 * await runtime.replaceNode('store-01.do-ams3.status.prod', 'failed 3 rounds from 2 vantage points');
 */
export class EcsNodeRuntime implements NodeRuntime {
  readonly #cluster: string;
  readonly #nodes: readonly EcsNode[];
  readonly #serviceName: (nodeId: string) => string;
  readonly #clientForRegion: (region: string) => ECSClient;
  readonly #logger: ReplacementLogger;

  constructor(props: EcsNodeRuntimeProps) {
    this.#cluster = props.clusterName;
    this.#nodes = props.nodes;
    this.#serviceName = props.serviceName;
    this.#clientForRegion = props.clientForRegion ?? defaultClientForRegion;
    this.#logger = props.logger ?? defaultLogger;
  }

  async replaceNode(nodeId: string, reason: string): Promise<void> {
    const node = this.#nodes.find((candidate) => candidate.id === nodeId);
    if (!node) {
      throw new NodeReplacementError(
        `node "${nodeId}" is not in the fleet config; expected one of: ${this.#nodes.map((n) => n.id).join(', ')}`,
      );
    }
    const service = this.#serviceName(nodeId);
    const client = this.#clientForRegion(node.region);
    const where = `service "${service}" in cluster "${this.#cluster}" (${node.region})`;
    const [described] = await this.#describe(client, node.region, [service]);
    const found = described?.get(service);
    if (found?.status !== 'ACTIVE') {
      throw new NodeReplacementError(
        `${where} does not exist or is not active; deploy the fleet stack (cdk deploy) before replacing ${nodeId}`,
      );
    }
    const maximumPercent = found.deploymentConfiguration?.maximumPercent;
    if (maximumPercent === undefined || maximumPercent > MAX_SAFE_MAXIMUM_PERCENT) {
      throw new NodeReplacementError(
        `${where} allows ${maximumPercent ?? 'the default 200'} % of its tasks during a deployment, so a replacement could run beside the old task with the same node key; set maximumPercent to 100 and minimumHealthyPercent to 0`,
      );
    }
    await callAws({ action: 'ecs:UpdateService', resource: where }, () =>
      client.send(
        new UpdateServiceCommand({ cluster: this.#cluster, service, forceNewDeployment: true }),
      ),
    );
    this.#logger.info('replacing store node', { nodeId, service, region: node.region, reason });
  }

  async taskStates(): Promise<ReadonlyMap<string, TaskState>> {
    const byRegion = new Map<string, EcsNode[]>();
    for (const node of this.#nodes) {
      byRegion.set(node.region, [...(byRegion.get(node.region) ?? []), node]);
    }
    const states = new Map<string, TaskState>();
    await Promise.all(
      [...byRegion].map(async ([region, nodes]) => {
        const client = this.#clientForRegion(region);
        const batches = await this.#describe(
          client,
          region,
          nodes.map((node) => this.#serviceName(node.id)),
        );
        const services = new Map(batches.flatMap((batch) => [...batch]));
        for (const node of nodes) {
          states.set(node.id, taskStateOf(services.get(this.#serviceName(node.id))));
        }
      }),
    );
    // Report in config order, whatever order the regions answered in.
    return new Map(this.#nodes.map((node) => [node.id, states.get(node.id) ?? 'missing']));
  }

  /** DescribeServices in batches; services ECS reports as MISSING are simply absent from the maps. */
  async #describe(
    client: ECSClient,
    region: string,
    services: readonly string[],
  ): Promise<Map<string, Service>[]> {
    const batches: string[][] = [];
    for (let start = 0; start < services.length; start += DESCRIBE_SERVICES_MAX) {
      batches.push(services.slice(start, start + DESCRIBE_SERVICES_MAX));
    }
    return Promise.all(
      batches.map(async (batch) => {
        const output = await callAws(
          {
            action: 'ecs:DescribeServices',
            resource: `cluster "${this.#cluster}" in ${region}`,
          },
          () =>
            client.send(new DescribeServicesCommand({ cluster: this.#cluster, services: batch })),
        );
        return new Map(
          (output.services ?? []).flatMap((service) =>
            service.serviceName ? [[service.serviceName, service] as const] : [],
          ),
        );
      }),
    );
  }
}

/**
 * running: at least one task runs. pending: none runs yet but one is starting. stopped: the service
 * exists but no task runs or starts (between tasks, or ECS backing off a failing one).
 * missing: no active service.
 */
export function taskStateOf(service: Service | undefined): TaskState {
  if (service?.status !== 'ACTIVE') return 'missing';
  if ((service.runningCount ?? 0) > 0) return 'running';
  if ((service.pendingCount ?? 0) > 0) return 'pending';
  return 'stopped';
}
