// A region of 30 nodes and one of 100 synthesise into templates CloudFormation accepts: at most 500 resources, 60 dynamic references, 200 outputs and parameters each.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { NODES_PER_GROUP } from '../../infra/StoreNodeFleet.ts';
import {
  configWithNodesPerRegion,
  everyResourceOf,
  type SynthesizedFleet,
  synthesizeFleet,
} from './synthesize-fleet.ts';

const LIMITS = { resources: 500, dynamicReferences: 60, outputs: 200, parameters: 200 };
const SYNTH_TIMEOUT_MS = 180_000;

function limitsOf(fleet: SynthesizedFleet) {
  return fleet.everyTemplate().map(({ stack, template }) => {
    const json = template.toJSON();
    return {
      name: stack.node.path,
      resources: Object.keys(json.Resources ?? {}).length,
      dynamicReferences: (JSON.stringify(json).match(/\{\{resolve:/g) ?? []).length,
      outputs: Object.keys(json.Outputs ?? {}).length,
      parameters: Object.keys(json.Parameters ?? {}).length,
    };
  });
}

function assertWithinLimits(fleet: SynthesizedFleet): void {
  for (const counts of limitsOf(fleet)) {
    for (const [limit, max] of Object.entries(LIMITS)) {
      const value = counts[limit as keyof typeof LIMITS];
      assert.ok(value <= max, `${counts.name}: ${value} ${limit}, CloudFormation allows ${max}`);
    }
  }
}

describe('30 nodes in one region, 100 in another', { timeout: SYNTH_TIMEOUT_MS }, () => {
  // Prepare: eu-central-1 with 30 nodes, us-east-1 with 100 (two locations of 50), ap-east-1 with 2.
  const config = configWithNodesPerRegion({ 'eu-central-1': 30, 'us-east-1': 100, 'ap-east-1': 2 });
  const shared = synthesizeFleet({}, config);
  const perNode = synthesizeFleet(
    {},
    configWithNodesPerRegion(
      { 'eu-central-1': 30, 'us-east-1': 100, 'ap-east-1': 2 },
      { aws: { loadBalancing: 'perNode' } },
    ),
  );

  it('deploys every node, one service each', () => {
    assert.equal(everyResourceOf(shared, 'AWS::ECS::Service').length, 132 + 3);
    assert.equal(everyResourceOf(perNode, 'AWS::ECS::Service').length, 132 + 3);
  });

  it('keeps every template, nested ones included, inside the limits (one balancer per region)', () => {
    assertWithinLimits(shared);
  });

  it('keeps every template inside the limits with a balancer per node too', () => {
    assertWithinLimits(perNode);
  });

  it(`splits a region's nodes into nested stacks of at most ${NODES_PER_GROUP}, by node number`, () => {
    const sizes = shared.nested.map(
      (nested) =>
        everyResourceOf(shared, 'AWS::ECS::Service').filter((s) => s.stack === nested).length,
    );
    assert.ok(
      sizes.every((size) => size > 0 && size <= NODES_PER_GROUP),
      sizes.join(','),
    );
    // 30 -> 2 groups; 100 as two locations of 50 -> 3 groups each; 2 -> 1 group.
    assert.equal(shared.nested.length, 2 + 6 + 1);
  });

  it('holds no dynamic reference per node: secrets reach the tasks by ARN and JSON field', () => {
    const [control] = limitsOf(shared);
    for (const counts of limitsOf(shared)) {
      assert.ok(counts.dynamicReferences <= 2, `${counts.name}: ${counts.dynamicReferences}`);
    }
    assert.ok(control);
    const definitions = everyResourceOf(shared, 'AWS::ECS::TaskDefinition');
    const nwaku = definitions.flatMap((definition) =>
      definition.Properties.ContainerDefinitions.filter(
        (container: { Name: string }) => container.Name === 'nwaku',
      ),
    );
    assert.equal(nwaku.length, 132);
    for (const container of nwaku) {
      const names = container.Secrets.map((secret: { Name: string }) => secret.Name).sort();
      assert.deepEqual(names, ['DATABASE_PASSWORD', 'DATABASE_USER', 'WAKUNODE2_NODEKEY']);
    }
  });
});
