// Store nodes: one balancer per region with a port block per node by default (per-node balancers as an option), client IPs preserved, only p2p ports public, a node at a time on deploy.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import {
  type CfnJson,
  configWithNodesPerRegion,
  everyResourceOf,
  mentions,
  resourcesOf,
  synthesizeFleet,
} from './synthesize-fleet.ts';

const EXISTING_KEY =
  'arn:aws:secretsmanager:us-east-1:123456789012:secret:storefleet/store-01-us-east-AbCdEf';
const DIGEST_IMAGE = `wakuorg/nwaku@sha256:${'a'.repeat(64)}`;

// Prepare: the example (one balancer per region), and the same fleet with a balancer per node,
// an existing node key and Elastic IP, a pinned image, a domain, certificates and a hosted zone.
const shared = synthesizeFleet();
const perNodeConfig = configWithNodesPerRegion(2, {
  aws: {
    loadBalancing: 'perNode',
    nodes: {
      'store-01.us-east.storefleet.test': {
        nodeKeySecretArn: EXISTING_KEY,
        elasticIp: { allocationId: 'eipalloc-0abc123', address: '198.51.100.7' },
      },
    },
  },
});
perNodeConfig.nodes[0] = { ...perNodeConfig.nodes[0]!, image: DIGEST_IMAGE };
const perNode = synthesizeFleet(
  {
    domain: 'nodes.example.org',
    hostedZoneId: 'Z0123456789ABCDEFGHIJ',
    certificateArns: JSON.stringify({
      'eu-central-1':
        'arn:aws:acm:eu-central-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
    }),
  },
  perNodeConfig,
);

function nwakuContainers(fleet: typeof shared) {
  return everyResourceOf(fleet, 'AWS::ECS::TaskDefinition').flatMap((definition) =>
    definition.Properties.ContainerDefinitions.filter(
      (container: { Name: string }) => container.Name === 'nwaku',
    ).map((container: CfnJson) => ({ family: definition.Properties.Family, container })),
  );
}
const envOf = (container: CfnJson) =>
  Object.fromEntries(
    container.Environment.map((entry: { Name: string; Value: unknown }) => [
      entry.Name,
      entry.Value,
    ]),
  );

describe('one network load balancer per region (the default)', () => {
  it('creates one internet-facing balancer and one Elastic IP per region and zone, no NAT', () => {
    for (const stack of shared.all) {
      const template = shared.template(stack);
      template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
      template.resourceCountIs('AWS::EC2::EIP', 1);
      template.resourceCountIs('AWS::EC2::NatGateway', 0);
      template.resourceCountIs('AWS::EC2::Instance', 0);
    }
  });

  it('gives each node its own ports: the default plus its number minus one', () => {
    const byFamily = new Map(
      nwakuContainers(shared).map(({ family, container }) => [family, envOf(container)]),
    );
    assert.equal(byFamily.get('storefleet-store-01-eu-central')?.WAKUNODE2_TCP_PORT, '30303');
    assert.equal(byFamily.get('storefleet-store-02-eu-central')?.WAKUNODE2_TCP_PORT, '30304');
    assert.equal(byFamily.get('storefleet-store-02-eu-central')?.WAKUNODE2_WEBSOCKET_PORT, '8001');
    const listeners = everyResourceOf(shared, 'AWS::ElasticLoadBalancingV2::Listener');
    const ports = listeners.map((listener) => listener.Properties.Port).sort((a, b) => a - b);
    assert.deepEqual(
      ports,
      [8000, 8000, 8000, 8001, 8001, 8001, 30303, 30303, 30303, 30304, 30304, 30304],
    );
  });

  it('publishes the ports in the addresses parameter that watchers and the publisher read', () => {
    const parameter = resourcesOf(
      shared.template(shared.stacks.control),
      'AWS::SSM::Parameter',
    ).find(
      ({ Properties }) => Properties.Name === '/storefleet/storefleet-test/nodes/eu-central-1',
    );
    assert.ok(parameter);
    const text = JSON.stringify(parameter.Properties.Value);
    assert.match(text, /store-02\.eu-central\.storefleet\.test.{0,200}30304/);
  });

  it('refuses two nodes of a region that would share a port', async () => {
    const { PortCollisionError, nodePublicPorts } = await import('../../infra/node-ports.ts');
    const { resolveNodes } = await import('../../fleet/config.ts');
    const config = configWithNodesPerRegion(2);
    config.nodes[1] = { ...config.nodes[1]!, ports: { tcp: 30303 } };
    assert.throws(() => nodePublicPorts(config, resolveNodes(config)), PortCollisionError);
  });
});

