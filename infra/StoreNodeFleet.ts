// The store nodes of one region: VPC, ECS cluster, the region's load balancer, PostgreSQL archives, and the nodes in nested stacks of a bounded size.
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as route53 from 'aws-cdk-lib/aws-route53';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { FleetConfig, ResolvedNode } from '../fleet/config.ts';
import { nodePublicPorts, portRanges } from './node-ports.ts';
import { clusterName, fleetSlug, nodeAddressesParameterName, nodeSlug } from './resource-names.ts';
import { type DeployedStoreNode, StoreNodeGroup } from './StoreNodeGroup.ts';
import { acknowledgeNoContainerInsights } from './WatcherCluster.ts';

const DATABASE_PORT = 5432;
const DATABASE_ADMIN_USER = 'storefleet';
/** Kept out of generated passwords because they would need escaping inside a postgres:// URL. */
const URL_UNSAFE_CHARACTERS = ' %+~`#$&*()|[]{}:;<>?!\'/@"\\=,^.';
/** Archive size assumed for a node whose retention is by time or message count. */
const ASSUMED_ARCHIVE_GIB = 50;
const STORAGE_HEADROOM = 1.25;
const MAX_STORAGE_MULTIPLIER = 4;
/**
 * Nodes per nested stack, by their number: store-01..20 in one, store-21..40 in the next. A node
 * costs at most 12 resources (per-node balancers with TLS), so a group stays far below
 * CloudFormation's 500, and membership depends on the node's own id, so adding nodes never moves
 * another node to another stack (which would replace its service).
 */
export const NODES_PER_GROUP = 20;

export interface StoreNodeFleetDatabaseProps {
  /**
   * @default db.t4g.medium
   */
  instanceType?: ec2.InstanceType;
  /**
   * Initial storage.
   * @default - the nodes' `size:` retentions summed, plus 25 % headroom (50 GiB for other retentions)
   */
  allocatedStorageGiB?: number;
  /**
   * A standby in a second AZ: doubles the instance cost; the archives are a cache of the network's history.
   * @default false
   */
  multiAz?: boolean;
}

export interface StoreNodeFleetProps {
  /** The validated fleet config (cluster id, shards, fleet name, `aws` section). */
  config: FleetConfig;
  /** The nodes that run in this construct's region (resolveNodes(), filtered by region). */
  nodes: ResolvedNode[];
  /** The AWS region, spelled out so that AZ names are known without a lookup. */
  region: string;
  /**
   * DNS suffix of the nodes' public names (`{node id}.{domain}`), announced by nwaku.
   * @default - nodes announce their Elastic IP only
   */
  domain?: string;
  /**
   * ACM certificate (in this region) for `*.{domain}`: adds a TLS listener per node for secure websockets.
   * Ignored without `domain`.
   * @default - no TLS listener
   */
  certificateArn?: string;
  /**
   * Hosted zone for `domain`: one A record per node name.
   * @default - no DNS records (point the names at the `...Address` outputs yourself)
   */
  hostedZone?: route53.IHostedZone;
  /**
   * Further nwaku flags the fleet config has no field for, as `WAKUNODE2_*` variables.
   * @default none
   */
  extraNodeEnvironment?: Record<string, string>;
  /**
   * @default - db.t4g.medium, single AZ, storage sized from the retentions
   */
  database?: StoreNodeFleetDatabaseProps;
  /**
   * What happens to node keys, Elastic IPs and archives when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  removalPolicy?: RemovalPolicy;
}

/**
 * Runs the store nodes of one region on ECS Fargate.
 *
 * @example
 * const fleet = new StoreNodeFleet(stack, 'Nodes', {
 *   config,
 *   region: 'eu-central-1',
 *   nodes: resolveNodes(config).filter((node) => node.region === 'eu-central-1'),
 * });
 */
export class StoreNodeFleet extends Construct {
  readonly vpc: ec2.Vpc;
  readonly cluster: ecs.Cluster;
  readonly nodes: DeployedStoreNode[] = [];
  readonly groups: StoreNodeGroup[] = [];
  /** Members of this group may call the nodes' REST port; nothing else may. */
  readonly probersSecurityGroup: ec2.SecurityGroup;
  readonly nodesSecurityGroup: ec2.SecurityGroup;
  readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  readonly database: rds.DatabaseInstance;
  /** The region's one balancer (aws.loadBalancing "shared"); per-node balancers live in the groups. */
  readonly loadBalancer: elbv2.NetworkLoadBalancer | undefined;
  /** SSM parameter with every node's public IP and ports, read by the watchers and the publisher. */
  readonly addressesParameter: ssm.StringParameter;

