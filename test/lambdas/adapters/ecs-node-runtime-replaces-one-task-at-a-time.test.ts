// EcsNodeRuntime's ECS requests: forced deployments only on services that cannot run two tasks, and task states per node.
import assert from 'node:assert/strict';
import {
  DescribeServicesCommand,
  type DescribeServicesCommandInput,
  ECSClient,
  ECSServiceException,
  type Service,
  StopTaskCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, it } from 'vitest';
import { AwsCallError } from '../../../lambdas/adapters/aws-call-error.ts';
import { EcsNodeRuntime, NodeReplacementError } from '../../../lambdas/adapters/EcsNodeRuntime.ts';

const CLUSTER = 'storefleet-test-fleet';
const euClient = new ECSClient({ region: 'eu-west-1' });
const usClient = new ECSClient({ region: 'us-east-1' });
const eu = mockClient(euClient);
const us = mockClient(usClient);

const serviceName = (nodeId: string) => nodeId.replace('.test.fleet', '').replaceAll('.', '-');

function service(name: string, overrides: Partial<Service> = {}): Service {
  return {
    serviceName: name,
    status: 'ACTIVE',
    desiredCount: 1,
    runningCount: 1,
    pendingCount: 0,
    deploymentConfiguration: { maximumPercent: 100, minimumHealthyPercent: 0 },
    ...overrides,
  };
}

function runtime(nodes: { id: string; region: string }[], logged: object[] = []) {
  return new EcsNodeRuntime({
    clusterName: CLUSTER,
    nodes,
    serviceName,
    clientForRegion: (region) => (region === 'eu-west-1' ? euClient : usClient),
    logger: {
      info: (message, ...extra) => logged.push({ message, ...Object.assign({}, ...extra) }),
    },
  });
}

beforeEach(() => {
  eu.reset();
  us.reset();
});

describe('replacing a node', () => {
  it("forces a new deployment of the node's service in its region (checks our calls, not AWS)", async () => {
    // Prepare
    eu.on(DescribeServicesCommand).resolves({ services: [service('store-01-do-ams3')] });
    eu.on(UpdateServiceCommand).resolves({});
    const logged: object[] = [];
    const nodes = runtime(
      [
        { id: 'store-01.do-ams3.test.fleet', region: 'eu-west-1' },
        { id: 'store-02.ac-use1.test.fleet', region: 'us-east-1' },
      ],
      logged,
    );

    // Act
    await nodes.replaceNode('store-01.do-ams3.test.fleet', 'failed 3 rounds from 2 vantage points');

    // Assess
    const updates = eu.commandCalls(UpdateServiceCommand).map((call) => call.args[0].input);
    assert.deepEqual(updates, [
      { cluster: CLUSTER, service: 'store-01-do-ams3', forceNewDeployment: true },
    ]);
    assert.equal(eu.commandCalls(StopTaskCommand).length, 0);
    assert.equal(us.calls().length, 0);
    assert.deepEqual(logged, [
      {
        message: 'replacing store node',
        nodeId: 'store-01.do-ams3.test.fleet',
        service: 'store-01-do-ams3',
        region: 'eu-west-1',
        reason: 'failed 3 rounds from 2 vantage points',
      },
    ]);
  });

  it('refuses a service whose deployments could run a second task with the same key (checks our calls, not AWS)', async () => {
    // Prepare
    eu.on(DescribeServicesCommand).resolves({
      services: [
        service('store-01-do-ams3', {
          deploymentConfiguration: { maximumPercent: 200, minimumHealthyPercent: 100 },
        }),
      ],
    });
    const nodes = runtime([{ id: 'store-01.do-ams3.test.fleet', region: 'eu-west-1' }]);

    // Act
    const replacing = nodes.replaceNode('store-01.do-ams3.test.fleet', 'test');

    // Assess
    await assert.rejects(replacing, (error: unknown) => {
      assert.ok(error instanceof NodeReplacementError);
      assert.match(error.message, /allows 200 %.*set maximumPercent to 100/);
      return true;
    });
    assert.equal(eu.commandCalls(UpdateServiceCommand).length, 0);
  });

  it('refuses a node whose service is missing or unknown to the config (checks our calls, not AWS)', async () => {
    // Prepare
    eu.on(DescribeServicesCommand).resolves({
      services: [],
      failures: [{ arn: 'arn:aws:ecs:eu-west-1:1:service/x/store-01-do-ams3', reason: 'MISSING' }],
    });
    const nodes = runtime([{ id: 'store-01.do-ams3.test.fleet', region: 'eu-west-1' }]);

    // Act
    const missing = nodes.replaceNode('store-01.do-ams3.test.fleet', 'test');
    const unknown = nodes.replaceNode('store-09.do-ams3.test.fleet', 'test');

    // Assess
    await assert.rejects(
      missing,
      /service "store-01-do-ams3" in cluster "storefleet-test-fleet" \(eu-west-1\) does not exist/,
    );
    await assert.rejects(unknown, /not in the fleet config/);
    assert.equal(eu.commandCalls(UpdateServiceCommand).length, 0);
  });

  it('names the cluster and what to check when ECS refuses (checks our calls, not AWS)', async () => {
    // Prepare
    eu.on(DescribeServicesCommand).rejects(
      new ECSServiceException({
        name: 'ClusterNotFoundException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Cluster not found.',
      }),
    );
    const nodes = runtime([{ id: 'store-01.do-ams3.test.fleet', region: 'eu-west-1' }]);

    // Act
    const replacing = nodes.replaceNode('store-01.do-ams3.test.fleet', 'test');

    // Assess
    await assert.rejects(replacing, (error: unknown) => {
      assert.ok(error instanceof AwsCallError);
      assert.match(
        error.message,
        /ecs:DescribeServices on cluster "storefleet-test-fleet" in eu-west-1 failed/,
      );
      assert.match(error.message, /exists/);
      return true;
    });
  });
});

