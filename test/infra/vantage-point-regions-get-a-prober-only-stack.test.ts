// A vantage point in a region without store nodes gets a small stack of its own: one prober, no network, no database.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, it } from 'vitest';
import { parseFleetConfig } from '../../fleet/config.ts';
import { FUNCTION_ENVIRONMENT } from '../../fleet/function-environment.ts';
import { defineStorefleet } from '../../infra/define-storefleet.ts';
import { readDeployContext } from '../../infra/deploy-context.ts';
import { EXAMPLE_CONFIG, FIXTURE_HANDLER, resourcesOf, testApp } from './synthesize-fleet.ts';

describe('a region with a vantage point and no nodes', () => {
  it('holds just the prober, writing to the control region, and its dashboard', () => {
    // Prepare: the example fleet plus a vantage point in us-west-2, where no node runs.
    const example = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', '..', EXAMPLE_CONFIG), 'utf8'),
    );
    example.vantagePoints.push({ id: 'vp-west', region: 'us-west-2', reachesRest: false });
    const config = parseFleetConfig(example, 'test config');
    const app = testApp({ lambdaEntryOverride: FIXTURE_HANDLER });
    // Act
    const stacks = defineStorefleet(app, config, readDeployContext(app.node));
    const west = stacks.regions.get('us-west-2');
    assert.ok(west);
    const template = Template.fromStack(west);
    // Assess
    assert.deepEqual([...stacks.regions.keys()], ['ap-east-1', 'us-east-1', 'us-west-2']);
    for (const type of [
      'AWS::EC2::VPC',
      'AWS::ECS::Service',
      'AWS::RDS::DBInstance',
      'AWS::CloudWatch::Alarm',
    ]) {
      template.resourceCountIs(type, 0);
    }
    const functions = resourcesOf(template, 'AWS::Lambda::Function');
    assert.equal(functions.length, 1);
    assert.equal(
      functions[0]?.Properties.Environment.Variables[FUNCTION_ENVIRONMENT.vantageId],
      'vp-west',
    );
    assert.equal(
      functions[0]?.Properties.Environment.Variables[FUNCTION_ENVIRONMENT.controlRegion],
      'eu-central-1',
    );
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    assert.deepEqual(west.dependencies, [stacks.control]);
  });
});