  constructor(scope: Construct, id: string, props: StoreNodeFleetProps) {
    super(scope, id);
    if (props.nodes.length === 0) {
      throw new Error(
        `${this.node.path}: no nodes for region ${props.region}; expected at least one`,
      );
    }
    const foreign = props.nodes.filter((node) => node.region !== props.region);
    if (foreign.length > 0) {
      throw new Error(
        `${this.node.path}: nodes ${foreign.map((node) => node.id).join(', ')} are not in ${props.region}`,
      );
    }
    const { config } = props;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const tls = props.domain !== undefined && props.certificateArn !== undefined;
    const ports = nodePublicPorts(config, props.nodes);

    this.vpc = this.createVpc(props);
    this.loadBalancerSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: this.vpc,
      description: 'Store node load balancers: the public p2p ports only',
      allowAllOutbound: false,
    });
    this.nodesSecurityGroup = new ec2.SecurityGroup(this, 'NodesSecurityGroup', {
      vpc: this.vpc,
      description: 'Store node tasks: p2p from the load balancers, REST from probers only',
      // nwaku dials relay peers anywhere on the internet and pulls its image from Docker Hub.
      allowAllOutbound: true,
    });
    this.probersSecurityGroup = new ec2.SecurityGroup(this, 'ProbersSecurityGroup', {
      vpc: this.vpc,
      description: 'Watchers allowed to call the store nodes REST API',
      allowAllOutbound: true,
    });
    Validations.of(this.loadBalancerSecurityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason:
        'The p2p ports of a public Waku store node must accept connections from any client; the REST port is not opened here.',
    });
    this.openPorts(props.nodes, ports, tls);

    this.database = this.createDatabase(props, removalPolicy);
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      clusterName: clusterName(config.fleet),
      // Container Insights bills ~10 custom metrics per service; alarms and the dashboard read the free AWS/ECS metrics.
      containerInsightsV2: ecs.ContainerInsights.DISABLED,
      enableFargateCapacityProviders: true,
    });
    acknowledgeNoContainerInsights(this.cluster);
    const namespace = new servicediscovery.PrivateDnsNamespace(this, 'Names', {
      name: config.fleet,
      vpc: this.vpc,
      description: `Store nodes of ${config.fleet}, by node id`,
    });
    const logGroup = new logs.LogGroup(this, 'NodeLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const zoneIps = new Map<string, string>();
    if (config.aws.loadBalancing === 'shared') {
      const zones = [...new Set(props.nodes.map((node) => node.zone ?? 'a'))].sort();
      const subnetMappings = zones.map((zone) => {
        const eip = new ec2.CfnEIP(this, `PublicIp-${zone}`, {
          domain: 'vpc',
          tags: [{ key: 'Name', value: `${config.fleet} ${props.region}${zone}` }],
        });
        eip.applyRemovalPolicy(removalPolicy);
        zoneIps.set(zone, eip.attrPublicIp);
        new CfnOutput(this, `Address-${zone}`, {
          description: `Public IP of the ${config.fleet} nodes in ${props.region}${zone}`,
          value: eip.attrPublicIp,
        });
        return { subnet: this.subnetInZone(zone), allocationId: eip.attrAllocationId };
      });
      this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
        vpc: this.vpc,
        internetFacing: true,
        subnetMappings,
        securityGroups: [this.loadBalancerSecurityGroup],
        // A node is dialled at the Elastic IP of its own zone; crossing zones would only add data charges.
        crossZoneEnabled: false,
      });
      Validations.of(this.loadBalancer).acknowledge({
        id: 'AwsSolutions-ELB2',
        reason:
          'NLB access logs record TLS listeners only; the p2p TCP listeners would log nothing. nwaku logs its peers.',
      });
    }

    const byGroup = new Map<string, ResolvedNode[]>();
    for (const node of props.nodes) {
      const key = `${node.location}-${Math.floor((node.index - 1) / NODES_PER_GROUP)}`;
      byGroup.set(key, [...(byGroup.get(key) ?? []), node]);
    }
    const adminSecret = this.database.secret;
    if (!adminSecret) throw new Error(`${this.node.path}: the archive has no admin secret`);
    let previous: StoreNodeGroup | undefined;
    for (const [key, nodes] of [...byGroup.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const group = new StoreNodeGroup(this, `Group-${key}`, {
        config,
        nodes,
        ports,
        vpc: this.vpc,
        cluster: this.cluster,
        namespace,
        logGroup,
        nodesSecurityGroup: this.nodesSecurityGroup,
        loadBalancerSecurityGroup: this.loadBalancerSecurityGroup,
        loadBalancer: this.loadBalancer,
        zoneIps,
        subnetInZone: (zone) => this.subnetInZone(zone),
        adminSecret,
        databaseHost: this.database.dbInstanceEndpointAddress,
        databasePort: DATABASE_PORT,
        removalPolicy,
        domain: props.domain,
        certificateArn: tls ? props.certificateArn : undefined,
        hostedZone: props.hostedZone,
        extraNodeEnvironment: props.extraNodeEnvironment,
        description: `storefleet ${config.fleet}: ${nodes.length} store nodes, ${nodes[0]?.id} to ${nodes[nodes.length - 1]?.id}`,
      });
      // Image or flag changes roll out one group, and inside it one node, at a time.
      if (previous) group.addDependency(previous);
      previous = group;
      this.groups.push(group);
      this.nodes.push(...group.nodes);
    }

    if (!this.loadBalancer) {
      for (const deployed of this.nodes) {
        new CfnOutput(this, `Address-${nodeSlug(deployed.node, config.fleet)}`, {
          description: `Public IP of ${deployed.node.id}${props.domain ? `: ${deployed.node.id}.${props.domain}` : ''}`,
          value: deployed.publicIp,
        });
      }
    }
    const addresses: Record<string, Record<string, unknown>> = {};
    for (const deployed of this.nodes) {
      const nodePorts = ports.get(deployed.node.id);
      if (!nodePorts) continue;
      addresses[deployed.node.id] = {
        ip: deployed.publicIp,
        tcp: nodePorts.tcp,
        websocket: nodePorts.websocket,
        ...(tls ? { secureWebsocket: nodePorts.secureWebsocket } : {}),
        ...(props.domain ? { dns4: `${deployed.node.id}.${props.domain}` } : {}),
      };
    }
    this.addressesParameter = new ssm.StringParameter(this, 'NodeAddresses', {
      parameterName: nodeAddressesParameterName(config.fleet, props.region),
      description: `Public addresses of the ${config.fleet} store nodes in ${props.region}`,
      stringValue: Stack.of(this).toJsonString(addresses),
      // 100 nodes of ~120 bytes each outgrow the standard tier's 4 KB.
      tier: props.nodes.length > 25 ? ssm.ParameterTier.ADVANCED : ssm.ParameterTier.STANDARD,
    });
  }

  /** The public ports, as a few ranges: one security group holds at most 60 inbound rules. */
  private openPorts(
    nodes: readonly ResolvedNode[],
    ports: ReturnType<typeof nodePublicPorts>,
    tls: boolean,
  ): void {
    const listened = nodes.flatMap((node) => {
      const own = ports.get(node.id);
      return own ? [own.tcp, own.websocket] : [];
    });
    const published = nodes.flatMap((node) => {
      const own = ports.get(node.id);
      return own ? [own.tcp, own.websocket, ...(tls ? [own.secureWebsocket] : [])] : [];
    });
    const asPort = ({ from, to }: { from: number; to: number }) =>
      from === to ? ec2.Port.tcp(from) : ec2.Port.tcpRange(from, to);
    for (const range of portRanges(published)) {
      this.loadBalancerSecurityGroup.addIngressRule(
        ec2.Peer.anyIpv4(),
        asPort(range),
        'p2p from anywhere',
      );
    }
    for (const range of portRanges(listened)) {
      this.loadBalancerSecurityGroup.addEgressRule(
        this.nodesSecurityGroup,
        asPort(range),
        'p2p to store nodes',
      );
      // Client IPs are preserved, but the balancer has a security group: targets may admit it by group.
      this.nodesSecurityGroup.addIngressRule(
        this.loadBalancerSecurityGroup,
        asPort(range),
        'p2p and health checks from the load balancers',
      );
    }
    for (const range of portRanges(nodes.map((node) => node.ports.rest))) {
      this.nodesSecurityGroup.addIngressRule(
        this.probersSecurityGroup,
        asPort(range),
        'nwaku REST from watchers',
      );
    }
  }

  private createVpc(props: StoreNodeFleetProps): ec2.Vpc {
    const zones = [...new Set(props.nodes.map((node) => node.zone ?? 'a'))].sort();
    // RDS needs a subnet group in two AZs even for a single-AZ instance.
    for (const letter of 'abc') {
      if (zones.length >= 2) break;
      if (!zones.includes(letter)) zones.push(letter);
    }
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.42.0.0/16'),
      availabilityZones: zones.map((letter) => `${props.region}${letter}`),
      subnetConfiguration: [
        // Tasks sit in public subnets with public IPs for egress, so no NAT gateway is needed;
        // their security group admits nothing from the internet directly.
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'database', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      natGateways: 0,
    });
    Validations.of(vpc).acknowledge({
      id: 'AwsSolutions-VPC7',
      reason:
        'Flow logs cost per GB on a VPC whose traffic is mostly public p2p relay; enable them when investigating.',
    });
    return vpc;
  }

  private createDatabase(props: StoreNodeFleetProps, removalPolicy: RemovalPolicy) {
    const securityGroup = new ec2.SecurityGroup(this, 'DatabaseSecurityGroup', {
      vpc: this.vpc,
      description: 'Archive database: PostgreSQL from the store node tasks only',
      allowAllOutbound: false,
    });
    securityGroup.addIngressRule(
      this.nodesSecurityGroup,
      ec2.Port.tcp(DATABASE_PORT),
      'PostgreSQL from store nodes',
    );
    const retainedGiB = props.nodes.reduce((sum, node) => {
      const match = /^size:(\d+)(KB|MB|GB)$/.exec(node.resources.retention);
      if (!match) return sum + ASSUMED_ARCHIVE_GIB;
      const divisor = match[2] === 'GB' ? 1 : match[2] === 'MB' ? 1024 : 1024 * 1024;
      return sum + Number(match[1]) / divisor;
    }, 0);
    const allocated =
      props.database?.allocatedStorageGiB ??
      Math.max(20, Math.ceil(retainedGiB * STORAGE_HEADROOM));
    const instanceIdentifier = `storefleet-${fleetSlug(props.config.fleet)}-archive`;
    // Created before the instance so that RDS exports into a group with a retention, without a
    // log-retention custom resource (one more Lambda function per region) to set it afterwards.
    const databaseLogs = new logs.LogGroup(this, 'ArchiveLogs', {
      logGroupName: `/aws/rds/instance/${instanceIdentifier}/postgresql`,
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const database = new rds.DatabaseInstance(this, 'Archive', {
      instanceIdentifier,
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17_9 }),
      instanceType:
        props.database?.instanceType ??
        ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [securityGroup],
      port: DATABASE_PORT,
      credentials: rds.Credentials.fromGeneratedSecret(DATABASE_ADMIN_USER, {
        excludeCharacters: URL_UNSAFE_CHARACTERS,
      }),
      multiAz: props.database?.multiAz ?? false,
      storageType: rds.StorageType.GP3,
      allocatedStorage: allocated,
      maxAllocatedStorage: allocated * MAX_STORAGE_MULTIPLIER,
      storageEncrypted: true,
      backupRetention: Duration.days(7),
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy:
        removalPolicy === RemovalPolicy.RETAIN ? RemovalPolicy.SNAPSHOT : removalPolicy,
      cloudwatchLogsExports: ['postgresql'],
      enablePerformanceInsights: true,
      publiclyAccessible: false,
    });
    for (const [rule, reason] of [
      [
        'AwsSolutions-RDS3',
        'Single AZ by default: the archives are a cache of history the network also holds; set database.multiAz for a standby.',
      ],
      [
        'AwsSolutions-RDS11',
        'A non-default port hides nothing from a scanner inside the VPC; access is limited by security group.',
      ],
    ] as const) {
      Validations.of(database).acknowledge({ id: rule, reason });
    }
    database.node.addDependency(databaseLogs);
    Validations.of(database.node.findChild('Secret')).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Tasks read the admin password by JSON field when they start; rotating it needs the node tasks restarted, so rotate by redeploying.',
    });
    return database;
  }

  private subnetInZone(zone: string): ec2.ISubnet {
    const name = `${this.vpc.availabilityZones[0]?.slice(0, -1)}${zone}`;
    const subnet = this.vpc.publicSubnets.find((candidate) => candidate.availabilityZone === name);
    if (!subnet) throw new Error(`${this.node.path}: no public subnet in ${name}`);
    return subnet;
  }
}

export type { DeployedStoreNode } from './StoreNodeGroup.ts';
