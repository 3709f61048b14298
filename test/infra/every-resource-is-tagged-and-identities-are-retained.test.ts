// Every taggable resource names its fleet and component; what holds an identity or data outlives a deleted stack, so a redeploy can adopt it.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { TAGS } from '../../infra/OfflineStack.ts';
import { type CfnJson, synthesizeFleet } from './synthesize-fleet.ts';

const fleet = synthesizeFleet();

function resources(): Array<{ stack: string; id: string; resource: CfnJson }> {
  return fleet.everyTemplate().flatMap(({ stack, template }) =>
    Object.entries(template.toJSON().Resources as Record<string, CfnJson>).map(
      ([id, resource]) => ({
        stack: stack.node.path,
        id,
        resource,
      }),
    ),
  );
}
const tagsOf = (resource: CfnJson): Record<string, unknown> => {
  const tags = resource.Properties?.Tags;
  if (Array.isArray(tags))
    return Object.fromEntries(tags.map((tag: CfnJson) => [tag.Key, tag.Value]));
  return tags && typeof tags === 'object' ? tags : {};
};

describe('tags', () => {
  it('tags every resource that carries tags with the fleet and its component', () => {
    const tagged = resources().filter(({ resource }) => resource.Properties?.Tags !== undefined);
    assert.ok(tagged.length > 50, String(tagged.length));
    for (const { stack, id, resource } of tagged) {
      const tags = tagsOf(resource);
      // Container Definitions inside tasks and nested-stack resources carry the same keys.
      assert.equal(tags[TAGS.fleet], 'storefleet.test', `${stack}/${id}`);
      if (resource.Type.startsWith('AWS::CDK::') || resource.Type === 'AWS::CloudFormation::Stack')
        continue;
      assert.ok(typeof tags[TAGS.component] === 'string', `${stack}/${id} has no component tag`);
    }
  });

  it('tags node, watcher and registry resources with their own component', () => {
    const components = new Set(
      resources()
        .map(({ resource }) => tagsOf(resource)[TAGS.component])
        .filter(Boolean),
    );
    for (const component of [
      'store-nodes',
      'watcher',
      'registry',
      'control-plane',
      'api',
      'alarms',
    ]) {
      assert.ok(components.has(component), component);
    }
  });
});

describe('what holds an identity or data is retained', () => {
  const retained = (type: string, filter: (resource: CfnJson) => boolean = () => true) =>
    resources().filter(({ resource }) => resource.Type === type && filter(resource));

  it('keeps node keys, Elastic IPs, tables, the registry bucket and the signing key when a stack goes', () => {
    const checks: Array<[string, (resource: CfnJson) => boolean]> = [
      ['AWS::SecretsManager::Secret', (r) => /libp2p node key/.test(r.Properties.Description)],
      ['AWS::EC2::EIP', () => true],
      ['AWS::DynamoDB::Table', () => true],
      ['AWS::S3::Bucket', (r) => Boolean(r.Properties.VersioningConfiguration)],
      ['AWS::KMS::Key', (r) => r.Properties.KeySpec === 'ECC_NIST_P256'],
    ];
    for (const [type, filter] of checks) {
      const found = retained(type, filter);
      assert.ok(found.length > 0, type);
      for (const { id, resource } of found) {
        assert.equal(resource.DeletionPolicy, 'Retain', `${type} ${id}`);
        assert.equal(resource.UpdateReplacePolicy, 'Retain', `${type} ${id}`);
      }
    }
  });

  it('snapshots the archive databases and protects them from deletion', () => {
    const databases = retained('AWS::RDS::DBInstance');
    assert.equal(databases.length, 3);
    for (const { resource } of databases) {
      assert.equal(resource.DeletionPolicy, 'Snapshot');
      assert.equal(resource.Properties.DeletionProtection, true);
    }
  });

  it('lets logs and the stateless parts go with their stack', () => {
    for (const { resource } of retained('AWS::Logs::LogGroup')) {
      assert.equal(resource.DeletionPolicy, 'Delete');
    }
  });
});