describe('client IPs reach the nodes', () => {
  it('preserves client IPs on every target group', () => {
    for (const fleet of [shared, perNode]) {
      const groups = everyResourceOf(fleet, 'AWS::ElasticLoadBalancingV2::TargetGroup');
      assert.ok(groups.length > 0);
      for (const group of groups) {
        assert.equal(group.Properties.TargetType, 'ip');
        const attributes = Object.fromEntries(
          group.Properties.TargetGroupAttributes.map((a: { Key: string; Value: string }) => [
            a.Key,
            a.Value,
          ]),
        );
        assert.equal(attributes['preserve_client_ip.enabled'], 'true', group.id);
      }
    }
  });

  it('opens only the p2p port ranges to 0.0.0.0/0, on the balancer group, and admits the balancer group on the nodes', () => {
    const template = shared.template(shared.stacks.control);
    const open = JSON.stringify(template.toJSON()).match(/"CidrIp":"0\.0\.0\.0\/0"/g) ?? [];
    const groups = resourcesOf(template, 'AWS::EC2::SecurityGroup');
    const balancer = groups.find(({ Properties }) =>
      /load balancers/.test(Properties.GroupDescription),
    );
    assert.ok(balancer);
    const ingress = balancer.Properties.SecurityGroupIngress as CfnJson[];
    assert.deepEqual(
      ingress.map((rule) => [rule.FromPort, rule.ToPort, rule.CidrIp]).sort(),
      [
        [30303, 30304, '0.0.0.0/0'],
        [8000, 8001, '0.0.0.0/0'],
      ].sort(),
    );
    // Egress to everything is only on the task and watcher groups (nwaku dials peers, watchers dial nodes).
    assert.ok(open.length >= 2);
    const nodesIngress = resourcesOf(template, 'AWS::EC2::SecurityGroupIngress');
    const fromBalancer = nodesIngress.filter((rule) =>
      mentions(rule.Properties.SourceSecurityGroupId, 'LoadBalancerSecurityGroup'),
    );
    assert.deepEqual(
      fromBalancer.map((rule) => [rule.Properties.FromPort, rule.Properties.ToPort]).sort(),
      [
        [30303, 30304],
        [8000, 8001],
      ].sort(),
    );
    const rest = nodesIngress.filter((rule) => rule.Properties.FromPort === 8645);
    assert.equal(rest.length, 1);
    assert.ok(mentions(rest[0]?.Properties.SourceSecurityGroupId, 'ProbersSecurityGroup'));
  });
});

