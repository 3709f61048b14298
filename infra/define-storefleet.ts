// Lays a fleet config out as stacks: one control stack, one stack per other region with nodes or vantage points.
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { type FleetConfig, resolveNodes } from '../fleet/config.ts';
import type { DeploymentTopology } from '../fleet/function-environment.ts';
import type { DeployContext } from './deploy-context.ts';
import { HANDLER_ENTRIES, type HandlerName } from './FleetWatch.ts';
import { clusterName, fleetSlug, nodeAddressesParameterName, nodeSlug } from './resource-names.ts';
import { MissingHandlersError, PROJECT_ROOT } from './StorefleetFunction.ts';
import { StorefleetRegionStack } from './StorefleetRegionStack.ts';
import { StorefleetStack } from './StorefleetStack.ts';

export interface StorefleetStacks {
  control: StorefleetStack;
  /** By region. */
  regions: Map<string, StorefleetRegionStack>;
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
    context.controlRegion ??
    (config.vantagePoints[0]?.region as string | undefined) ??
    (nodes[0]?.region as string);
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
  const env = (region: string) => ({ account: context.account, region });

  const control = new StorefleetStack(app, `Storefleet-${slug}`, {
    env: env(controlRegion),
    description: `storefleet ${config.fleet}: control plane in ${controlRegion} and its store nodes`,
    config,
    region: controlRegion,
    nodes,
    topology,
    domain,
    certificateArn: context.certificateArns[controlRegion],
    extraNodeEnvironment: context.nwakuEnvironment,
    alarmEmail: context.alarmEmail,
    notifyEmail: context.notifyEmail,
    runbookBaseUrl: context.runbookBaseUrl,
    entries,
  });

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
      env: env(region),
      description: `storefleet ${config.fleet}: store nodes and probers in ${region}`,
      config,
      region,
      controlRegion,
      nodes: nodes.filter((node) => node.region === region),
      domain,
      certificateArn: context.certificateArns[region],
      extraNodeEnvironment: context.nwakuEnvironment,
      alarmEmail: context.alarmEmail,
      notifyEmail: context.notifyEmail,
      runbookBaseUrl: context.runbookBaseUrl,
      probeEntry: entries.probe,
    });
    stack.addStackDependency(control, 'probers write into the control region tables');
    regions.set(region, stack);
  }
  return { control, regions };
}
