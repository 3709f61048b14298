// The store node fleet as deployed: what the internet can reach, how tasks are replaced, what nwaku is told.
import assert from 'node:assert/strict';
import { type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, it } from 'vitest';
import { resolveNodes } from '../../fleet/config.ts';
import { loadFleetConfigFile } from '../../infra/deploy-context.ts';
import type { StoreNodeFleet } from '../../infra/StoreNodeFleet.ts';
import { StoreNodeFleet as StoreNodeFleetConstruct } from '../../infra/StoreNodeFleet.ts';
import {
  type CfnJson,
  EXAMPLE_CONFIG,
  resourcesOf,
  synthesizeFleet,
  testApp,
} from './synthesize-fleet.ts';

// Prepare: the example config (6 nodes in 3 regions), synthesised once for the whole file.
const fleet = synthesizeFleet();
const nodeStacks = fleet.all.filter(
  (stack) => (stack as Stack & { nodes?: StoreNodeFleet }).nodes !== undefined,
);
const fleetOf = (stack: Stack) => (stack as Stack & { nodes: StoreNodeFleet }).nodes;
const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);

interface IngressRule {
  group: string;
  fromPort: number;
  toPort: number;
  cidr?: string;
  source?: string;
}

function ingressRules(template: Template): IngressRule[] {
  const rules: IngressRule[] = [];
  const sourceOf = (value: unknown) =>
    (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
  for (const group of resourcesOf(template, 'AWS::EC2::SecurityGroup')) {
    for (const rule of group.Properties.SecurityGroupIngress ?? []) {
      rules.push({
        group: group.id,
        fromPort: rule.FromPort,
        toPort: rule.ToPort,
        cidr: rule.CidrIp ?? rule.CidrIpv6,
        source: sourceOf(rule.SourceSecurityGroupId),
      });
    }
  }
  for (const rule of resourcesOf(template, 'AWS::EC2::SecurityGroupIngress')) {
    rules.push({
      group: sourceOf(rule.Properties.GroupId) as string,
      fromPort: rule.Properties.FromPort,
      toPort: rule.Properties.ToPort,
      cidr: rule.Properties.CidrIp ?? rule.Properties.CidrIpv6,
      source: sourceOf(rule.Properties.SourceSecurityGroupId),
    });
  }
  return rules;
}

describe('the internet reaches only the p2p ports', () => {
  it('opens exactly the tcp and websocket ports to 0.0.0.0/0, on the load balancers only', () => {
    for (const stack of nodeStacks) {
      // Act
      const rules = ingressRules(fleet.template(stack));
      const publicRules = rules.filter((rule) => rule.cidr === '0.0.0.0/0' || rule.cidr === '::/0');
      // Assess
      const p2pPorts = new Set(
        fleetOf(stack).nodes.flatMap(({ node }) => [node.ports.tcp, node.ports.websocket]),
      );
      assert.deepEqual(
        new Set(publicRules.map((rule) => rule.fromPort)),
        p2pPorts,
        `${stack.stackName}: public ports`,
      );
      for (const rule of publicRules) {
        assert.equal(rule.fromPort, rule.toPort, 'no port ranges are public');
        assert.equal(rule.group, logicalId(stack, fleetOf(stack).loadBalancerSecurityGroup));
      }
    }
  });

  it('admits the REST port only from the probers security group', () => {
    for (const stack of nodeStacks) {
      const nodes = fleetOf(stack);
      const restPorts = new Set(nodes.nodes.map(({ node }) => node.ports.rest));
      const restRules = ingressRules(fleet.template(stack)).filter((rule) =>
        restPorts.has(rule.fromPort),
      );
      assert.ok(restRules.length > 0, `${stack.stackName}: a REST rule exists`);
      for (const rule of restRules) {
        assert.equal(rule.cidr, undefined);
        assert.equal(rule.source, logicalId(stack, nodes.probersSecurityGroup));
        assert.equal(rule.group, logicalId(stack, nodes.nodesSecurityGroup));
      }
    }
  });

  it('lets only the probers use the NAT instance, where probers run inside the VPC', () => {
    const stack = fleet.stacks.control;
    const template = fleet.template(stack);
    template.resourceCountIs('AWS::EC2::Instance', 1);
    const [natGroup] = resourcesOf(template, 'AWS::EC2::SecurityGroup').filter(
      (group) => group.Properties.GroupDescription === 'Security Group for NAT instances',
    );
    assert.ok(natGroup);
    const rules = ingressRules(template).filter((rule) => rule.group === natGroup.id);
    assert.equal(rules.length, 1);
    assert.equal(rules[0]?.source, logicalId(stack, fleetOf(stack).probersSecurityGroup));
    for (const region of fleet.stacks.regions.values()) {
      fleet.template(region).resourceCountIs('AWS::EC2::Instance', 0);
    }
  });

  it('lets only the store node tasks reach PostgreSQL', () => {
    for (const stack of nodeStacks) {
      const databaseRules = ingressRules(fleet.template(stack)).filter(
        (rule) => rule.fromPort === 5432,
      );
      assert.equal(databaseRules.length, 1);
      assert.equal(databaseRules[0]?.source, logicalId(stack, fleetOf(stack).nodesSecurityGroup));
      fleet.template(stack).hasResourceProperties('AWS::RDS::DBInstance', {
        PubliclyAccessible: false,
        StorageEncrypted: true,
        DeletionProtection: true,
      });
    }
  });

  it('gives every node one internet-facing load balancer with its own Elastic IP, and no NAT gateway', () => {
    for (const stack of nodeStacks) {
      const template = fleet.template(stack);
      const count = fleetOf(stack).nodes.length;
      template.resourceCountIs('AWS::EC2::EIP', count);
      template.resourceCountIs('AWS::EC2::NatGateway', 0);
      const balancers = resourcesOf(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
      assert.equal(balancers.length, count);
      for (const balancer of balancers) {
        assert.equal(balancer.Properties.Scheme, 'internet-facing');
        assert.equal(balancer.Properties.Type, 'network');
        assert.equal(balancer.Properties.SubnetMappings.length, 1);
        assert.ok(balancer.Properties.SubnetMappings[0].AllocationId['Fn::GetAtt']);
      }
    }
  });
});

describe('one task per node key', () => {
  it('runs one service per node: desired 1, healthy 0-100 %, circuit breaker with rollback', () => {
    let services = 0;
    for (const stack of nodeStacks) {
      const found = resourcesOf(fleet.template(stack), 'AWS::ECS::Service');
      services += found.length;
      assert.equal(found.length, fleetOf(stack).nodes.length);
      for (const service of found) {
        assert.equal(service.Properties.DesiredCount, 1);
        assert.deepEqual(service.Properties.DeploymentConfiguration, {
          MinimumHealthyPercent: 0,
          MaximumPercent: 100,
          DeploymentCircuitBreaker: { Enable: true, Rollback: true },
          Alarms: { AlarmNames: [], Enable: false, Rollback: false },
        });
        assert.equal(
          service.Properties.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp,
          'ENABLED',
        );
      }
    }
    assert.equal(services, fleet.config.nodes.length);
  });

  it('names each node in Cloud Map by its id within the fleet namespace', () => {
    const names = nodeStacks.flatMap((stack) =>
      resourcesOf(fleet.template(stack), 'AWS::ServiceDiscovery::Service').map(
        (s) => s.Properties.Name,
      ),
    );
    const namespaces = nodeStacks.flatMap((stack) =>
      resourcesOf(fleet.template(stack), 'AWS::ServiceDiscovery::PrivateDnsNamespace').map(
        (n) => n.Properties.Name,
      ),
    );
    assert.deepEqual(new Set(namespaces), new Set([fleet.config.fleet]));
    assert.deepEqual(
      names.map((name) => `${name}.${fleet.config.fleet}`).sort(),
      fleet.config.nodes.map((node) => node.id).sort(),
    );
  });
});

describe('nwaku is configured from the fleet config', () => {
  it('passes flags as WAKUNODE2_* environment and the key and archive URL as secrets', () => {
    for (const stack of nodeStacks) {
      const definitions = resourcesOf(fleet.template(stack), 'AWS::ECS::TaskDefinition');
      assert.equal(definitions.length, fleetOf(stack).nodes.length);
      for (const definition of definitions) {
        const containers = definition.Properties.ContainerDefinitions as CfnJson[];
        const nwaku = containers.find((container) => container.Name === 'nwaku');
        const init = containers.find((container) => container.Name === 'create-database');
        const environment = Object.fromEntries(
          (nwaku.Environment as Array<{ Name: string; Value: unknown }>).map((e) => [
            e.Name,
            e.Value,
          ]),
        );
        assert.equal(nwaku.Image, fleet.config.defaults.image);
        assert.equal(nwaku.Essential, true);
        assert.deepEqual(
          {
            ...environment,
            WAKUNODE2_NAT: typeof environment.WAKUNODE2_NAT,
          },
          {
            WAKUNODE2_CLUSTER_ID: String(fleet.config.clusterId),
            WAKUNODE2_SHARD: fleet.config.shards.join(','),
            WAKUNODE2_TCP_PORT: '30303',
            WAKUNODE2_WEBSOCKET_SUPPORT: 'true',
            WAKUNODE2_WEBSOCKET_PORT: '8000',
            WAKUNODE2_RELAY: 'true',
            WAKUNODE2_STORE: 'true',
            WAKUNODE2_STORE_MESSAGE_RETENTION_POLICY: 'size:50GB',
            WAKUNODE2_REST: 'true',
            WAKUNODE2_REST_ADDRESS: '0.0.0.0',
            WAKUNODE2_REST_PORT: '8645',
            WAKUNODE2_MAX_CONNECTIONS: '500',
            // extip:<the Elastic IP>, an Fn::Join over the EIP's PublicIp.
            WAKUNODE2_NAT: 'object',
          },
        );
        assert.deepEqual(
          (nwaku.Secrets as Array<{ Name: string }>).map((secret) => secret.Name).sort(),
          ['WAKUNODE2_NODEKEY', 'WAKUNODE2_STORE_MESSAGE_DB_URL'],
        );
        assert.deepEqual(nwaku.DependsOn, [
          { Condition: 'SUCCESS', ContainerName: 'create-database' },
        ]);
        assert.equal(init.Essential, false);
      }
    }
  });

  it('builds each archive URL from a dynamic reference: the template never holds the password', () => {
    for (const stack of nodeStacks) {
      const text = JSON.stringify(fleet.template(stack).toJSON());
      const urlSecrets = resourcesOf(fleet.template(stack), 'AWS::SecretsManager::Secret').filter(
        (secret) => JSON.stringify(secret.Properties.SecretString ?? '').includes('postgres://'),
      );
      // One maintenance URL and one archive URL per node.
      assert.equal(urlSecrets.length, 2 * fleetOf(stack).nodes.length);
      for (const secret of urlSecrets) {
        assert.match(JSON.stringify(secret.Properties.SecretString), /\{\{resolve:secretsmanager:/);
      }
      assert.doesNotMatch(text, /"MasterUserPassword":"[^{]/);
    }
  });
});

describe('secure websockets', () => {
  it('adds a TLS listener on 443 only when a domain and a certificate are given', () => {
    // Prepare: one region's fleet alone, cheaper than the whole app.
    const config = loadFleetConfigFile(EXAMPLE_CONFIG);
    const nodes = resolveNodes(config).filter((node) => node.region === 'us-east-1');
    const build = (certificateArn?: string) => {
      const stack = new Stack(testApp(), 'Tls', { env: { region: 'us-east-1' } });
      new StoreNodeFleetConstruct(stack, 'Nodes', {
        config,
        nodes,
        region: 'us-east-1',
        domain: 'nodes.example.org',
        certificateArn,
      });
      return Template.fromStack(stack);
    };
    // Act
    const withTls = build('arn:aws:acm:us-east-1:123456789012:certificate/abc');
    const without = build(undefined);
    // Assess
    const tlsListeners = (template: Template) =>
      resourcesOf(template, 'AWS::ElasticLoadBalancingV2::Listener').filter(
        (l) => l.Properties.Protocol === 'TLS',
      );
    assert.equal(tlsListeners(withTls).length, nodes.length);
    assert.ok(tlsListeners(withTls).every((listener) => listener.Properties.Port === 443));
    assert.equal(tlsListeners(without).length, 0);
    withTls.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({
          Environment: Match.arrayWith([
            { Name: 'WAKUNODE2_EXT_MULTIADDR', Value: Match.stringLikeRegexp('/tcp/443/wss$') },
          ]),
        }),
      ]),
    });
  });
});

describe('flags the config has no field for', () => {
  const config = loadFleetConfigFile(EXAMPLE_CONFIG);
  const nodes = resolveNodes(config).filter((node) => node.region === 'us-east-1');
  const build = (extraNodeEnvironment: Record<string, string>) => {
    const stack = new Stack(testApp(), 'Extra', { env: { region: 'us-east-1' } });
    new StoreNodeFleetConstruct(stack, 'Nodes', {
      config,
      nodes,
      region: 'us-east-1',
      extraNodeEnvironment,
    });
    return Template.fromStack(stack);
  };

  it('passes extra WAKUNODE2_* flags to every node', () => {
    const template = build({ WAKUNODE2_DNS_DISCOVERY_URL: 'enrtree://KEY@boot.example.org' });
    const definitions = resourcesOf(template, 'AWS::ECS::TaskDefinition');
    assert.equal(definitions.length, nodes.length);
    for (const definition of definitions) {
      const nwaku = (definition.Properties.ContainerDefinitions as CfnJson[]).find(
        (c) => c.Name === 'nwaku',
      );
      assert.ok(
        nwaku.Environment.some(
          (e: CfnJson) =>
            e.Name === 'WAKUNODE2_DNS_DISCOVERY_URL' &&
            e.Value === 'enrtree://KEY@boot.example.org',
        ),
      );
    }
  });

  it('refuses to override a flag that comes from the config, and anything not WAKUNODE2_*', () => {
    assert.throws(() => build({ WAKUNODE2_CLUSTER_ID: '1' }), /WAKUNODE2_CLUSTER_ID is refused/);
    assert.throws(() => build({ PATH: '/tmp' }), /PATH is refused/);
  });
});
