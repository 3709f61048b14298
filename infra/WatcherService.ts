// One vantage point's watcher: an ECS Fargate service (arm64, one task at most) running `node cli/main.ts watch --vantage ID` in the vantage point's region.
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { FleetConfig, VantagePointConfig } from '../fleet/config.ts';
import { type DeploymentTopology, FUNCTION_ENVIRONMENT } from '../fleet/function-environment.ts';
import { METRIC_NAMESPACE } from '../fleet/metrics.ts';
import {
  clusterName,
  configParameterName,
  deploymentParameterName,
  nodeAddressesParameterName,
  nodeStateTableName,
  probeResultsTableName,
} from './resource-names.ts';
import { PROJECT_ROOT } from './StorefleetFunction.ts';
import { acknowledgeWildcards, arnFinding } from './wildcard-findings.ts';

export const WATCHER_CONTAINER = 'watcher';
/** Kept out of the image's build context; the same list as .dockerignore, which docker itself reads. */
export const WATCHER_IMAGE_EXCLUDES = [
  'node_modules',
  '.git',
  'cdk.out',
  '.storefleet',
  'coverage',
  'bench/results',
  'test',
  'docs',
  '*.log',
];
/** `{fleet}-watcher-{vantage id}`: alarms and the dashboard find the service by this name. */
export function watcherServiceName(vantageId: string): string {
  return `watcher-${vantageId}`;
}

/** What the one controlling watcher (control region) may also touch: the registry it publishes. */
export interface ControllerGrants {
  registryBucketName: string;
  registryBucketArn: string;
  /** Sign and GetPublicKey on the registry key, however the config names it (FleetRegistry.signingGrant). */
  signingGrant: iam.PolicyStatement;
  /** Alias or key id the watcher signs with. */
  signingKeyId: string;
}

export interface WatcherServiceProps {
  config: FleetConfig;
  vantagePoint: VantagePointConfig;
  controlRegion: string;
  topology: DeploymentTopology;
  cluster: ecs.ICluster;
  /** Public subnets: the task dials nodes and AWS APIs through its own public IP, without a NAT. */
  vpcSubnets: ec2.SubnetSelection;
  /** Probers' group where the region's nodes admit it on their REST port. */
  securityGroup: ec2.ISecurityGroup;
  /**
   * Makes this the controller: it also decides and publishes every round.
   * @default - a vantage point only (probe and record)
   */
  controller?: ControllerGrants;
  /**
   * The image; share one per stack.
   * @default - built by `cdk deploy` from this repository's Dockerfile
   */
  image?: ecs.ContainerImage;
}

/** The image every watcher runs, built from the repository root by `cdk deploy` (synth only stages it). */
export function watcherImage(): ecs.ContainerImage {
  return ecs.ContainerImage.fromAsset(PROJECT_ROOT, {
    file: 'Dockerfile',
    platform: Platform.LINUX_ARM64,
    exclude: WATCHER_IMAGE_EXCLUDES,
  });
}

