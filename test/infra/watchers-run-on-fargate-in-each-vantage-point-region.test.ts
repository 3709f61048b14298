// One ECS Fargate watcher per vantage point in its own region replaces the probe and controller functions: arm64, one task at most, Spot or on demand, scoped IAM.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { FUNCTION_ENVIRONMENT } from '../../fleet/function-environment.ts';
import {
  type CfnJson,
  configWithNodesPerRegion,
  everyResourceOf,
  mentions,
  resourcesOf,
  synthesizeFleet,
} from './synthesize-fleet.ts';

// Prepare: the example (vp-eu in the control region, vp-us and vp-ap elsewhere), and on demand.
const fleet = synthesizeFleet();
const onDemand = synthesizeFleet(
  {},
  configWithNodesPerRegion(2, {
    aws: { watcher: { capacity: 'onDemand', cpu: 512, memoryMiB: 1024 } },
  }),
);

const watchers = (of: typeof fleet) =>
  everyResourceOf(of, 'AWS::ECS::Service').filter((service) =>
    String(service.Properties.ServiceName).startsWith('watcher-'),
  );
const CONTROL = 'eu-central-1';
const REMOTE = 'us-east-1';
const stackIn = (region: string) => fleet.all.find((stack) => stack.region === region)!;
function watcherTask(region: string) {
  const stack = stackIn(region);
  const [definition] = resourcesOf(fleet.template(stack), 'AWS::ECS::TaskDefinition').filter(
    ({ Properties }) => String(Properties.Family).includes('watcher-'),
  );
  assert.ok(definition);
  return definition.Properties;
}
function policiesOf(region: string, role: RegExp): CfnJson[] {
  return resourcesOf(fleet.template(stackIn(region)), 'AWS::IAM::Policy')
    .filter(({ id }) => role.test(id))
    .flatMap(({ Properties }) => Properties.PolicyDocument.Statement);
}

describe('a watcher per vantage point', () => {
  it('runs one service per vantage point, in its own region, and no probe or controller function', () => {
    const found = watchers(fleet).map((service) => [
      service.stack.region,
      service.Properties.ServiceName,
    ]);
    assert.deepEqual(found.sort(), [
      ['ap-east-1', 'watcher-vp-ap'],
      ['eu-central-1', 'watcher-vp-eu'],
      ['us-east-1', 'watcher-vp-us'],
    ]);
    const functions = everyResourceOf(fleet, 'AWS::Lambda::Function').map(({ id }) => id);
    assert.ok(!functions.some((id) => /Probe|Controller/.test(id)), functions.join(', '));
  });

  it('never runs two tasks: desired 1, maximum 100 %, minimum 0 %, rolled back on failure', () => {
    for (const { Properties } of watchers(fleet)) {
      assert.equal(Properties.DesiredCount, 1);
      assert.equal(Properties.DeploymentConfiguration.MaximumPercent, 100);
      assert.equal(Properties.DeploymentConfiguration.MinimumHealthyPercent, 0);
      assert.equal(Properties.DeploymentConfiguration.DeploymentCircuitBreaker.Rollback, true);
      assert.equal(Properties.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp, 'ENABLED');
    }
  });

  it('runs on Fargate Spot by default and on demand when the config says so', () => {
    for (const { Properties } of watchers(fleet)) {
      assert.deepEqual(Properties.CapacityProviderStrategy, [
        { CapacityProvider: 'FARGATE_SPOT', Weight: 1 },
      ]);
    }
    for (const { Properties } of watchers(onDemand)) {
      assert.deepEqual(Properties.CapacityProviderStrategy, [
        { CapacityProvider: 'FARGATE', Weight: 1 },
      ]);
    }
    const clusters = everyResourceOf(fleet, 'AWS::ECS::ClusterCapacityProviderAssociations');
    assert.equal(clusters.length, 3);
    for (const cluster of clusters) {
      assert.ok(cluster.Properties.CapacityProviders.includes('FARGATE_SPOT'));
    }
  });

  it('runs `node cli/main.ts watch --vantage ID` on arm64 from the repository image', () => {
    const task = watcherTask(REMOTE);
    assert.deepEqual(task.RuntimePlatform, {
      CpuArchitecture: 'ARM64',
      OperatingSystemFamily: 'LINUX',
    });
    assert.equal(task.Cpu, '256');
    assert.equal(task.Memory, '512');
    const [container] = task.ContainerDefinitions;
    assert.deepEqual(container.Command, ['node', 'cli/main.ts', 'watch', '--vantage', 'vp-us']);
    assert.ok(
      mentions(container.Image, 'cdk-hnb659fds-container-assets'),
      JSON.stringify(container.Image),
    );
    const sizes = resourcesOf(onDemand.template(onDemand.all[0]!), 'AWS::ECS::TaskDefinition').find(
      ({ Properties }) => String(Properties.Family).includes('watcher-'),
    );
    assert.equal(sizes?.Properties.Cpu, '512');
    assert.equal(sizes?.Properties.Memory, '1024');
  });

  it('passes the variables of fleet/function-environment.ts; only the control watcher is the controller', () => {
    const env = (region: string) =>
      Object.fromEntries(
        watcherTask(region).ContainerDefinitions[0].Environment.map(
          (entry: { Name: string; Value: unknown }) => [entry.Name, entry.Value],
        ),
      );
    const control = env(CONTROL);
    const remote = env(REMOTE);
    assert.equal(control[FUNCTION_ENVIRONMENT.controller], 'true');
    assert.equal(remote[FUNCTION_ENVIRONMENT.controller], undefined);
    assert.equal(remote[FUNCTION_ENVIRONMENT.vantageId], 'vp-us');
    assert.equal(remote[FUNCTION_ENVIRONMENT.region], 'us-east-1');
    assert.equal(remote[FUNCTION_ENVIRONMENT.controlRegion], 'eu-central-1');
    assert.equal(
      remote[FUNCTION_ENVIRONMENT.probeResultsTable],
      'storefleet-storefleet-test-probe-results',
    );
    assert.equal(
      remote[FUNCTION_ENVIRONMENT.configParameter],
      '/storefleet/storefleet-test/config',
    );
    assert.equal(remote[FUNCTION_ENVIRONMENT.registryBucket], undefined);
    assert.ok(control[FUNCTION_ENVIRONMENT.registryBucket]);
    assert.equal(
      control[FUNCTION_ENVIRONMENT.signingKeyId],
      'alias/storefleet/storefleet-test/registry',
    );
  });
});

