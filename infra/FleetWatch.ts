// Everything that watches and steers the fleet: probers, completeness and stress checks, the controller, the publisher and their tables.
import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { FleetConfig } from '../fleet/config.ts';
import { type DeploymentTopology, FUNCTION_ENVIRONMENT } from '../fleet/function-environment.ts';
import { TABLE_KEYS } from '../fleet/tables.ts';
import type { FleetRegistry } from './FleetRegistry.ts';
import { acknowledgeFunctionFindings } from './function-findings.ts';
import {
  clusterName,
  configParameterName,
  deploymentParameterName,
  nodeStateTableName,
  probeResultsTableName,
} from './resource-names.ts';
import { StorefleetFunction } from './StorefleetFunction.ts';
import {
  type ControlPlaneReferences,
  PROBE_HANDLER_ENTRY,
  SCHEDULE_PERIOD_SECONDS,
  VantagePointProber,
} from './VantagePointProber.ts';

export const HANDLER_ENTRIES = {
  probe: PROBE_HANDLER_ENTRY,
  completeness: 'lambdas/completeness/handler.ts',
  stress: 'lambdas/stress/handler.ts',
  controller: 'lambdas/controller/handler.ts',
  publisher: 'lambdas/publisher/handler.ts',
  api: 'lambdas/api/handler.ts',
} as const;
export type HandlerName = keyof typeof HANDLER_ENTRIES;

/** Standard SSM parameters hold up to 4 KB; larger configs need the advanced tier. */
const STANDARD_PARAMETER_LIMIT_BYTES = 4096;
const CONTROLLER_TIMEOUT = Duration.seconds(50);
const PUBLISHER_TIMEOUT = Duration.seconds(30);
const STRESS_MEMORY_MIB = 2048;
const LAMBDA_MAX_TIMEOUT_SECONDS = 900;

/** A vantage point whose prober runs in this stack's VPC. */
export interface InVpcProber {
  vpc: ec2.IVpc;
  vpcSubnets: ec2.SubnetSelection;
  probersSecurityGroup: ec2.ISecurityGroup;
}

export interface FleetWatchProps {
  config: FleetConfig;
  /** The stack's region: the control region, where the tables and parameters live. */
  region: string;
  registry: FleetRegistry;
  /** Where every node runs: region, ECS cluster and service, addresses parameter. */
  topology: DeploymentTopology;
  /**
   * Vantage points in this region whose probers run inside the fleet's VPC, by vantage point id.
   * @default - every local vantage point probes from outside any VPC
   */
  inVpcProbers?: Record<string, InVpcProber>;
  /**
   * Handler files by function, e.g. to synthesise before the handlers exist.
   * @default HANDLER_ENTRIES
   */
  entries?: Partial<Record<HandlerName, string>>;
  /**
   * @default RemovalPolicy.RETAIN
   */
  removalPolicy?: RemovalPolicy;
}

export class FleetWatch extends Construct {
  readonly probeResults: dynamodb.Table;
  readonly nodeState: dynamodb.Table;
  readonly configParameter: ssm.StringParameter;
  readonly deploymentParameter: ssm.StringParameter;
  readonly probers: VantagePointProber[] = [];
  readonly completeness: StorefleetFunction;
  readonly stress: StorefleetFunction;
  readonly controller: StorefleetFunction;
  readonly publisher: StorefleetFunction;
  /** What probers in other regions need to reach this control plane. */
  readonly references: ControlPlaneReferences;

