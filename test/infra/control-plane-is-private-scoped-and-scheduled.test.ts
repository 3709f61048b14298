// The control region's registry, watchers and API: private storage, signed versions, scoped IAM, minute schedules.
import assert from 'node:assert/strict';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, it } from 'vitest';
import { FUNCTION_ENVIRONMENT } from '../../fleet/function-environment.ts';
import { TABLE_KEYS } from '../../fleet/tables.ts';
import { type CfnJson, resourcesOf, synthesizeFleet } from './synthesize-fleet.ts';

// Prepare: the example config synthesised once; vp-eu lives in the control region, vp-us and vp-ap elsewhere.
const fleet = synthesizeFleet();
const control = fleet.template(fleet.stacks.control);
const controlRegion = fleet.stacks.control.region;
const regionOf = (region: string) => {
  const stack = fleet.stacks.regions.get(region);
  assert.ok(stack, `a stack for ${region}`);
  return fleet.template(stack);
};

describe('the registry', () => {
  it('is a private, versioned, encrypted bucket that refuses plain HTTP', () => {
    const buckets = resourcesOf(control, 'AWS::S3::Bucket');
    assert.equal(buckets.length, 2, 'the registry and its access logs');
    for (const bucket of buckets) {
      assert.deepEqual(bucket.Properties.PublicAccessBlockConfiguration, {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      assert.ok(bucket.Properties.BucketEncryption);
    }
    const registry = buckets.find((bucket) => bucket.Properties.VersioningConfiguration);
    assert.equal(registry?.Properties.VersioningConfiguration.Status, 'Enabled');
    for (const policy of resourcesOf(control, 'AWS::S3::BucketPolicy')) {
      const statements = policy.Properties.PolicyDocument.Statement as CfnJson[];
      assert.ok(
        statements.some(
          (s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false',
        ),
      );
      assert.ok(
        statements.every((s) => s.Effect === 'Deny' || s.Principal !== '*'),
        'no public grant',
      );
    }
  });

  it('is served by CloudFront through origin access control with the configured short TTL', () => {
    const ttl = fleet.config.registry.cacheMaxAgeSeconds;
    control.resourceCountIs('AWS::CloudFront::OriginAccessControl', 2);
    control.hasResourceProperties('AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: Match.objectLike({ DefaultTTL: ttl, MaxTTL: ttl, MinTTL: 0 }),
    });
    control.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
        CacheBehaviors: [
          Match.objectLike({
            PathPattern: '/api/*',
            AllowedMethods: ['GET', 'HEAD'],
            ViewerProtocolPolicy: 'https-only',
          }),
        ],
      }),
    });
  });

  it('signs with an asymmetric P-256 KMS key that only the publisher may use', () => {
    control.hasResourceProperties('AWS::KMS::Key', {
      KeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
    });
    control.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/storefleet/storefleet-test/registry',
    });
    const signers = resourcesOf(control, 'AWS::IAM::Policy').filter((policy) =>
      JSON.stringify(policy.Properties.PolicyDocument).includes('kms:Sign'),
    );
    assert.equal(signers.length, 1);
    assert.match(signers[0]?.id ?? '', /Publisher/);
  });
});

