// The registry: conditional writes enforced by bucket policy, immutable versions cached for days and expired after a week, the dashboard page and the read-only API on the same distribution, a replica to fail over to, existing signing keys.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { EVERY_DEPLOY_OPTION } from './fixtures/every-deploy-option.ts';
import {
  type CfnJson,
  configWithNodesPerRegion,
  mentions,
  ROOT,
  resourcesOf,
  synthesizeFleet,
} from './synthesize-fleet.ts';

const KEY_ARN = 'arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-3333-4444-555555555555';

// Prepare: the example; every option (custom domain, replica); an existing key by ARN.
const fleet = synthesizeFleet();
const control = fleet.template(fleet.stacks.control);
const everything = synthesizeFleet(EVERY_DEPLOY_OPTION, configWithNodesPerRegion(2));
const withKeyArn = synthesizeFleet(
  {},
  configWithNodesPerRegion(2, { registry: { signingKey: { kind: 'kms', keyArn: KEY_ARN } } }),
);

function distributionOf(template: typeof control): CfnJson {
  const [distribution] = resourcesOf(template, 'AWS::CloudFront::Distribution');
  assert.ok(distribution);
  return distribution.Properties.DistributionConfig;
}
function cachePolicy(template: typeof control, id: string): CfnJson {
  const found = resourcesOf(template, 'AWS::CloudFront::CachePolicy').find((policy) =>
    mentions(id, policy.id),
  );
  assert.ok(found, `cache policy ${JSON.stringify(id)}`);
  return found.Properties.CachePolicyConfig;
}

describe('conditional writes and immutable versions', () => {
  it('refuses any PUT of the pointer objects without If-Match or If-None-Match, and of a version without If-None-Match', () => {
    const [policy] = resourcesOf(control, 'AWS::S3::BucketPolicy').filter((p) =>
      mentions(p.Properties, 'RegistryObjectsOnlyByConditionalWrite'),
    );
    assert.ok(policy);
    const statements: CfnJson[] = policy.Properties.PolicyDocument.Statement;
    const pointer = statements.find((s) => s.Sid === 'RegistryObjectsOnlyByConditionalWrite');
    assert.equal(pointer.Effect, 'Deny');
    assert.equal(pointer.Action, 's3:PutObject');
    assert.deepEqual(pointer.Condition, {
      Null: { 's3:if-match': 'true', 's3:if-none-match': 'true' },
    });
    for (const key of ['fleets.json', 'fleets.json.sig', 'registry.json', 'fleets.pub.pem']) {
      assert.ok(mentions(pointer.Resource, `/${key}`), key);
    }
    const versions = statements.find((s) => s.Sid === 'VersionsAreWrittenOnce');
    assert.deepEqual(versions.Condition, { Null: { 's3:if-none-match': 'true' } });
    assert.ok(mentions(versions.Resource, '/fleets/*'));
    // The dashboard page is written by the CDK deployment (unconditionally), outside both statements.
    assert.ok(!mentions(statements, 'dashboard/'));
  });

  it('expires old versions and replaced objects after a week', () => {
    const [bucket] = resourcesOf(control, 'AWS::S3::Bucket').filter(
      (b) => b.Properties.VersioningConfiguration,
    );
    const rules: CfnJson[] = bucket?.Properties.LifecycleConfiguration.Rules;
    const versions = rules.find((rule) => rule.Id === 'OldVersions');
    assert.deepEqual([versions.Prefix, versions.ExpirationInDays], ['fleets/', 7]);
    const replaced = rules.find((rule) => rule.Id === 'ReplacedObjects');
    assert.equal(replaced.NoncurrentVersionExpiration.NoncurrentDays, 7);
  });

  it('caches versions for days and the pointer for registry.cacheMaxAgeSeconds', () => {
    const config = distributionOf(control);
    assert.equal(cachePolicy(control, config.DefaultCacheBehavior.CachePolicyId).MaxTTL, 10);
    const versions = config.CacheBehaviors.find((b: CfnJson) => b.PathPattern === '/fleets/*');
    const immutable = cachePolicy(control, versions.CachePolicyId);
    assert.equal(immutable.MinTTL, 7 * 24 * 3600);
  });
});