describe('what a watcher may do', () => {
  it('lets a remote watcher write its rounds only into the control region table', () => {
    const statements = policiesOf(REMOTE, /WatchersvpusTaskRole/);
    const dynamo = statements.filter((s) => mentions(s.Action, 'dynamodb:'));
    assert.equal(dynamo.length, 1);
    assert.ok(mentions(dynamo[0].Action, 'dynamodb:PutItem'));
    assert.match(
      JSON.stringify(dynamo[0].Resource),
      /dynamodb:eu-central-1:123456789012:table\/storefleet-storefleet-test-probe-results/,
    );
    assert.ok(!statements.some((s) => mentions(s.Action, 'kms:') || mentions(s.Action, 's3:')));
    assert.ok(!statements.some((s) => mentions(s.Action, 'ecs:UpdateService')));
  });

  it('lets every watcher describe the fleet services in every region (the crash path)', () => {
    const describe = policiesOf(REMOTE, /WatchersvpusTaskRole/).find(
      (s) => s.Action === 'ecs:DescribeServices',
    );
    assert.ok(describe);
    const text = JSON.stringify(describe.Resource);
    for (const region of ['eu-central-1', 'us-east-1', 'ap-east-1']) {
      assert.match(
        text,
        new RegExp(`ecs:${region}:123456789012:service/storefleet-storefleet-test/store-01-`),
      );
    }
  });

  it('lets the controller sign, publish, record decisions and replace the fleet tasks', () => {
    const statements = policiesOf(CONTROL, /WatchersvpeuTaskRole/);
    const actions = statements.flatMap((s) => [s.Action].flat());
    for (const action of [
      'kms:Sign',
      's3:PutObject',
      'dynamodb:UpdateItem',
      'ecs:UpdateService',
      'ecs:StopTask',
    ]) {
      assert.ok(actions.includes(action), `${action} in ${actions.join(', ')}`);
    }
    const metrics = statements.find((s) => s.Action === 'cloudwatch:PutMetricData');
    assert.deepEqual(metrics.Condition, { StringEquals: { 'cloudwatch:namespace': 'Storefleet' } });
  });
});
