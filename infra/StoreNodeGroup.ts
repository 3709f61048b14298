// Up to NODES_PER_GROUP store nodes of one region in a nested stack: key, task, service, listeners and name per node, no dynamic reference.
import { Duration, NestedStack, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import type { FleetConfig, ResolvedNode } from '../fleet/config.ts';
import type { NodePublicPorts } from './node-ports.ts';
import { nodeDatabaseName, nodeHostLabel, nodeSlug } from './resource-names.ts';

/** Status runs its store nodes with this; the config has no field for it yet. */
export const NODE_MAX_CONNECTIONS = 500;
export const NWAKU_CONTAINER = 'nwaku';
/** Where the nwaku image keeps its binary (its Dockerfile's ENTRYPOINT). */
const NWAKU_BINARY = '/usr/bin/wakunode';
const DATABASE_INIT_CONTAINER = 'create-database';
/** Pulled from ECR Public rather than Docker Hub: no anonymous pull rate limit. */
const DATABASE_INIT_IMAGE = 'public.ecr.aws/docker/library/postgres:17-alpine';
/** Flags set from the fleet config, the node key and the archive secret: the config is their one source. */
export const MANAGED_NODE_ENVIRONMENT = new Set([
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
/** A complete Secrets Manager ARN ends in `-` and six random characters. */
const COMPLETE_SECRET_ARN = /-[A-Za-z0-9]{6}$/;

/** What the app and other constructs need to know about one deployed node. */
export interface DeployedStoreNode {
  node: ResolvedNode;
  service: ecs.FargateService;
  /** The Elastic IP clients dial; stable across task replacements. */
  publicIp: string;
  nodeKey: secretsmanager.ISecret;
  /** Its own balancer, with aws.loadBalancing "perNode". */
  loadBalancer: elbv2.NetworkLoadBalancer | undefined;
}

export interface StoreNodeGroupProps {
  config: FleetConfig;
  nodes: ResolvedNode[];
  /** Public (and listening) ports by node id. */
  ports: Map<string, NodePublicPorts>;
  vpc: ec2.IVpc;
  cluster: ecs.ICluster;
  namespace: servicediscovery.IPrivateDnsNamespace;
  logGroup: logs.ILogGroup;
  nodesSecurityGroup: ec2.ISecurityGroup;
  loadBalancerSecurityGroup: ec2.ISecurityGroup;
  /**
   * The region's shared balancer.
   * @default - each node gets its own balancer and Elastic IP (aws.loadBalancing "perNode")
   */
  loadBalancer?: elbv2.INetworkLoadBalancer;
  /** Public IP of the shared balancer by zone letter (shared balancing only). */
  zoneIps: Map<string, string>;
  subnetInZone: (zone: string) => ec2.ISubnet;
  /** The archive's admin secret (`username`, `password` fields), read by JSON field. */
  adminSecret: secretsmanager.ISecret;
  databaseHost: string;
  databasePort: number;
  removalPolicy: RemovalPolicy;
  /**
   * @default - no DNS name
   */
  domain?: string;
  /**
   * @default - no TLS listener
   */
  certificateArn?: string;
  /**
   * @default - no DNS records
   */
  hostedZone?: route53.IHostedZone;
  /**
   * @default none
   */
  extraNodeEnvironment?: Record<string, string>;
  /**
   * @default - none
   */
  description?: string;
}

/**
 * A nested stack, so that a region of any size stays inside CloudFormation's 500 resources per
 * template. The database URL is assembled inside the task from secret fields that ECS injects, so
 * the template holds no `{{resolve:...}}` reference at all (CloudFormation allows 60).
 */
export class StoreNodeGroup extends NestedStack {
  readonly nodes: DeployedStoreNode[] = [];

  constructor(scope: Construct, id: string, props: StoreNodeGroupProps) {
    super(scope, id, { description: props.description });
    for (const name of Object.keys(props.extraNodeEnvironment ?? {})) {
      if (!name.startsWith('WAKUNODE2_') || MANAGED_NODE_ENVIRONMENT.has(name)) {
        throw new Error(
          `${this.node.path}: extra nwaku variable ${name} is refused; expected a WAKUNODE2_* flag other than ${[...MANAGED_NODE_ENVIRONMENT].join(', ')}`,
        );
      }
    }
    // One execution role and one (empty) task role for the group: nwaku calls no AWS API.
    const executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Pulls the store node images, writes their logs, reads their secrets',
    });
    const taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Store node tasks: no AWS permissions',
    });
    let previous: ecs.FargateService | undefined;
    for (const node of props.nodes) {
      const deployed = this.addNode(node, props, executionRole, taskRole);
      // CloudFormation replaces one node's task at a time: the fleet never loses two at once to a deploy.
      if (previous) deployed.service.node.addDependency(previous);
      previous = deployed.service;
      this.nodes.push(deployed);
    }
  }

  private addNode(
    node: ResolvedNode,
    props: StoreNodeGroupProps,
    executionRole: iam.IRole,
    taskRole: iam.IRole,
  ): DeployedStoreNode {
    const { config } = props;
    const slug = nodeSlug(node, config.fleet);
    const scope = new Construct(this, slug);
    const zone = node.zone ?? 'a';
    const subnet = props.subnetInZone(zone);
    const ports = props.ports.get(node.id);
    if (!ports) throw new Error(`${this.node.path}: no ports chosen for ${node.id}`);
    const existing = config.aws.nodes[node.id];

    // The node key is the node's libp2p identity: 32 random bytes as hex, kept across replacements.
    let nodeKey: secretsmanager.ISecret;
    if (existing?.nodeKeySecretArn) {
      nodeKey = COMPLETE_SECRET_ARN.test(existing.nodeKeySecretArn)
        ? secretsmanager.Secret.fromSecretCompleteArn(scope, 'NodeKey', existing.nodeKeySecretArn)
        : secretsmanager.Secret.fromSecretPartialArn(scope, 'NodeKey', existing.nodeKeySecretArn);
    } else {
      const secret = new secretsmanager.Secret(scope, 'NodeKey', {
        description: `libp2p node key of ${node.id}`,
        generateSecretString: {
          passwordLength: 64,
          excludePunctuation: true,
          excludeUppercase: true,
          includeSpace: false,
          excludeCharacters: 'ghijklmnopqrstuvwxyz',
          requireEachIncludedType: false,
        },
        removalPolicy: props.removalPolicy,
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          "Rotating a node key changes the node's peer id and every address clients hold for it.",
      });
      nodeKey = secret;
    }

    let publicIp: string;
    let loadBalancer: elbv2.INetworkLoadBalancer;
    let ownBalancer: elbv2.NetworkLoadBalancer | undefined;
    if (props.loadBalancer) {
      loadBalancer = props.loadBalancer;
      publicIp = props.zoneIps.get(zone) as string;
    } else {
      let allocationId: string;
      if (existing?.elasticIp) {
        allocationId = existing.elasticIp.allocationId;
        publicIp = existing.elasticIp.address;
      } else {
        const eip = new ec2.CfnEIP(scope, 'PublicIp', {
          domain: 'vpc',
          tags: [{ key: 'Name', value: node.id }],
        });
        eip.applyRemovalPolicy(props.removalPolicy);
        allocationId = eip.attrAllocationId;
        publicIp = eip.attrPublicIp;
      }
      ownBalancer = new elbv2.NetworkLoadBalancer(scope, 'LoadBalancer', {
        vpc: props.vpc,
        internetFacing: true,
        subnetMappings: [{ subnet, allocationId }],
        securityGroups: [props.loadBalancerSecurityGroup],
        crossZoneEnabled: false,
      });
      Validations.of(ownBalancer).acknowledge({
        id: 'AwsSolutions-ELB2',
        reason:
          'NLB access logs record TLS listeners only; the p2p TCP listeners would log nothing. nwaku logs its peers.',
      });
      loadBalancer = ownBalancer;
    }

    const taskDefinition = new ecs.FargateTaskDefinition(scope, 'Task', {
      family: `storefleet-${slug}`,
      cpu: node.resources.cpu,
      memoryLimitMiB: node.resources.memoryMiB,
      executionRole,
      taskRole,
      // nwaku publishes amd64 images only.
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    const databaseName = nodeDatabaseName(node, config.fleet);
    const databaseEnvironment = {
      ARCHIVE_DATABASE: databaseName,
      DATABASE_HOST: props.databaseHost,
      DATABASE_PORT: String(props.databasePort),
    };
    // Injected by ECS from the admin secret's JSON fields: no dynamic reference in the template.
    const databaseSecrets = {
      DATABASE_USER: ecs.Secret.fromSecretsManager(props.adminSecret, 'username'),
      DATABASE_PASSWORD: ecs.Secret.fromSecretsManager(props.adminSecret, 'password'),
    };
    const init = taskDefinition.addContainer(DATABASE_INIT_CONTAINER, {
      image: ecs.ContainerImage.fromRegistry(DATABASE_INIT_IMAGE),
      essential: false,
      entryPoint: ['sh', '-c'],
      command: [
        'export PGPASSWORD="$DATABASE_PASSWORD"; ADMIN="postgres://$DATABASE_USER@$DATABASE_HOST:$DATABASE_PORT/postgres"; ' +
          'psql "$ADMIN" -tAc "SELECT 1 FROM pg_database WHERE datname = \'$ARCHIVE_DATABASE\'" | grep -q 1 || psql "$ADMIN" -c "CREATE DATABASE \\"$ARCHIVE_DATABASE\\""',
      ],
      environment: databaseEnvironment,
      secrets: databaseSecrets,
      logging: ecs.LogDrivers.awsLogs({ logGroup: props.logGroup, streamPrefix: `${slug}-init` }),
    });
    const environment: Record<string, string> = {
      ...databaseEnvironment,
      WAKUNODE2_CLUSTER_ID: String(config.clusterId),
      WAKUNODE2_SHARD: config.shards.join(','),
      // nwaku listens on its public ports, so the addresses it announces are the ones clients dial.
      WAKUNODE2_TCP_PORT: String(ports.tcp),
      WAKUNODE2_WEBSOCKET_SUPPORT: 'true',
      WAKUNODE2_WEBSOCKET_PORT: String(ports.websocket),
      WAKUNODE2_RELAY: 'true',
      WAKUNODE2_STORE: 'true',
      WAKUNODE2_STORE_MESSAGE_RETENTION_POLICY: node.resources.retention,
      WAKUNODE2_REST: 'true',
      // Bound to every interface inside the task; the security group admits only watchers.
      WAKUNODE2_REST_ADDRESS: '0.0.0.0',
      WAKUNODE2_REST_PORT: String(node.ports.rest),
      WAKUNODE2_MAX_CONNECTIONS: String(NODE_MAX_CONNECTIONS),
      // Announce the Elastic IP of the node's load balancer, not the task's changing address.
      WAKUNODE2_NAT: `extip:${publicIp}`,
    };
    Object.assign(environment, props.extraNodeEnvironment);
    if (props.domain) {
      environment.WAKUNODE2_DNS4_DOMAIN_NAME = `${node.id}.${props.domain}`;
      if (props.certificateArn) {
        environment.WAKUNODE2_EXT_MULTIADDR = `/dns4/${node.id}.${props.domain}/tcp/${ports.secureWebsocket}/wss`;
      }
    }
    const nwaku = taskDefinition.addContainer(NWAKU_CONTAINER, {
      // A digest (`wakuorg/nwaku@sha256:...`) pins the image exactly; a tag follows its registry.
      image: ecs.ContainerImage.fromRegistry(node.image),
      essential: true,
      entryPoint: ['/bin/sh', '-c'],
      command: [
        `export WAKUNODE2_STORE_MESSAGE_DB_URL="postgres://$DATABASE_USER:$DATABASE_PASSWORD@$DATABASE_HOST:$DATABASE_PORT/$ARCHIVE_DATABASE"; exec ${NWAKU_BINARY}`,
      ],
      environment,
      secrets: {
        WAKUNODE2_NODEKEY: ecs.Secret.fromSecretsManager(nodeKey),
        ...databaseSecrets,
      },
      portMappings: [
        { containerPort: ports.tcp, protocol: ecs.Protocol.TCP, name: 'p2p-tcp' },
        { containerPort: ports.websocket, protocol: ecs.Protocol.TCP, name: 'p2p-ws' },
        { containerPort: node.ports.rest, protocol: ecs.Protocol.TCP, name: 'rest' },
      ],
      logging: ecs.LogDrivers.awsLogs({ logGroup: props.logGroup, streamPrefix: slug }),
      stopTimeout: Duration.seconds(30),
    });
    nwaku.addContainerDependencies({
      container: init,
      condition: ecs.ContainerDependencyCondition.SUCCESS,
    });
    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The environment holds nwaku flags derived from the fleet config; the node key and database credentials come from Secrets Manager.',
    });

    const service = new ecs.FargateService(scope, 'Service', {
      cluster: props.cluster,
      serviceName: slug,
      taskDefinition,
      // One task per node key: two tasks with the same key would fight over one peer id.
      desiredCount: 1,
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      circuitBreaker: { enable: true, rollback: true },
      assignPublicIp: true,
      vpcSubnets: { subnets: [subnet] },
      securityGroups: [props.nodesSecurityGroup],
      healthCheckGracePeriod: HEALTH_CHECK_GRACE,
      enableECSManagedTags: true,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      cloudMapOptions: {
        name: nodeHostLabel(node, config.fleet),
        cloudMapNamespace: props.namespace,
        dnsRecordType: servicediscovery.DnsRecordType.A,
        dnsTtl: Duration.seconds(10),
      },
    });

    const listeners: Array<{ name: string; port: number; targetPort: number; tls: boolean }> = [
      { name: 'Tcp', port: ports.tcp, targetPort: ports.tcp, tls: false },
      { name: 'Websocket', port: ports.websocket, targetPort: ports.websocket, tls: false },
    ];
    if (props.certificateArn) {
      listeners.push({
        name: 'SecureWebsocket',
        port: ports.secureWebsocket,
        targetPort: ports.websocket,
        tls: true,
      });
    }
    for (const listener of listeners) {
      const targetGroup = new elbv2.NetworkTargetGroup(scope, `${listener.name}Targets`, {
        vpc: props.vpc,
        port: listener.targetPort,
        protocol: elbv2.Protocol.TCP,
        targetType: elbv2.TargetType.IP,
        // nwaku limits peers per IP address (colocation limit): it must see each client's own address.
        preserveClientIp: true,
        deregistrationDelay: DEREGISTRATION_DELAY,
        healthCheck: { protocol: elbv2.Protocol.TCP, interval: Duration.seconds(10) },
        targets: [
          service.loadBalancerTarget({
            containerName: NWAKU_CONTAINER,
            containerPort: listener.targetPort,
          }),
        ],
      });
      new elbv2.NetworkListener(scope, `${listener.name}Listener`, {
        loadBalancer,
        port: listener.port,
        protocol: listener.tls ? elbv2.Protocol.TLS : elbv2.Protocol.TCP,
        certificates:
          listener.tls && props.certificateArn
            ? [elbv2.ListenerCertificate.fromArn(props.certificateArn)]
            : undefined,
        sslPolicy: listener.tls ? elbv2.SslPolicy.RECOMMENDED_TLS : undefined,
        defaultTargetGroups: [targetGroup],
      });
    }

    if (props.hostedZone && props.domain) {
      new route53.ARecord(scope, 'Name', {
        zone: props.hostedZone,
        recordName: `${node.id}.${props.domain}`,
        target: route53.RecordTarget.fromIpAddresses(publicIp),
        ttl: Duration.minutes(5),
      });
    }
    return { node, service, publicIp, nodeKey, loadBalancer: ownBalancer };
  }
}
