// What stays on Lambda in the control region: the tables and parameters every watcher uses, and the periodic or on-demand functions (publisher, completeness, stress).
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
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
  configParameterName,
  deploymentParameterName,
  nodeStateTableName,
  probeResultsTableName,
} from './resource-names.ts';
import { StorefleetFunction } from './StorefleetFunction.ts';
import { acknowledgeWildcards, arnFinding } from './wildcard-findings.ts';

export const HANDLER_ENTRIES = {
  completeness: 'lambdas/completeness/handler.ts',
  stress: 'lambdas/stress/handler.ts',
  publisher: 'lambdas/publisher/handler.ts',
  api: 'lambdas/api/handler.ts',
} as const;
export type HandlerName = keyof typeof HANDLER_ENTRIES;

/** EventBridge schedules fire at most once a minute. */
export const SCHEDULE_PERIOD_SECONDS = 60;
/** Standard SSM parameters hold up to 4 KB; larger configs need the advanced tier. */
const STANDARD_PARAMETER_LIMIT_BYTES = 4096;
const PUBLISHER_TIMEOUT = Duration.seconds(30);
const STRESS_MEMORY_MIB = 2048;
const LAMBDA_MAX_TIMEOUT_SECONDS = 900;
/**
 * One run at a time for each periodic function: a run that outlasts its period is not doubled by
 * the next one, and a flood of on-demand stress requests cannot take the account's concurrency.
 */
export const RESERVED_CONCURRENCY = { publisher: 1, completeness: 1, stress: 1 } as const;

/** A probe round item holds about this much per node: ping, metadata, store and health results as JSON. */
export const ROUND_ITEM_BYTES_PER_NODE = 700;
const ROUND_ITEM_OVERHEAD_BYTES = 300;
const TARGET_UTILIZATION_PERCENT = 70;
const CAPACITY_SCALE_LIMIT = 4;
const MIN_CAPACITY_UNITS = 5;

/** Provisioned capacity of the probe results table: every vantage point's round item, every round, at 70 % use. */
export function probeResultsCapacity(config: FleetConfig): { writes: number; reads: number } {
  const itemBytes = config.nodes.length * ROUND_ITEM_BYTES_PER_NODE + ROUND_ITEM_OVERHEAD_BYTES;
  const perSecond = config.vantagePoints.length / config.probe.intervalSeconds;
  const headroom = 100 / TARGET_UTILIZATION_PERCENT;
  // The controller reads each round once, eventually consistent (half a unit per 4 KB).
  return {
    writes: Math.max(
      MIN_CAPACITY_UNITS,
      Math.ceil(perSecond * Math.ceil(itemBytes / 1024) * headroom),
    ),
    reads: Math.max(
      MIN_CAPACITY_UNITS,
      Math.ceil(perSecond * Math.ceil(itemBytes / 4096) * 0.5 * headroom),
    ),
  };
}

export interface ControlPlaneProps {
  config: FleetConfig;
  /** The stack's region: the control region, where the tables and parameters live. */
  region: string;
  registry: FleetRegistry;
  /** Where every node runs: region, ECS cluster and service, addresses parameter. */
  topology: DeploymentTopology;
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

export class ControlPlane extends Construct {
  readonly probeResults: dynamodb.Table;
  readonly nodeState: dynamodb.Table;
  readonly configParameter: ssm.StringParameter;
  readonly deploymentParameter: ssm.StringParameter;
  readonly completeness: StorefleetFunction;
  readonly stress: StorefleetFunction;
  /** Republishes an unchanged registry before it expires when the controller has nothing new. */
  readonly publisher: StorefleetFunction;
  /** The functions EventBridge starts, each with its period in seconds. */
  readonly scheduled: Array<{ fn: StorefleetFunction; periodSeconds: number }> = [];

  constructor(scope: Construct, id: string, props: ControlPlaneProps) {
    super(scope, id);
    const { config, topology } = props;
    const stack = Stack.of(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const entries = { ...HANDLER_ENTRIES, ...props.entries };

    // Both tables share the key schema of fleet/tables.ts. Probe results and action claims expire
    // through the TTL attribute; the fleet state document carries no expiresAt and stays.
    const keys = {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: TABLE_KEYS.timeToLiveAttribute,
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    };
    // Every vantage point writes one item a round, all day: steady load, so provisioned capacity
    // (about a third of the on-demand price) with auto scaling for bursts. Observations expire and
    // are measured again, so they need no point-in-time recovery.
    const capacity = probeResultsCapacity(config);
    this.probeResults = new dynamodb.Table(this, 'ProbeResults', {
      ...keys,
      tableName: probeResultsTableName(config.fleet),
      billingMode: dynamodb.BillingMode.PROVISIONED,
      writeCapacity: capacity.writes,
      readCapacity: capacity.reads,
    });
    for (const scaling of [
      this.probeResults.autoScaleWriteCapacity({
        minCapacity: capacity.writes,
        maxCapacity: capacity.writes * CAPACITY_SCALE_LIMIT,
      }),
      this.probeResults.autoScaleReadCapacity({
        minCapacity: capacity.reads,
        maxCapacity: capacity.reads * CAPACITY_SCALE_LIMIT,
      }),
    ]) {
      scaling.scaleOnUtilization({ targetUtilizationPercent: TARGET_UTILIZATION_PERCENT });
    }
    Validations.of(this.probeResults).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason:
        'Probe results are observations that expire after two weeks and are measured again; the fleet state table keeps point-in-time recovery.',
    });
    this.nodeState = new dynamodb.Table(this, 'NodeState', {
      ...keys,
      tableName: nodeStateTableName(config.fleet),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    });