describe('reading task states', () => {
  it('maps each node to running, pending, stopped or missing (checks our calls, not AWS)', async () => {
    // Prepare
    eu.on(DescribeServicesCommand).resolves({
      services: [
        service('store-01-do-ams3'),
        service('store-02-do-ams3', { runningCount: 0, pendingCount: 1 }),
        service('store-03-do-ams3', { runningCount: 0, pendingCount: 0 }),
        service('store-04-do-ams3', { status: 'INACTIVE', runningCount: 0 }),
      ],
      failures: [{ reason: 'MISSING', arn: 'arn:aws:ecs:eu-west-1:1:service/x/store-05-do-ams3' }],
    });
    us.on(DescribeServicesCommand).resolves({ services: [service('store-06-ac-use1')] });
    const nodes = runtime([
      { id: 'store-01.do-ams3.test.fleet', region: 'eu-west-1' },
      { id: 'store-06.ac-use1.test.fleet', region: 'us-east-1' },
      { id: 'store-02.do-ams3.test.fleet', region: 'eu-west-1' },
      { id: 'store-03.do-ams3.test.fleet', region: 'eu-west-1' },
      { id: 'store-04.do-ams3.test.fleet', region: 'eu-west-1' },
      { id: 'store-05.do-ams3.test.fleet', region: 'eu-west-1' },
    ]);

    // Act
    const states = await nodes.taskStates();

    // Assess
    assert.deepEqual(
      [...states],
      [
        ['store-01.do-ams3.test.fleet', 'running'],
        ['store-06.ac-use1.test.fleet', 'running'],
        ['store-02.do-ams3.test.fleet', 'pending'],
        ['store-03.do-ams3.test.fleet', 'stopped'],
        ['store-04.do-ams3.test.fleet', 'missing'],
        ['store-05.do-ams3.test.fleet', 'missing'],
      ],
    );
    assert.deepEqual(
      us.commandCalls(DescribeServicesCommand).map((call) => call.args[0].input),
      [{ cluster: CLUSTER, services: ['store-06-ac-use1'] }],
    );
  });

  it('asks for at most 10 services per DescribeServices call (checks our calls, not AWS)', async () => {
    // Prepare
    const fleet = Array.from({ length: 23 }, (_, i) => ({
      id: `store-${String(i + 1).padStart(2, '0')}.do-ams3.test.fleet`,
      region: 'eu-west-1',
    }));
    eu.on(DescribeServicesCommand).callsFake((input: DescribeServicesCommandInput) => ({
      services: (input.services ?? []).map((name) => service(name)),
    }));

    // Act
    const states = await runtime(fleet).taskStates();

    // Assess
    const sizes = eu
      .commandCalls(DescribeServicesCommand)
      .map((call) => call.args[0].input.services?.length);
    assert.deepEqual(sizes, [10, 10, 3]);
    assert.equal(states.size, 23);
    assert.ok([...states.values()].every((state) => state === 'running'));
  });
});
