// One small snapshot per construct (asset hashes stripped), so that a review reads the change to the part that changed; UPDATE_SNAPSHOTS=1 rewrites them.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { App, NestedStack, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { Construct } from 'constructs';
import { describe, it } from 'vitest';
import { resolveNodes } from '../../fleet/config.ts';
import { ControlPlane } from '../../infra/ControlPlane.ts';
import { deploymentTopology } from '../../infra/define-storefleet.ts';
import { FleetAlarms } from '../../infra/FleetAlarms.ts';
import { FleetApi } from '../../infra/FleetApi.ts';
import { FleetDashboard } from '../../infra/FleetDashboard.ts';
import { FleetRegistry } from '../../infra/FleetRegistry.ts';
import { OfflineStack } from '../../infra/OfflineStack.ts';
import { RegistryReplica } from '../../infra/RegistryReplica.ts';
import { PROJECT_ROOT } from '../../infra/StorefleetFunction.ts';
import { StoreNodeFleet } from '../../infra/StoreNodeFleet.ts';
import { WatcherCluster } from '../../infra/WatcherCluster.ts';
import { WatcherService } from '../../infra/WatcherService.ts';
import {
  type CfnJson,
  cdkJsonContext,
  configWithNodesPerRegion,
  FIXTURE_HANDLER,
  synthWithoutBuiltinValidation,
  TEST_ACCOUNT,
} from './synthesize-fleet.ts';

const SNAPSHOTS = join(import.meta.dirname, '__snapshots__');
/** Asset hashes change with every handler or page edit; the snapshots are about the infrastructure. */
const ASSET_HASH = /[0-9a-f]{64}/g;
const REGION = 'eu-central-1';

// Prepare: two nodes and one vantage point in one region, every construct built once in one stack.
const config = configWithNodesPerRegion(
  { [REGION]: 2 },
  {
    vantagePoints: [{ id: 'vp-eu', region: REGION, reachesRest: true }],
    failover: { quorum: 1, minHealthy: 1 },
  },
);
const app = new App({
  context: {
    ...cdkJsonContext(),
    'aws:cdk:bundling-stacks': [],
    'aws:cdk:enable-path-metadata': true,
  },
});
const stack = new OfflineStack(app, 'Constructs', {
  env: { account: TEST_ACCOUNT },
  region: REGION,
  fleet: config.fleet,
});
const topology = deploymentTopology(config, REGION);
const entries = {
  publisher: FIXTURE_HANDLER,
  completeness: FIXTURE_HANDLER,
  stress: FIXTURE_HANDLER,
  api: FIXTURE_HANDLER,
};
const nodes = new StoreNodeFleet(stack, 'StoreNodeFleet', {
  config,
  region: REGION,
  nodes: resolveNodes(config),
});
const registry = new FleetRegistry(stack, 'FleetRegistry', {
  fleet: config.fleet,
  registry: config.registry,
  projectRoot: PROJECT_ROOT,
});
const control = new ControlPlane(stack, 'ControlPlane', {
  config,
  region: REGION,
  registry,
  topology,
  entries,
});
const watcherCluster = new WatcherCluster(stack, 'WatcherCluster', {
  fleet: config.fleet,
  region: REGION,
});
const watcher = new WatcherService(stack, 'WatcherService', {
  config,
  vantagePoint: config.vantagePoints[0]!,
  controlRegion: REGION,
  topology,
  cluster: nodes.cluster,
  vpcSubnets: { subnets: nodes.vpc.publicSubnets },
  securityGroup: nodes.probersSecurityGroup,
  controller: {
    registryBucketName: registry.bucket.bucketName,
    registryBucketArn: registry.bucket.bucketArn,
    signingGrant: registry.signingGrant,
    signingKeyId: registry.signingKeyId,
  },
});
const api = new FleetApi(stack, 'FleetApi', {
  fleet: config.fleet,
  controlRegion: REGION,
  probeResults: control.probeResults,
  nodeState: control.nodeState,
  configParameter: control.configParameter,
  deploymentParameter: control.deploymentParameter,
  stressFunction: control.stress,
  registry,
  entry: FIXTURE_HANDLER,
});
const alarms = new FleetAlarms(stack, 'FleetAlarms', {
  config,
  clusterName: 'storefleet-storefleet-test',
  nodeServices: nodes.nodes.map(({ node, service }) => ({ nodeId: node.id, service })),
  watcherServices: [{ vantageId: 'vp-eu', service: watcher.service }],
  controlPlane: {
    functions: [{ name: 'publisher', fn: control.publisher, timeout: control.publisher.timeout! }],
  },
});
new FleetDashboard(stack, 'FleetDashboard', {
  fleet: config.fleet,
  regions: [
    {
      region: REGION,
      clusterName: 'storefleet-storefleet-test',
      hasNodes: true,
      databaseInstanceId: 'archive',
    },
  ],
  functions: [control.publisher],
  alarms: alarms.alarms,
});
new RegistryReplica(stack, 'RegistryReplica', { fleet: config.fleet });
void api;
void watcherCluster;
synthWithoutBuiltinValidation(app);

/** The resources of `stack` that belong to the construct with this id, keyed by logical id. */
function resourcesUnder(of: Stack, constructId: string): Record<string, CfnJson> {
  const template = Template.fromStack(of).toJSON();
  const prefix = `${stack.node.id}/${constructId}/`;
  return Object.fromEntries(
    Object.entries(template.Resources as Record<string, CfnJson>).filter(([, resource]) =>
      String(resource.Metadata?.['aws:cdk:path'] ?? '').startsWith(prefix),
    ),
  );
}

function snapshotOf(constructId: string, extra: Record<string, unknown> = {}): unknown {
  return JSON.parse(
    JSON.stringify({ Resources: resourcesUnder(stack, constructId), ...extra }).replace(
      ASSET_HASH,
      '<asset-hash>',
    ),
  );
}

function assertSnapshot(name: string, current: unknown): void {
  const file = join(SNAPSHOTS, `${name}.json`);
  if (process.env.UPDATE_SNAPSHOTS === '1') {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(current, null, 2)}\n`);
  }
  assert.ok(
    existsSync(file),
    `no snapshot yet: run UPDATE_SNAPSHOTS=1 npx vitest run ${import.meta.filename}`,
  );
  assert.deepEqual(current, JSON.parse(readFileSync(file, 'utf8')));
}

const nestedGroups = (scope: Construct) =>
  scope.node.findAll().filter((child): child is NestedStack => child instanceof NestedStack);

describe('per-construct snapshots', () => {
  for (const id of [
    'FleetRegistry',
    'ControlPlane',
    'WatcherService',
    'WatcherCluster',
    'FleetApi',
    'FleetAlarms',
    'FleetDashboard',
    'RegistryReplica',
  ]) {
    it(`${id} matches __snapshots__/${id}.json`, () => {
      const current = snapshotOf(id);
      assert.ok(Object.keys((current as { Resources: object }).Resources).length > 0);
      assertSnapshot(id, current);
    });
  }

  it('StoreNodeFleet and its node group match __snapshots__/StoreNodeFleet.json', () => {
    const groups = nestedGroups(nodes).map((group) => ({
      [group.node.id]: JSON.parse(
        JSON.stringify(Template.fromStack(group).toJSON().Resources).replace(
          ASSET_HASH,
          '<asset-hash>',
        ),
      ),
    }));
    assert.equal(groups.length, 1);
    assertSnapshot('StoreNodeFleet', snapshotOf('StoreNodeFleet', { NestedGroups: groups }));
  });
});