    const parameter = (parameterId: string, name: string, description: string, value: string) =>
      new ssm.StringParameter(this, parameterId, {
        parameterName: name,
        description,
        stringValue: value,
        tier:
          Buffer.byteLength(value) > STANDARD_PARAMETER_LIMIT_BYTES
            ? ssm.ParameterTier.ADVANCED
            : ssm.ParameterTier.STANDARD,
      });
    this.configParameter = parameter(
      'Config',
      configParameterName(config.fleet),
      `Validated fleet config of ${config.fleet}, defaults applied`,
      JSON.stringify(config),
    );
    this.deploymentParameter = parameter(
      'Deployment',
      deploymentParameterName(config.fleet),
      `Where each ${config.fleet} store node runs`,
      JSON.stringify(topology),
    );
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
    // Functions that reach nodes also read where each region's nodes are published.
    const readParametersAndAddresses = new iam.PolicyStatement({
      actions: ['ssm:GetParameter'],
      resources: [
        this.configParameter.parameterArn,
        this.deploymentParameter.parameterArn,
        ...addressParameters,
      ],
    });
    const baseEnvironment = {
      [FUNCTION_ENVIRONMENT.fleet]: config.fleet,
      [FUNCTION_ENVIRONMENT.controlRegion]: props.region,
      [FUNCTION_ENVIRONMENT.configParameter]: this.configParameter.parameterName,
      [FUNCTION_ENVIRONMENT.deploymentParameter]: this.deploymentParameter.parameterName,
      [FUNCTION_ENVIRONMENT.probeResultsTable]: this.probeResults.tableName,
      [FUNCTION_ENVIRONMENT.nodeStateTable]: this.nodeState.tableName,
    };

    this.publisher = new StorefleetFunction(this, 'Publisher', {
      entry: entries.publisher,
      description: `Republishes fleets.json of ${config.fleet} before it expires`,
      timeout: PUBLISHER_TIMEOUT,
      reservedConcurrentExecutions: RESERVED_CONCURRENCY.publisher,
      environment: {
        ...baseEnvironment,
        [FUNCTION_ENVIRONMENT.registryBucket]: props.registry.bucket.bucketName,
        [FUNCTION_ENVIRONMENT.signingKeyId]: props.registry.signingKeyId,
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
    acknowledgeWildcards(this.publisher.role as iam.IRole, [
      {
        finding: /^Resource::<[A-Za-z0-9]+\.Arn>\/\*$/,
        reason:
          'The publisher owns every object of the registry bucket (versions under fleets/, the pointer, its signature, the public key); the bucket policy still refuses unconditional writes.',
      },
      {
        finding: arnFinding('kms', 'key/*'),
        reason:
          'An existing signing key named by alias: the kms:ResourceAliases condition limits the grant to that alias.',
      },
    ]);
    this.publisher.addToRolePolicy(props.registry.signingGrant);
    this.nodeState.grantReadWriteData(this.publisher);
    // The node directory (peer ids, ENRs) lives in the probe results table.
    this.probeResults.grantReadData(this.publisher);
    this.publisher.addToRolePolicy(readParametersAndAddresses);

    this.stress = new StorefleetFunction(this, 'Stress', {
      entry: entries.stress,
      description: `Stress-tests one ${config.fleet} store node at a time against the SLO`,
      memorySize: STRESS_MEMORY_MIB,
      reservedConcurrentExecutions: RESERVED_CONCURRENCY.stress,
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
      reservedConcurrentExecutions: RESERVED_CONCURRENCY.completeness,
      timeout: Duration.seconds(
        Math.min(LAMBDA_MAX_TIMEOUT_SECONDS, Math.max(60, config.completeness.intervalSeconds)),
      ),
      environment: baseEnvironment,
    });
    this.probeResults.grantReadWriteData(this.completeness);
    this.completeness.addToRolePolicy(readParametersAndAddresses);

    const schedules: Array<[string, StorefleetFunction, number]> = [
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
            // A missed run is better skipped than run late beside the next one.
            retryAttempts: 0,
            maxEventAge: Duration.seconds(periodSeconds),
          }),
        ],
      });
      this.scheduled.push({ fn, periodSeconds });
    }
    // Lambda's own retries of asynchronous invocations (two, events kept 6 h) are off for each:
    // a failed run is retried by the next scheduled one, or by the operator who asked for it.
    const periods = new Map(this.scheduled.map(({ fn, periodSeconds }) => [fn, periodSeconds]));
    for (const fn of [this.publisher, this.stress, this.completeness]) {
      fn.configureAsyncInvoke({
        retryAttempts: 0,
        maxEventAge: Duration.seconds(Math.max(60, periods.get(fn) ?? SCHEDULE_PERIOD_SECONDS)),
      });
      acknowledgeFunctionFindings(fn);
    }
  }
}

function roundUpToMinutes(seconds: number): number {
  return Math.max(SCHEDULE_PERIOD_SECONDS, Math.ceil(seconds / 60) * 60);
}
