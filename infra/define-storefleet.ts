// Lays a fleet config out as stacks: one control stack, one stack per other region with nodes or vantage points, and the registry replica's.
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { type FleetConfig, resolveNodes } from '../fleet/config.ts';
import type { DeploymentTopology } from '../fleet/function-environment.ts';
import { HANDLER_ENTRIES, type HandlerName } from './ControlPlane.ts';
import { type DeployContext, DeployContextError } from './deploy-context.ts';
import { registryReplicaBucketName } from './RegistryReplica.ts';
import { RegistryReplicaStack } from './RegistryReplicaStack.ts';
import { clusterName, fleetSlug, nodeAddressesParameterName, nodeSlug } from './resource-names.ts';
import { MissingHandlersError, PROJECT_ROOT } from './StorefleetFunction.ts';
import { StorefleetRegionStack } from './StorefleetRegionStack.ts';
import { StorefleetStack } from './StorefleetStack.ts';

export interface StorefleetStacks {
  control: StorefleetStack;
  /** By region. */
  regions: Map<string, StorefleetRegionStack>;
  /** The registry replica's stack, with `-c registryReplicaRegion`. */
  replica: RegistryReplicaStack | undefined;
}

/** Where every node of the config will run; derived from names alone, so it is known before deployment. */
export function deploymentTopology(config: FleetConfig, controlRegion: string): DeploymentTopology {
  return {
    fleet: config.fleet,
    controlRegion,
    nodes: resolveNodes(config).map((node) => ({
      nodeId: node.id,
      region: node.region,
      cluster: clusterName(config.fleet),
      service: nodeSlug(node, config.fleet),
      addressesParameter: nodeAddressesParameterName(config.fleet, node.region),
    })),
  };
}

/** Names every missing handler at once, rather than the first function that trips over one. */
function assertHandlersExist(entries: Record<HandlerName, string>): void {
  const missing = Object.entries(entries).filter(
    ([, entry]) => !existsSync(isAbsolute(entry) ? entry : join(PROJECT_ROOT, entry)),
  );
  if (missing.length > 0) {
    throw new MissingHandlersError(missing.map(([name, entry]) => `${name}: ${entry}`));
  }
}

/**
 * @example
 * const app = new App();
 * defineStorefleet(app, loadFleetConfigFile('config/fleet.example.json'), readDeployContext(app.node));
 */
export function defineStorefleet(
  app: App,
  config: FleetConfig,
  context: DeployContext,
): StorefleetStacks {
  const nodes = resolveNodes(config);
  const controlRegion =
    context.controlRegion ?? (config.vantagePoints[0]?.region as string | undefined) ?? '';
  if (!config.vantagePoints.some((vp) => vp.region === controlRegion)) {
    // The controller is the control region's first watcher: without one, nothing decides.
    throw new DeployContextError(
      'controlRegion',
      controlRegion,
      `expected a region with a vantage point (${[...new Set(config.vantagePoints.map((vp) => vp.region))].join(', ')})`,
    );
  }
  if (context.registryReplicaRegion === controlRegion) {
    throw new DeployContextError(
      'registryReplicaRegion',
      context.registryReplicaRegion,
      'expected a region other than the control region',
    );
  }
  const topology = deploymentTopology(config, controlRegion);
  const entries: Partial<Record<HandlerName, string>> = {};
  if (context.lambdaEntryOverride) {
    for (const name of Object.keys(HANDLER_ENTRIES) as HandlerName[]) {
      entries[name] = context.lambdaEntryOverride;
    }
  }
  assertHandlersExist({ ...HANDLER_ENTRIES, ...entries });
  const domain = context.domain ?? config.registry.domain;
  const slug = fleetSlug(config.fleet);
  const shared = (region: string) => ({
    env: { account: context.account },
    fleet: config.fleet,
    region,
    config,
    controlRegion,
    topology,
    domain,
    certificateArn: context.certificateArns[region],
    hostedZoneId: context.hostedZoneId,
    extraNodeEnvironment: context.nwakuEnvironment,
    alarmEmail: context.alarmEmail,
    notifyEmail: context.notifyEmail,
    runbookBaseUrl: context.runbookBaseUrl,
  });

  let replica: RegistryReplicaStack | undefined;
  if (context.registryReplicaRegion) {
    replica = new RegistryReplicaStack(app, `Storefleet-${slug}-registry-replica`, {
      env: { account: context.account },
      fleet: config.fleet,
      region: context.registryReplicaRegion,
      description: `storefleet ${config.fleet}: the registry's replica in ${context.registryReplicaRegion}`,
    });
  }
  const control = new StorefleetStack(app, `Storefleet-${slug}`, {
    ...shared(controlRegion),
    description: `storefleet ${config.fleet}: control plane in ${controlRegion} and its store nodes`,
    nodes,
    entries,
    registryDomain:
      context.registryDomain && context.registryCertificateArn
        ? { name: context.registryDomain, certificateArn: context.registryCertificateArn }
        : undefined,
    registryReplica: replica
      ? {
          bucketName: registryReplicaBucketName(config.fleet, replica.account, replica.region),
          region: replica.region,
        }
      : undefined,
  });
  if (replica) control.addDependency(replica, 'S3 replicates the registry into the replica bucket');

  const otherRegions = [
    ...new Set([
      ...nodes.map((node) => node.region),
      ...config.vantagePoints.map((vp) => vp.region),
    ]),
  ]
    .filter((region) => region !== controlRegion)
    .sort();
  const regions = new Map<string, StorefleetRegionStack>();
  for (const region of otherRegions) {
    const stack = new StorefleetRegionStack(app, `Storefleet-${slug}-${region}`, {
      ...shared(region),
      description: `storefleet ${config.fleet}: store nodes and watchers in ${region}`,
      nodes: nodes.filter((node) => node.region === region),
    });
    stack.addDependency(control, 'watchers write into the control region tables');
    regions.set(region, stack);
  }
  return { control, regions, replica };
}
