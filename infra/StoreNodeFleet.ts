// The store nodes of one region: VPC, ECS cluster, one Fargate service per node, a stable public address each, PostgreSQL archives.
import { CfnOutput, Duration, RemovalPolicy, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { FleetConfig, ResolvedNode } from '../fleet/config.ts';
import {
  clusterName,
  fleetSlug,
  nodeAddressesParameterName,
  nodeDatabaseName,
  nodeHostLabel,
  nodeSlug,
} from './resource-names.ts';

/** Status runs its store nodes with this; the config has no field for it yet. */
export const NODE_MAX_CONNECTIONS = 500;
const NWAKU_CONTAINER = 'nwaku';
const DATABASE_INIT_CONTAINER = 'create-database';
/** Pulled from ECR Public rather than Docker Hub: no anonymous pull rate limit. */
const DATABASE_INIT_IMAGE = 'public.ecr.aws/docker/library/postgres:17-alpine';
const DATABASE_PORT = 5432;
const DATABASE_ADMIN_USER = 'storefleet';
/** Kept out of generated passwords because they would need escaping inside a postgres:// URL. */
const URL_UNSAFE_CHARACTERS = ' %+~`#$&*()|[]{}:;<>?!\'/@"\\=,^.';
const TLS_WEBSOCKET_PORT = 443;
/** Flags set from the fleet config, the node key and the archive secret: the config is their one source. */
const MANAGED_NODE_ENVIRONMENT = new Set([
  'WAKUNODE2_CLUSTER_ID',
  'WAKUNODE2_SHARD',
  'WAKUNODE2_TCP_PORT',
  'WAKUNODE2_WEBSOCKET_SUPPORT',
  'WAKUNODE2_WEBSOCKET_PORT',
  'WAKUNODE2_RELAY',
  'WAKUNODE2_STORE',
  'WAKUNODE2_STORE_MESSAGE_RETENTION_POLICY',
  'WAKUNODE2_REST',
  'WAKUNODE2_REST_ADDRESS',
  'WAKUNODE2_REST_PORT',
  'WAKUNODE2_MAX_CONNECTIONS',
  'WAKUNODE2_NAT',
  'WAKUNODE2_DNS4_DOMAIN_NAME',
  'WAKUNODE2_EXT_MULTIADDR',
  'WAKUNODE2_NODEKEY',
  'WAKUNODE2_STORE_MESSAGE_DB_URL',
]);
/** A replacement must not wait five minutes for the old task's connections to drain. */
const DEREGISTRATION_DELAY = Duration.seconds(30);
/** nwaku opens its archive and joins relay before it answers on its ports. */
const HEALTH_CHECK_GRACE = Duration.seconds(180);
/** Archive size assumed for a node whose retention is by time or message count. */
const ASSUMED_ARCHIVE_GIB = 50;
const STORAGE_HEADROOM = 1.25;
const MAX_STORAGE_MULTIPLIER = 4;

/** What the app and other constructs need to know about one deployed node. */
export interface DeployedStoreNode {
  node: ResolvedNode;
  service: ecs.FargateService;
  /** The Elastic IP clients dial; stable across task replacements. */
  publicIp: string;
  loadBalancer: elbv2.NetworkLoadBalancer;
  nodeKey: secretsmanager.ISecret;
}

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
  /** The validated fleet config (cluster id, shards, fleet name). */
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
   * ACM certificate (in this region) for `*.{domain}`: adds a TLS listener on 443 for secure websockets.
   * Ignored without `domain`.
   * @default - no TLS listener
   */
  certificateArn?: string;
  /**
   * Further nwaku flags the fleet config has no field for, as `WAKUNODE2_*` variables (e.g.
   * `WAKUNODE2_DNS_DISCOVERY_URL` so the nodes find relay peers). Flags derived from the config
   * cannot be overridden here.
   * @default none
   */
  extraNodeEnvironment?: Record<string, string>;
  /**
   * Adds private subnets behind one NAT instance, for probers that must reach the nodes' REST port
   * from inside the VPC and still dial the public internet.
   * @default false
   */
  proberSubnets?: boolean;
  /**
   * @default - db.t4g.medium, single AZ, storage sized from the retentions
   */
  database?: StoreNodeFleetDatabaseProps;
  /**
   * What happens to node keys and archives when the stack is deleted.
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
  /** Members of this group may call the nodes' REST port; nothing else may. */
  readonly probersSecurityGroup: ec2.SecurityGroup;
  readonly nodesSecurityGroup: ec2.SecurityGroup;
  readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  readonly database: rds.DatabaseInstance;
  /** SSM parameter with every node's public IP and ports, read by the registry publisher. */
  readonly addressesParameter: ssm.StringParameter;
  /** Egress for in-VPC probers; present only with `proberSubnets`. */
  private natInstance: ec2.NatInstanceProviderV2 | undefined;
  /** Subnets for in-VPC probers; present only with `proberSubnets`. */
  readonly proberSubnetSelection: ec2.SubnetSelection | undefined;

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
    for (const name of Object.keys(props.extraNodeEnvironment ?? {})) {
      if (!name.startsWith('WAKUNODE2_') || MANAGED_NODE_ENVIRONMENT.has(name)) {
        throw new Error(
          `${this.node.path}: extra nwaku variable ${name} is refused; expected a WAKUNODE2_* flag other than ${[...MANAGED_NODE_ENVIRONMENT].join(', ')}`,
        );
      }
    }
    const tls = props.domain !== undefined && props.certificateArn !== undefined;

    this.vpc = this.createVpc(props);
    this.proberSubnetSelection = props.proberSubnets
      ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }
      : undefined;

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
      description: 'Probers allowed to call the store nodes REST API',
      allowAllOutbound: true,
    });
    this.natInstance?.connections.allowFrom(
      this.probersSecurityGroup,
      ec2.Port.allTraffic(),
      'Probers reach the internet through the NAT instance',
    );
    Validations.of(this.loadBalancerSecurityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason:
        'The p2p ports of a public Waku store node must accept connections from any client; the REST port is not opened here.',
    });

    this.database = this.createDatabase(props, removalPolicy);
    const adminSecret = this.database.secret!;

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      clusterName: clusterName(config.fleet),
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    const namespace = new servicediscovery.PrivateDnsNamespace(this, 'Names', {
      name: config.fleet,
      vpc: this.vpc,
      description: `Store nodes of ${config.fleet}, by node id`,
    });
    const logGroup = new logs.LogGroup(this, 'NodeLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const addresses: Record<string, Record<string, unknown>> = {};
    for (const node of props.nodes) {
      const deployed = this.addNode(node, {
        config,
        namespace,
        logGroup,
        adminSecret,
        removalPolicy,
        domain: props.domain,
        certificateArn: tls ? props.certificateArn : undefined,
        extraNodeEnvironment: props.extraNodeEnvironment,
      });
      this.nodes.push(deployed);
      addresses[node.id] = {
        ip: deployed.publicIp,
        tcp: node.ports.tcp,
        websocket: node.ports.websocket,
        ...(tls ? { secureWebsocket: TLS_WEBSOCKET_PORT } : {}),
        ...(props.domain ? { dns4: `${node.id}.${props.domain}` } : {}),
      };
    }
    this.addressesParameter = new ssm.StringParameter(this, 'NodeAddresses', {
      parameterName: nodeAddressesParameterName(config.fleet, props.region),
      description: `Public addresses of the ${config.fleet} store nodes in ${props.region}`,
      stringValue: Stack.of(this).toJsonString(addresses),
    });
  }

  private createVpc(props: StoreNodeFleetProps): ec2.Vpc {
    this.natInstance = props.proberSubnets
      ? ec2.NatProvider.instanceV2({
          instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.NANO),
          machineImage: ec2.MachineImage.latestAmazonLinux2023({
            cpuType: ec2.AmazonLinuxCpuType.ARM_64,
          }),
          // Nothing may reach the NAT instance but the probers (admitted once their group exists).
          defaultAllowedTraffic: ec2.NatTrafficDirection.OUTBOUND_ONLY,
        })
      : undefined;
    const zones = [...new Set(props.nodes.map((node) => node.zone ?? 'a'))].sort();
    // RDS needs a subnet group in two AZs even for a single-AZ instance.
    for (const letter of 'abc') {
      if (zones.length >= 2) break;
      if (!zones.includes(letter)) zones.push(letter);
    }
    const subnetConfiguration: ec2.SubnetConfiguration[] = [
      // Tasks sit in public subnets with public IPs for egress, so no NAT gateway is needed;
      // their security group admits nothing from the internet directly.
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'database', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
    ];
    if (props.proberSubnets) {
      subnetConfiguration.push({
        name: 'probers',
        subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS,
        cidrMask: 24,
      });
    }
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.42.0.0/16'),
      availabilityZones: zones.map((letter) => `${props.region}${letter}`),
      subnetConfiguration,
      natGateways: props.proberSubnets ? 1 : 0,
      // A NAT instance (about 3 USD a month) instead of a NAT gateway (about 33 USD a month plus data):
      // only the probers' small amount of traffic goes through it.
      natGatewayProvider: this.natInstance,
      gatewayEndpoints: props.proberSubnets
        ? { DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB } }
        : undefined,
    });
    Validations.of(vpc).acknowledge({
      id: 'AwsSolutions-VPC7',
      reason:
        'Flow logs cost per GB on a VPC whose traffic is mostly public p2p relay; enable them when investigating.',
    });
    if (props.proberSubnets) {
      const natInstance = vpc.node.findAll().find((child) => child instanceof ec2.Instance) as
        | ec2.Instance
        | undefined;
      if (natInstance) {
        for (const [rule, reason] of [
          ['AwsSolutions-EC26', 'The NAT instance keeps no data on its root volume.'],
          [
            'AwsSolutions-EC28',
            'A NAT instance for probers does not need 1-minute detailed monitoring.',
          ],
          [
            'AwsSolutions-EC29',
            'A NAT instance is disposable: the VPC recreates it; termination protection would block updates.',
          ],
        ] as const) {
          Validations.of(natInstance).acknowledge({ id: rule, reason });
        }
      }
    }
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
        'Rotating the admin password would break the per-node URL secrets, which embed it at deploy time; rotate by redeploying.',
    });
    return database;
  }

  private addNode(
    node: ResolvedNode,
    context: {
      config: FleetConfig;
      namespace: servicediscovery.PrivateDnsNamespace;
      logGroup: logs.LogGroup;
      adminSecret: secretsmanager.ISecret;
      removalPolicy: RemovalPolicy;
      domain: string | undefined;
      certificateArn: string | undefined;
      extraNodeEnvironment: Record<string, string> | undefined;
    },
  ): DeployedStoreNode {
    const { config } = context;
    const slug = nodeSlug(node, config.fleet);
    const scope = new Construct(this, slug);
    const subnet = this.subnetInZone(node);

    // The node key is the node's libp2p identity: 32 random bytes as hex, kept across replacements.
    const nodeKey = new secretsmanager.Secret(scope, 'NodeKey', {
      description: `libp2p node key of ${node.id}`,
      generateSecretString: {
        passwordLength: 64,
        excludePunctuation: true,
        excludeUppercase: true,
        includeSpace: false,
        excludeCharacters: 'ghijklmnopqrstuvwxyz',
        requireEachIncludedType: false,
      },
      removalPolicy: context.removalPolicy,
    });
    Validations.of(nodeKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        "Rotating a node key changes the node's peer id and every address clients hold for it.",
    });

    const databaseName = nodeDatabaseName(node, config.fleet);
    const adminUrl = this.databaseUrl(context.adminSecret, 'postgres');
    const adminUrlSecret = new secretsmanager.Secret(scope, 'AdminDatabaseUrl', {
      description: `URL of the archive server's maintenance database, used to create ${databaseName}`,
      secretStringValue: adminUrl,
    });
    const urlSecret = new secretsmanager.Secret(scope, 'ArchiveDatabaseUrl', {
      description: `WAKUNODE2_STORE_MESSAGE_DB_URL of ${node.id}`,
      secretStringValue: this.databaseUrl(context.adminSecret, databaseName),
    });
    for (const secret of [adminUrlSecret, urlSecret]) {
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Derived from the admin secret at deploy time; it changes when the stack is redeployed after a password change.',
      });
    }

    const eip = new ec2.CfnEIP(scope, 'PublicIp', {
      domain: 'vpc',
      tags: [{ key: 'Name', value: node.id }],
    });
    eip.applyRemovalPolicy(context.removalPolicy);

    const taskDefinition = new ecs.FargateTaskDefinition(scope, 'Task', {
      family: `storefleet-${slug}`,
      cpu: node.resources.cpu,
      memoryLimitMiB: node.resources.memoryMiB,
      // nwaku publishes amd64 images only.
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    const init = taskDefinition.addContainer(DATABASE_INIT_CONTAINER, {
      image: ecs.ContainerImage.fromRegistry(DATABASE_INIT_IMAGE),
      essential: false,
      entryPoint: ['sh', '-c'],
      command: [
        'psql "$ADMIN_DATABASE_URL" -tAc "SELECT 1 FROM pg_database WHERE datname = \'$ARCHIVE_DATABASE\'" | grep -q 1 || psql "$ADMIN_DATABASE_URL" -c "CREATE DATABASE \\"$ARCHIVE_DATABASE\\""',
      ],
      environment: { ARCHIVE_DATABASE: databaseName },
      secrets: { ADMIN_DATABASE_URL: ecs.Secret.fromSecretsManager(adminUrlSecret) },
      logging: ecs.LogDrivers.awsLogs({ logGroup: context.logGroup, streamPrefix: `${slug}-init` }),
    });
    const environment: Record<string, string> = {
      WAKUNODE2_CLUSTER_ID: String(config.clusterId),
      WAKUNODE2_SHARD: config.shards.join(','),
      WAKUNODE2_TCP_PORT: String(node.ports.tcp),
      WAKUNODE2_WEBSOCKET_SUPPORT: 'true',
      WAKUNODE2_WEBSOCKET_PORT: String(node.ports.websocket),
      WAKUNODE2_RELAY: 'true',
      WAKUNODE2_STORE: 'true',
      WAKUNODE2_STORE_MESSAGE_RETENTION_POLICY: node.resources.retention,
      WAKUNODE2_REST: 'true',
      // Bound to every interface inside the task; the security group admits only probers.
      WAKUNODE2_REST_ADDRESS: '0.0.0.0',
      WAKUNODE2_REST_PORT: String(node.ports.rest),
      WAKUNODE2_MAX_CONNECTIONS: String(NODE_MAX_CONNECTIONS),
      // Announce the Elastic IP of the node's load balancer, not the task's changing address.
      WAKUNODE2_NAT: `extip:${eip.attrPublicIp}`,
    };
    Object.assign(environment, context.extraNodeEnvironment);
    if (context.domain) {
      environment.WAKUNODE2_DNS4_DOMAIN_NAME = `${node.id}.${context.domain}`;
      if (context.certificateArn) {
        environment.WAKUNODE2_EXT_MULTIADDR = `/dns4/${node.id}.${context.domain}/tcp/${TLS_WEBSOCKET_PORT}/wss`;
      }
    }
    const nwaku = taskDefinition.addContainer(NWAKU_CONTAINER, {
      image: ecs.ContainerImage.fromRegistry(node.image),
      essential: true,
      environment,
      secrets: {
        WAKUNODE2_NODEKEY: ecs.Secret.fromSecretsManager(nodeKey),
        WAKUNODE2_STORE_MESSAGE_DB_URL: ecs.Secret.fromSecretsManager(urlSecret),
      },
      portMappings: [
        { containerPort: node.ports.tcp, protocol: ecs.Protocol.TCP, name: 'p2p-tcp' },
        { containerPort: node.ports.websocket, protocol: ecs.Protocol.TCP, name: 'p2p-ws' },
        { containerPort: node.ports.rest, protocol: ecs.Protocol.TCP, name: 'rest' },
      ],
      logging: ecs.LogDrivers.awsLogs({ logGroup: context.logGroup, streamPrefix: slug }),
      stopTimeout: Duration.seconds(30),
    });
    nwaku.addContainerDependencies({
      container: init,
      condition: ecs.ContainerDependencyCondition.SUCCESS,
    });
    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The environment holds nwaku flags derived from the fleet config; the node key and database URL come from Secrets Manager.',
    });

    const service = new ecs.FargateService(scope, 'Service', {
      cluster: this.cluster,
      serviceName: slug,
      taskDefinition,
      // One task per node key: two tasks with the same key would fight over one peer id.
      desiredCount: 1,
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      circuitBreaker: { enable: true, rollback: true },
      assignPublicIp: true,
      vpcSubnets: { subnets: [subnet] },
      securityGroups: [this.nodesSecurityGroup],
      healthCheckGracePeriod: HEALTH_CHECK_GRACE,
      enableECSManagedTags: true,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      cloudMapOptions: {
        name: nodeHostLabel(node, config.fleet),
        cloudMapNamespace: context.namespace,
        dnsRecordType: servicediscovery.DnsRecordType.A,
        dnsTtl: Duration.seconds(10),
      },
    });

    // One load balancer per node, in the node's AZ, with its own Elastic IP: nodes keep the ports the
    // config gives them (all nodes usually share 30303/8000), which one shared listener could not do.
    const loadBalancer = new elbv2.NetworkLoadBalancer(scope, 'LoadBalancer', {
      vpc: this.vpc,
      internetFacing: true,
      subnetMappings: [{ subnet, allocationId: eip.attrAllocationId }],
      securityGroups: [this.loadBalancerSecurityGroup],
      crossZoneEnabled: false,
    });
    Validations.of(loadBalancer).acknowledge({
      id: 'AwsSolutions-ELB2',
      reason:
        'NLB access logs record TLS listeners only; the p2p TCP listeners would log nothing. nwaku logs its peers.',
    });
    const publicPorts: Array<{
      name: string;
      listenPort: number;
      targetPort: number;
      tls: boolean;
    }> = [
      { name: 'Tcp', listenPort: node.ports.tcp, targetPort: node.ports.tcp, tls: false },
      {
        name: 'Websocket',
        listenPort: node.ports.websocket,
        targetPort: node.ports.websocket,
        tls: false,
      },
    ];
    if (context.certificateArn) {
      publicPorts.push({
        name: 'SecureWebsocket',
        listenPort: TLS_WEBSOCKET_PORT,
        targetPort: node.ports.websocket,
        tls: true,
      });
    }
    for (const port of publicPorts) {
      const listener = loadBalancer.addListener(port.name, {
        port: port.listenPort,
        protocol: port.tls ? elbv2.Protocol.TLS : elbv2.Protocol.TCP,
        certificates:
          port.tls && context.certificateArn
            ? [elbv2.ListenerCertificate.fromArn(context.certificateArn)]
            : undefined,
        sslPolicy: port.tls ? elbv2.SslPolicy.RECOMMENDED_TLS : undefined,
      });
      listener.addTargets(port.name, {
        port: port.targetPort,
        protocol: elbv2.Protocol.TCP,
        targets: [
          service.loadBalancerTarget({
            containerName: NWAKU_CONTAINER,
            containerPort: port.targetPort,
          }),
        ],
        deregistrationDelay: DEREGISTRATION_DELAY,
        healthCheck: { protocol: elbv2.Protocol.TCP, interval: Duration.seconds(10) },
      });
      this.loadBalancerSecurityGroup.addIngressRule(
        ec2.Peer.anyIpv4(),
        ec2.Port.tcp(port.listenPort),
        `${port.name} p2p from anywhere`,
      );
      this.loadBalancerSecurityGroup.addEgressRule(
        this.nodesSecurityGroup,
        ec2.Port.tcp(port.targetPort),
        `${port.name} to store nodes`,
      );
    }
    for (const port of [node.ports.tcp, node.ports.websocket]) {
      this.nodesSecurityGroup.addIngressRule(
        this.loadBalancerSecurityGroup,
        ec2.Port.tcp(port),
        'p2p and health checks from the load balancers',
      );
    }
    this.nodesSecurityGroup.addIngressRule(
      this.probersSecurityGroup,
      ec2.Port.tcp(node.ports.rest),
      'nwaku REST from probers',
    );

    new CfnOutput(scope, 'Address', {
      description: `Public IP of ${node.id}: point ${context.domain ? `${node.id}.${context.domain}` : 'its DNS name'} here`,
      value: eip.attrPublicIp,
    });
    return { node, service, publicIp: eip.attrPublicIp, loadBalancer, nodeKey };
  }

  private subnetInZone(node: ResolvedNode): ec2.ISubnet {
    const zone = `${this.vpc.availabilityZones[0]?.slice(0, -1)}${node.zone ?? 'a'}`;
    const subnet = this.vpc.publicSubnets.find((candidate) => candidate.availabilityZone === zone);
    if (!subnet) throw new Error(`${this.node.path}: no public subnet in ${zone} for ${node.id}`);
    return subnet;
  }

  /** A postgres:// URL whose password is a CloudFormation dynamic reference: the template never holds it. */
  private databaseUrl(adminSecret: secretsmanager.ISecret, database: string): SecretValue {
    const username = adminSecret.secretValueFromJson('username').unsafeUnwrap();
    const password = adminSecret.secretValueFromJson('password').unsafeUnwrap();
    return SecretValue.unsafePlainText(
      `postgres://${username}:${password}@${this.database.dbInstanceEndpointAddress}:${DATABASE_PORT}/${database}`,
    );
  }
}