describe('the dashboard and the read-only API on the registry distribution', () => {
  it('deploys local/dashboard/index.html, read at synth time, under dashboard/ without pruning', () => {
    const [deployment] = resourcesOf(control, 'Custom::CDKBucketDeployment');
    assert.ok(deployment);
    assert.equal(deployment.Properties.DestinationBucketKeyPrefix, 'dashboard/');
    assert.equal(deployment.Properties.Prune, false);
    const page = readFileSync(join(ROOT, 'local/dashboard/index.html'), 'utf8');
    const outdir = fleet.app.outdir;
    const staged = readdirSync(outdir).filter(
      (name) => name.startsWith('asset.') && existsSync(join(outdir, name, 'index.html')),
    );
    assert.equal(staged.length, 1);
    assert.equal(readFileSync(join(outdir, staged[0] as string, 'index.html'), 'utf8'), page);
    const outputs = control.toJSON().Outputs;
    assert.ok(mentions(outputs.DashboardUrl.Value, '/dashboard/index.html'));
  });

  it('serves /api/* from the function URL with a 5 s cache that keys on the query string', () => {
    const api = distributionOf(control).CacheBehaviors.find(
      (b: CfnJson) => b.PathPattern === '/api/*',
    );
    assert.ok(api);
    assert.deepEqual(api.AllowedMethods, ['GET', 'HEAD']);
    const policy = cachePolicy(control, api.CachePolicyId);
    assert.equal(policy.MaxTTL, 5);
    assert.equal(
      policy.ParametersInCacheKeyAndForwardedToOrigin.QueryStringsConfig.QueryStringBehavior,
      'all',
    );
  });
});

describe('a custom domain and a replica to fail over to', () => {
  const template = everything.template(everything.stacks.control);

  it('serves the registry on its own name with TLS 1.2 and an alias record', () => {
    const config = distributionOf(template);
    assert.deepEqual(config.Aliases, ['fleets.nodes.example.org']);
    assert.equal(config.ViewerCertificate.MinimumProtocolVersion, 'TLSv1.2_2021');
    const alias = resourcesOf(template, 'AWS::Route53::RecordSet').find(
      (r) => r.Properties.AliasTarget,
    );
    assert.equal(alias?.Properties.Name, 'fleets.nodes.example.org.');
  });

  it('replicates the bucket into the replica region and falls back to it behind an origin group', () => {
    const replica = everything.stacks.replica;
    assert.ok(replica);
    assert.equal(replica.region, 'eu-west-1');
    const [replicaBucket] = resourcesOf(everything.template(replica), 'AWS::S3::Bucket').filter(
      (b) => b.Properties.BucketName,
    );
    assert.equal(
      replicaBucket?.Properties.BucketName,
      'storefleet-storefleet-test-registry-123456789012-eu-west-1',
    );
    const [bucket] = resourcesOf(template, 'AWS::S3::Bucket').filter(
      (b) => b.Properties.ReplicationConfiguration,
    );
    assert.ok(
      mentions(
        bucket?.Properties.ReplicationConfiguration.Rules,
        'storefleet-storefleet-test-registry-123456789012-eu-west-1',
      ),
    );
    const groups = distributionOf(template).OriginGroups;
    assert.equal(groups.Quantity, 1);
    assert.deepEqual(
      [...groups.Items[0].FailoverCriteria.StatusCodes.Items].sort(),
      [403, 404, 500, 502, 503, 504],
    );
    assert.ok(everything.stacks.control.dependencies.includes(replica));
  });
});

describe('the signing key', () => {
  it('creates a P-256 signing key with the fleet alias when the config names none', () => {
    const keys = resourcesOf(control, 'AWS::KMS::Key').filter(
      (k) => k.Properties.KeySpec === 'ECC_NIST_P256',
    );
    assert.equal(keys.length, 1);
    assert.equal(keys[0]?.Properties.KeyUsage, 'SIGN_VERIFY');
    const aliases = resourcesOf(control, 'AWS::KMS::Alias');
    assert.deepEqual(
      aliases.map((a) => a.Properties.AliasName),
      ['alias/storefleet/storefleet-test/registry'],
    );
  });

  it('uses an existing key by ARN, creating none', () => {
    const template = withKeyArn.template(withKeyArn.stacks.control);
    assert.equal(
      resourcesOf(template, 'AWS::KMS::Key').filter((k) => k.Properties.KeySpec).length,
      0,
    );
    assert.equal(resourcesOf(template, 'AWS::KMS::Alias').length, 0);
    const signing = resourcesOf(template, 'AWS::IAM::Policy')
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s: CfnJson) => mentions(s.Action, 'kms:Sign'));
    assert.equal(signing.length, 2, 'the publisher and the controlling watcher');
    for (const statement of signing) assert.equal(statement.Resource, KEY_ARN);
  });

  it('uses an existing alias without re-creating it, granting Sign only through that alias', () => {
    const withAlias = synthesizeFleet(
      {},
      configWithNodesPerRegion(2, {
        registry: { signingKey: { kind: 'kms', keyAlias: 'alias/ops/registry' } },
      }),
    );
    const template = withAlias.template(withAlias.stacks.control);
    assert.equal(resourcesOf(template, 'AWS::KMS::Alias').length, 0);
    const signing = resourcesOf(template, 'AWS::IAM::Policy')
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s: CfnJson) => mentions(s.Action, 'kms:Sign'));
    assert.equal(signing.length, 2);
    for (const statement of signing) {
      assert.deepEqual(statement.Condition, {
        'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/ops/registry' },
      });
    }
  });
});