  constructor(scope: Construct, id: string, props: FleetWatchProps) {
    super(scope, id);
    const { config, topology } = props;
    const stack = Stack.of(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const entries = { ...HANDLER_ENTRIES, ...props.entries };

    // Both tables share the key schema of fleet/tables.ts. Probe results and action claims expire
    // through the TTL attribute; the fleet state document carries no expiresAt and stays.
    const table = (id: string, tableName: string) =>
      new dynamodb.Table(this, id, {
        tableName,
        partitionKey: { name: TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        timeToLiveAttribute: TABLE_KEYS.timeToLiveAttribute,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
        removalPolicy,
      });
    this.probeResults = table('ProbeResults', probeResultsTableName(config.fleet));
    this.nodeState = table('NodeState', nodeStateTableName(config.fleet));

    const configJson = JSON.stringify(config);
    this.configParameter = new ssm.StringParameter(this, 'Config', {
      parameterName: configParameterName(config.fleet),
      description: `Validated fleet config of ${config.fleet}, defaults applied`,
      stringValue: configJson,
      tier:
        Buffer.byteLength(configJson) > STANDARD_PARAMETER_LIMIT_BYTES
          ? ssm.ParameterTier.ADVANCED
          : ssm.ParameterTier.STANDARD,
    });
    const topologyJson = JSON.stringify(topology);
    this.deploymentParameter = new ssm.StringParameter(this, 'Deployment', {
      parameterName: deploymentParameterName(config.fleet),
      description: `Where each ${config.fleet} store node runs`,
      stringValue: topologyJson,
      tier:
        Buffer.byteLength(topologyJson) > STANDARD_PARAMETER_LIMIT_BYTES
          ? ssm.ParameterTier.ADVANCED
          : ssm.ParameterTier.STANDARD,
    });
    const addressParameters = [
      ...new Map(
        topology.nodes.map((node) => [`${node.region}${node.addressesParameter}`, node]),
      ).values(),
    ].map((node) =>
      stack.formatArn({
        service: 'ssm',
        region: node.region,
        resource: 'parameter',
        resourceName: node.addressesParameter.replace(/^\//, ''),
      }),
    );
    this.references = {
      fleet: config.fleet,
      controlRegion: props.region,
      configParameter: {
        name: this.configParameter.parameterName,
        arn: this.configParameter.parameterArn,
      },
      deploymentParameter: {
        name: this.deploymentParameter.parameterName,
        arn: this.deploymentParameter.parameterArn,
      },
      probeResultsTable: this.probeResults,
      probeResultsTableName: probeResultsTableName(config.fleet),
      nodeAddressesParameterArns: addressParameters,
    };
    const readParameters = new iam.PolicyStatement({
      actions: ['ssm:GetParameter'],
      resources: [this.configParameter.parameterArn, this.deploymentParameter.parameterArn],
    });
    // Functions that reach nodes also read where each region's nodes are published.
    const readParametersAndAddresses = new iam.PolicyStatement({
      actions: ['ssm:GetParameter'],
      resources: [...readParameters.resources, ...addressParameters],
    });
    const baseEnvironment = {
      [FUNCTION_ENVIRONMENT.fleet]: config.fleet,
      [FUNCTION_ENVIRONMENT.controlRegion]: props.region,
      [FUNCTION_ENVIRONMENT.configParameter]: this.configParameter.parameterName,
      [FUNCTION_ENVIRONMENT.deploymentParameter]: this.deploymentParameter.parameterName,
      [FUNCTION_ENVIRONMENT.probeResultsTable]: this.probeResults.tableName,
      [FUNCTION_ENVIRONMENT.nodeStateTable]: this.nodeState.tableName,
    };

    for (const vantagePoint of config.vantagePoints.filter((vp) => vp.region === props.region)) {
      const inVpc = props.inVpcProbers?.[vantagePoint.id];
      this.probers.push(
        new VantagePointProber(this, `Probe-${vantagePoint.id}`, {
          vantagePoint,
          probe: config.probe,
          control: this.references,
          entry: entries.probe,
          vpc: inVpc?.vpc,
          vpcSubnets: inVpc?.vpcSubnets,
          probersSecurityGroup: inVpc?.probersSecurityGroup,
        }),
      );
    }

    this.publisher = new StorefleetFunction(this, 'Publisher', {
      entry: entries.publisher,
      description: `Signs and publishes fleets.json of ${config.fleet}`,
      timeout: PUBLISHER_TIMEOUT,
      environment: {
        ...baseEnvironment,
        [FUNCTION_ENVIRONMENT.registryBucket]: props.registry.bucket.bucketName,
        [FUNCTION_ENVIRONMENT.signingKeyId]: props.registry.signingKeyAlias.aliasName,
      },
    });
    this.publisher.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [props.registry.bucket.arnForObjects('*')],
      }),
    );
    this.publisher.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [props.registry.bucket.bucketArn],
      }),
    );
    Validations.of(this.publisher.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(props.registry.bucket.node.defaultChild as CfnElement)}.Arn>/*]`,
      reason:
        'The publisher owns every object of the registry bucket: fleets.json, its signature, the public key and versioned copies.',
    });
    props.registry.signingKey.grant(this.publisher, 'kms:Sign', 'kms:GetPublicKey');
    this.nodeState.grantReadWriteData(this.publisher);
    // The node directory (peer ids, ENRs) lives in the probe results table.
    this.probeResults.grantReadData(this.publisher);
    this.publisher.addToRolePolicy(readParametersAndAddresses);

    this.stress = new StorefleetFunction(this, 'Stress', {
      entry: entries.stress,
      description: `Stress-tests one ${config.fleet} store node at a time against the SLO`,
      memorySize: STRESS_MEMORY_MIB,
      timeout: Duration.seconds(
        Math.min(LAMBDA_MAX_TIMEOUT_SECONDS, Math.ceil(config.stress.maxDurationSeconds) + 60),
      ),
      environment: baseEnvironment,
    });
    this.probeResults.grantReadWriteData(this.stress);
    // Drained nodes (controller state and operator overrides) are never stressed.
    this.nodeState.grantReadData(this.stress);
    this.stress.addToRolePolicy(readParametersAndAddresses);

    this.completeness = new StorefleetFunction(this, 'Completeness', {
      entry: entries.completeness,
      description: `Checks the history completeness of every ${config.fleet} store node`,
      memorySize: 1024,
      timeout: Duration.seconds(
        Math.min(LAMBDA_MAX_TIMEOUT_SECONDS, Math.max(60, config.completeness.intervalSeconds)),
      ),
      environment: baseEnvironment,
    });
    this.probeResults.grantReadWriteData(this.completeness);
    this.completeness.addToRolePolicy(readParametersAndAddresses);

    this.controller = new StorefleetFunction(this, 'Controller', {
      entry: entries.controller,
      description: `Ranks, drains, replaces and re-admits ${config.fleet} store nodes`,
      timeout: CONTROLLER_TIMEOUT,
      environment: {
        ...baseEnvironment,
        [FUNCTION_ENVIRONMENT.publisherFunction]: this.publisher.functionName,
      },
    });
    this.probeResults.grantReadData(this.controller);
    this.nodeState.grantReadWriteData(this.controller);
    this.publisher.grantInvoke(this.controller);
    Validations.of(this.controller.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(this.publisher.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason: 'Invoking any version of the fleet publisher; grantInvoke adds the version wildcard.',
    });
    this.controller.addToRolePolicy(readParameters);
    this.grantNodeReplacement(topology);

    const schedules: Array<[string, StorefleetFunction, number]> = [
      ['ControllerSchedule', this.controller, SCHEDULE_PERIOD_SECONDS],
      ['PublisherSchedule', this.publisher, SCHEDULE_PERIOD_SECONDS],
      [
        'CompletenessSchedule',
        this.completeness,
        roundUpToMinutes(config.completeness.intervalSeconds),
      ],
    ];
    if (config.stress.intervalSeconds !== undefined) {
      schedules.push([
        'StressSchedule',
        this.stress,
        roundUpToMinutes(config.stress.intervalSeconds),
      ]);
    }
    for (const [scheduleId, fn, periodSeconds] of schedules) {
      new events.Rule(this, scheduleId, {
        description: `Runs ${fn.node.id} every ${periodSeconds} s`,
        schedule: events.Schedule.rate(Duration.seconds(periodSeconds)),
        targets: [
          new targets.LambdaFunction(fn, {
            retryAttempts: 0,
            maxEventAge: Duration.seconds(periodSeconds),
          }),
        ],
      });
    }
    for (const fn of [this.publisher, this.stress, this.completeness, this.controller]) {
      acknowledgeFunctionFindings(fn);
    }
  }

  /** The controller may restart the fleet's own services and tasks, in every region, and nothing else. */
  private grantNodeReplacement(topology: DeploymentTopology): void {
    const stack = Stack.of(this);
    const cluster = clusterName(topology.fleet);
    const services = topology.nodes.map((node) =>
      stack.formatArn({
        service: 'ecs',
        region: node.region,
        resource: 'service',
        resourceName: `${node.cluster}/${node.service}`,
      }),
    );
    const regions = [...new Set(topology.nodes.map((node) => node.region))];
    const tasks = regions.map((region) =>
      stack.formatArn({ service: 'ecs', region, resource: 'task', resourceName: `${cluster}/*` }),
    );
    const clusters = regions.map((region) =>
      stack.formatArn({ service: 'ecs', region, resource: 'cluster', resourceName: cluster }),
    );
    this.controller.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ecs:DescribeServices', 'ecs:UpdateService'],
        resources: services,
      }),
    );
    this.controller.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['ecs:DescribeTasks', 'ecs:StopTask'], resources: tasks }),
    );
    const role = this.controller.role!;
    for (const region of regions) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:${region}:<AWS::AccountId>:task/${cluster}/*]`,
        reason: "Task ids are random; the wildcard stays inside the fleet's own cluster.",
      });
    }
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecs:ListTasks has no task-level resource; a condition pins it to the fleet clusters.',
    });
    this.controller.addToRolePolicy(
      new iam.PolicyStatement({
        // ListTasks is authorised on container instances; the condition pins it to the fleet's clusters.
        actions: ['ecs:ListTasks'],
        resources: ['*'],
        conditions: { ArnEquals: { 'ecs:cluster': clusters } },
      }),
    );
  }
}

function roundUpToMinutes(seconds: number): number {
  return Math.max(SCHEDULE_PERIOD_SECONDS, Math.ceil(seconds / 60) * 60);
}