describe('a balancer and Elastic IP per node (aws.loadBalancing "perNode")', () => {
  it('creates one balancer per node and keeps the configured ports', () => {
    const balancers = everyResourceOf(perNode, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    assert.equal(balancers.length, 6);
    for (const { container } of nwakuContainers(perNode)) {
      assert.equal(envOf(container).WAKUNODE2_TCP_PORT, '30303');
    }
  });

  it('adds a TLS listener per node where the region has a certificate, announcing wss', () => {
    const tls = everyResourceOf(perNode, 'AWS::ElasticLoadBalancingV2::Listener').filter(
      (listener) => listener.Properties.Protocol === 'TLS',
    );
    assert.equal(tls.length, 2);
    const eu = nwakuContainers(perNode).find(
      ({ family }) => family === 'storefleet-store-01-eu-central',
    );
    assert.equal(
      envOf(eu?.container).WAKUNODE2_EXT_MULTIADDR,
      '/dns4/store-01.eu-central.storefleet.test.nodes.example.org/tcp/443/wss',
    );
  });

  it('uses the node key and Elastic IP a fleet brings along instead of creating them', () => {
    const container = nwakuContainers(perNode).find(
      ({ family }) => family === 'storefleet-store-01-us-east',
    )?.container;
    const nodeKey = container.Secrets.find((s: { Name: string }) => s.Name === 'WAKUNODE2_NODEKEY');
    assert.equal(nodeKey.ValueFrom, EXISTING_KEY);
    assert.equal(envOf(container).WAKUNODE2_NAT, 'extip:198.51.100.7');
    const mappings = everyResourceOf(perNode, 'AWS::ElasticLoadBalancingV2::LoadBalancer').flatMap(
      (balancer) => balancer.Properties.SubnetMappings,
    );
    assert.ok(mappings.some((mapping: CfnJson) => mapping.AllocationId === 'eipalloc-0abc123'));
    const keys = everyResourceOf(perNode, 'AWS::SecretsManager::Secret').filter((secret) =>
      /libp2p node key/.test(secret.Properties.Description),
    );
    assert.equal(keys.length, 5, 'every other node gets a generated key');
  });

  it('runs the image as pinned by digest', () => {
    const pinned = nwakuContainers(perNode).find(
      ({ family }) => family === 'storefleet-store-01-eu-central',
    )?.container;
    assert.equal(pinned.Image, DIGEST_IMAGE);
  });

  it('writes an A record per node name into the hosted zone', () => {
    const records = everyResourceOf(perNode, 'AWS::Route53::RecordSet').filter(
      (record) => record.Properties.Type === 'A' && !record.Properties.AliasTarget,
    );
    assert.equal(records.length, 6);
    for (const record of records) {
      assert.equal(record.Properties.HostedZoneId, 'Z0123456789ABCDEFGHIJ');
      assert.match(
        record.Properties.Name,
        /^store-0\d\.[a-z-]+\.storefleet\.test\.nodes\.example\.org\.$/,
      );
    }
  });
});

describe('one task per node key, one node at a time', () => {
  it('runs one service per node: desired 1, healthy 0-100 %, circuit breaker with rollback, amd64', () => {
    const services = everyResourceOf(shared, 'AWS::ECS::Service').filter(
      (service) => !String(service.Properties.ServiceName).startsWith('watcher-'),
    );
    assert.equal(services.length, 6);
    for (const { Properties } of services) {
      assert.equal(Properties.DesiredCount, 1);
      assert.deepEqual(Properties.DeploymentConfiguration.DeploymentCircuitBreaker, {
        Enable: true,
        Rollback: true,
      });
      assert.equal(Properties.DeploymentConfiguration.MaximumPercent, 100);
      assert.equal(Properties.DeploymentConfiguration.MinimumHealthyPercent, 0);
    }
  });

  it('makes each node wait for the one before it, so a deploy replaces one task at a time', () => {
    for (const nested of shared.nested) {
      const services = resourcesOf(shared.template(nested), 'AWS::ECS::Service');
      assert.equal(services.length, 2);
      const [first, second] = services;
      assert.ok(
        second?.DependsOn?.includes(first?.id as string),
        JSON.stringify(second?.DependsOn),
      );
    }
    const big = synthesizeFleet(
      {},
      configWithNodesPerRegion({ 'eu-central-1': 30, 'us-east-1': 1, 'ap-east-1': 1 }),
    );
    const groups = resourcesOf(big.template(big.stacks.control), 'AWS::CloudFormation::Stack');
    assert.equal(groups.length, 2);
    assert.ok(groups[1]?.DependsOn?.includes(groups[0]?.id as string));
  });

  it('assembles the archive URL inside the task from secret fields: the template holds no password', () => {
    for (const { container } of nwakuContainers(shared)) {
      assert.deepEqual(container.EntryPoint, ['/bin/sh', '-c']);
      assert.match(
        container.Command[0],
        /WAKUNODE2_STORE_MESSAGE_DB_URL="postgres:\/\/\$DATABASE_USER:\$DATABASE_PASSWORD@/,
      );
      assert.match(container.Command[0], /exec \/usr\/bin\/wakunode$/);
      const fields = container.Secrets.filter((s: { Name: string }) =>
        s.Name.startsWith('DATABASE_'),
      );
      assert.deepEqual(
        fields
          .map((s: CfnJson) => JSON.stringify(s.ValueFrom).match(/:(username|password)::/)?.[1])
          .sort(),
        ['password', 'username'],
      );
      assert.equal(envOf(container).WAKUNODE2_CLUSTER_ID, '16');
      assert.equal(envOf(container).WAKUNODE2_SHARD, '1,32,64,128,256');
    }
  });
});