describe('the watchers', () => {
  it('runs every function on Node 24, arm64, with a clear ESM handler', () => {
    // The VPCs' default-security-group lockdown brings CDK's own custom-resource function; not ours.
    const functions = fleet.all
      .flatMap((stack) => resourcesOf(fleet.template(stack), 'AWS::Lambda::Function'))
      .filter((fn) => fn.Properties.Environment?.Variables?.[FUNCTION_ENVIRONMENT.fleet]);
    // 3 probers (one per vantage point) + completeness, stress, controller, publisher, API.
    assert.equal(functions.length, fleet.config.vantagePoints.length + 5);
    for (const fn of functions) {
      assert.equal(fn.Properties.Runtime, 'nodejs24.x');
      assert.deepEqual(fn.Properties.Architectures, ['arm64']);
      assert.equal(fn.Properties.Handler, 'index.handler');
    }
  });

  it('starts each prober every minute, in its own region, with its vantage point id', () => {
    for (const vantagePoint of fleet.config.vantagePoints) {
      const template =
        vantagePoint.region === controlRegion ? control : regionOf(vantagePoint.region);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            [FUNCTION_ENVIRONMENT.vantageId]: vantagePoint.id,
            [FUNCTION_ENVIRONMENT.controlRegion]: controlRegion,
            [FUNCTION_ENVIRONMENT.probeResultsTable]: 'storefleet-storefleet-test-probe-results',
            [FUNCTION_ENVIRONMENT.loopSeconds]: '60',
          }),
        },
      });
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 minute)',
        Targets: [
          Match.objectLike({
            RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
          }),
        ],
      });
    }
  });

  it('puts the REST-reaching prober inside the VPC with the probers security group', () => {
    const inVpc = resourcesOf(control, 'AWS::Lambda::Function').filter(
      (fn) => fn.Properties.VpcConfig,
    );
    assert.equal(inVpc.length, 1);
    assert.equal(
      inVpc[0]?.Properties.Environment.Variables[FUNCTION_ENVIRONMENT.vantageId],
      'vp-eu',
    );
    const probersGroup = fleet.stacks.control.getLogicalId(
      fleet.stacks.control.nodes!.probersSecurityGroup.node.defaultChild as never,
    );
    assert.deepEqual(inVpc[0]?.Properties.VpcConfig.SecurityGroupIds, [
      { 'Fn::GetAtt': [probersGroup, 'GroupId'] },
    ]);
  });

  it('lets a prober in another region write only to the control region table', () => {
    const statements = resourcesOf(regionOf('ap-east-1'), 'AWS::IAM::Policy').flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as CfnJson[],
    );
    const writes = statements.filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
    assert.equal(writes.length, 1);
    // GetItem and Query read the node directory (peer ids) kept in the same table.
    assert.deepEqual(writes[0].Action, [
      'dynamodb:BatchWriteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    assert.match(
      JSON.stringify(writes[0].Resource),
      /dynamodb:eu-central-1:.*table\/storefleet-storefleet-test-probe-results/,
    );
  });

  it('keeps state in on-demand tables with TTL, point-in-time recovery and deletion protection', () => {
    const tables = control.findResources('AWS::DynamoDB::Table');
    assert.equal(Object.keys(tables).length, 2);
    for (const table of Object.values(tables) as CfnJson[]) {
      assert.equal(table.DeletionPolicy, 'Retain');
      assert.equal(table.Properties.BillingMode, 'PAY_PER_REQUEST');
      assert.equal(table.Properties.DeletionProtectionEnabled, true);
      assert.deepEqual(table.Properties.PointInTimeRecoverySpecification, {
        PointInTimeRecoveryEnabled: true,
      });
      assert.deepEqual(table.Properties.TimeToLiveSpecification, {
        AttributeName: TABLE_KEYS.timeToLiveAttribute,
        Enabled: true,
      });
    }
  });
});

describe('IAM stays inside the fleet', () => {
  it('grants no action on "*" except ecs:ListTasks pinned to the fleet clusters by condition', () => {
    for (const stack of fleet.all) {
      for (const policy of resourcesOf(fleet.template(stack), 'AWS::IAM::Policy')) {
        for (const statement of policy.Properties.PolicyDocument.Statement as CfnJson[]) {
          const resources = [statement.Resource].flat();
          if (!resources.includes('*')) continue;
          assert.equal(statement.Action, 'ecs:ListTasks', `${stack.stackName}/${policy.id}`);
          assert.ok(statement.Condition.ArnEquals['ecs:cluster']);
        }
      }
    }
  });

  it('lets the controller update only the fleet services, in every node region', () => {
    const statement = resourcesOf(control, 'AWS::IAM::Policy')
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as CfnJson[])
      .find((s) => JSON.stringify(s.Action).includes('ecs:UpdateService'));
    assert.ok(statement);
    const resources = JSON.stringify(statement.Resource);
    for (const node of fleet.config.nodes) {
      const label = node.id.replace('.storefleet.test', '').replaceAll('.', '-');
      assert.match(resources, new RegExp(`service/storefleet-storefleet-test/${label}`));
    }
    assert.equal((statement.Resource as unknown[]).length, fleet.config.nodes.length);
  });
});

describe('the API', () => {
  it('answers only SigV4-signed requests on its function URL', () => {
    control.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM' });
    control.resourceCountIs('AWS::Lambda::Url', 1);
  });
});