export class WatcherService extends Construct {
  readonly service: ecs.FargateService;
  readonly taskRole: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: WatcherServiceProps) {
    super(scope, id);
    const { config, vantagePoint, topology } = props;
    const stack = Stack.of(this);
    const { watcher } = config.aws;
    const arn = (service: string, region: string, resource: string, resourceName: string) =>
      stack.formatArn({ service, region, resource, resourceName });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `Watcher of vantage point ${vantagePoint.id}`,
    });
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      family: `storefleet-${clusterName(config.fleet).slice('storefleet-'.length)}-${watcherServiceName(vantagePoint.id)}`,
      cpu: watcher.cpu,
      memoryLimitMiB: watcher.memoryMiB,
      taskRole: this.taskRole,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    const environment: Record<string, string> = {
      [FUNCTION_ENVIRONMENT.fleet]: config.fleet,
      [FUNCTION_ENVIRONMENT.vantageId]: vantagePoint.id,
      [FUNCTION_ENVIRONMENT.region]: stack.region,
      [FUNCTION_ENVIRONMENT.controlRegion]: props.controlRegion,
      [FUNCTION_ENVIRONMENT.configParameter]: configParameterName(config.fleet),
      [FUNCTION_ENVIRONMENT.deploymentParameter]: deploymentParameterName(config.fleet),
      [FUNCTION_ENVIRONMENT.probeResultsTable]: probeResultsTableName(config.fleet),
      [FUNCTION_ENVIRONMENT.nodeStateTable]: nodeStateTableName(config.fleet),
    };
    if (props.controller) {
      environment[FUNCTION_ENVIRONMENT.controller] = 'true';
      environment[FUNCTION_ENVIRONMENT.registryBucket] = props.controller.registryBucketName;
      environment[FUNCTION_ENVIRONMENT.signingKeyId] = props.controller.signingKeyId;
    }
    taskDefinition.addContainer(WATCHER_CONTAINER, {
      image: props.image ?? watcherImage(),
      command: ['node', 'cli/main.ts', 'watch', '--vantage', vantagePoint.id],
      essential: true,
      environment,
      logging: ecs.LogDrivers.awsLogs({
        logGroup: this.logGroup,
        streamPrefix: watcherServiceName(vantagePoint.id),
      }),
      // The loop finishes its round and closes its connections on SIGTERM.
      stopTimeout: Duration.seconds(30),
    });
    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The environment names the fleet, the vantage point and the control-plane resources; it holds no secret.',
    });

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: props.cluster,
      serviceName: watcherServiceName(vantagePoint.id),
      taskDefinition,
      desiredCount: 1,
      // Never two watchers of one vantage point: the old task stops before the new one starts.
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      circuitBreaker: { enable: true, rollback: true },
      assignPublicIp: true,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [props.securityGroup],
      capacityProviderStrategies: [
        {
          capacityProvider: watcher.capacity === 'spot' ? 'FARGATE_SPOT' : 'FARGATE',
          weight: 1,
        },
      ],
      enableECSManagedTags: true,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });

    // Every watcher writes its rounds into the control region's table and reads the node directory there.
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'dynamodb:PutItem',
          'dynamodb:BatchWriteItem',
          'dynamodb:GetItem',
          'dynamodb:Query',
        ],
        resources: [
          arn('dynamodb', props.controlRegion, 'table', probeResultsTableName(config.fleet)),
        ],
      }),
    );
    const nodeRegions = [...new Set(topology.nodes.map((node) => node.region))].sort();
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter'],
        resources: [
          arn('ssm', props.controlRegion, 'parameter', configParameterName(config.fleet).slice(1)),
          arn(
            'ssm',
            props.controlRegion,
            'parameter',
            deploymentParameterName(config.fleet).slice(1),
          ),
          ...nodeRegions.map((region) =>
            arn(
              'ssm',
              region,
              'parameter',
              nodeAddressesParameterName(config.fleet, region).slice(1),
            ),
          ),
        ],
      }),
    );
    const services = topology.nodes.map((node) =>
      arn('ecs', node.region, 'service', `${node.cluster}/${node.service}`),
    );
    if (services.length > 0) {
      // The crash path: a node whose task stopped is re-probed at once.
      this.taskRole.addToPolicy(
        new iam.PolicyStatement({ actions: ['ecs:DescribeServices'], resources: services }),
      );
    }
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': METRIC_NAMESPACE } },
      }),
    );
    if (props.controller) this.grantController(props, services, nodeRegions);
    const cluster = clusterName(config.fleet);
    acknowledgeWildcards(this.taskRole, [
      {
        finding: /^Resource::\*$/,
        reason:
          'PutMetricData and ListTasks have no resource-level permission; conditions pin them to the Storefleet namespace and the fleet clusters.',
      },
      {
        finding: arnFinding('ecs', `task/${cluster}/*`),
        reason: "Task ids are random; the wildcard stays inside the fleet's own cluster.",
      },
      {
        finding: /^Resource::<[A-Za-z0-9]+\.Arn>\/\*$/,
        reason:
          'The controller writes every registry object (versions, pointer, signature, key); the bucket policy refuses unconditional writes.',
      },
      {
        finding: arnFinding('kms', 'key/*'),
        reason:
          'An existing signing key named by alias: the kms:ResourceAliases condition limits the grant to that alias.',
      },
    ]);
    const executionRole = taskDefinition.obtainExecutionRole();
    acknowledgeWildcards(executionRole, [
      {
        finding: /^Resource::\*$/,
        reason:
          'ECS pulls the image with ecr:GetAuthorizationToken, which has no resource-level permission.',
      },
    ]);
  }

  /** The controller also records decisions, replaces the fleet's own tasks and signs and publishes the registry. */
  private grantController(
    props: WatcherServiceProps,
    services: string[],
    nodeRegions: string[],
  ): void {
    const { config } = props;
    const stack = Stack.of(this);
    const controller = props.controller as ControllerGrants;
    const arn = (service: string, region: string, resource: string, resourceName: string) =>
      stack.formatArn({ service, region, resource, resourceName });
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:Query',
          'dynamodb:ConditionCheckItem',
        ],
        resources: [
          arn('dynamodb', props.controlRegion, 'table', nodeStateTableName(config.fleet)),
        ],
      }),
    );
    if (services.length > 0) {
      this.taskRole.addToPolicy(
        new iam.PolicyStatement({ actions: ['ecs:UpdateService'], resources: services }),
      );
      const cluster = clusterName(config.fleet);
      this.taskRole.addToPolicy(
        new iam.PolicyStatement({
          actions: ['ecs:DescribeTasks', 'ecs:StopTask'],
          resources: nodeRegions.map((region) => arn('ecs', region, 'task', `${cluster}/*`)),
        }),
      );
      this.taskRole.addToPolicy(
        new iam.PolicyStatement({
          // ListTasks is authorised on container instances; the condition pins it to the fleet's clusters.
          actions: ['ecs:ListTasks'],
          resources: ['*'],
          conditions: {
            ArnEquals: {
              'ecs:cluster': nodeRegions.map((region) => arn('ecs', region, 'cluster', cluster)),
            },
          },
        }),
      );
    }
    this.taskRole.addToPolicy(controller.signingGrant);
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [`${controller.registryBucketArn}/*`],
      }),
    );
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [controller.registryBucketArn],
      }),
    );
  }
}
