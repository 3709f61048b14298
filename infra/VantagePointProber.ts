// One vantage point: a probe function that EventBridge starts every minute and that loops at the configured interval.
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { ProbeConfig, VantagePointConfig } from '../fleet/config.ts';
import { FUNCTION_ENVIRONMENT } from '../fleet/function-environment.ts';
import { acknowledgeFunctionFindings } from './function-findings.ts';
import { StorefleetFunction } from './StorefleetFunction.ts';

export const PROBE_HANDLER_ENTRY = 'lambdas/probe/handler.ts';
/** EventBridge schedules cannot fire more often than once a minute; the handler loops within the minute. */
export const SCHEDULE_PERIOD_SECONDS = 60;
/**
 * A prober of 20 nodes peaks at ~210 MB RSS and ~110 ms CPU a round (measured locally, fresh dials
 * every 4th round); 512 MB keeps 2.5x headroom and ~0.3 vCPU, and the function is billed for every
 * second of its minute-long loop, so memory is most of storefleet's AWS cost.
 */
const PROBE_MEMORY_MIB = 512;

/** Where the probe function finds its config and writes its rounds. */
export interface ControlPlaneReferences {
  fleet: string;
  controlRegion: string;
  /** SSM parameter name and ARN of the fleet config. */
  configParameter: { name: string; arn: string };
  deploymentParameter: { name: string; arn: string };
  probeResultsTable: dynamodb.ITable;
  /** Spelled out: an imported table's name would otherwise be an expression parsed out of its ARN. */
  probeResultsTableName: string;
  /**
   * ARNs of the node address parameters (`/storefleet/{fleet}/nodes/{region}`, one per node region):
   * probers build each node's multiaddr from them.
   * @default - none readable
   */
  nodeAddressesParameterArns?: string[];
}

export interface VantagePointProberProps {
  vantagePoint: VantagePointConfig;
  probe: ProbeConfig;
  control: ControlPlaneReferences;
  /**
   * Places the function in this VPC so that it can reach the nodes' REST port.
   * @default - outside any VPC (p2p probes only)
   */
  vpc?: ec2.IVpc;
  /**
   * Subnets with egress, within `vpc`.
   * @default - the VPC's private subnets
   */
  vpcSubnets?: ec2.SubnetSelection;
  /**
   * The security group that the nodes admit on their REST port.
   * @default - none (required with `vpc`)
   */
  probersSecurityGroup?: ec2.ISecurityGroup;
  /**
   * @default 'lambdas/probe/handler.ts'
   */
  entry?: string;
}

export class VantagePointProber extends Construct {
  readonly function: StorefleetFunction;
  readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: VantagePointProberProps) {
    super(scope, id);
    const { vantagePoint, probe, control } = props;
    if (props.vpc && !props.probersSecurityGroup) {
      throw new Error(`${this.node.path}: a prober inside a VPC needs the probers security group`);
    }
    // An invocation probes for a whole minute, then finishes its last round before the next one starts.
    const timeout = Duration.seconds(
      SCHEDULE_PERIOD_SECONDS + Math.ceil(probe.roundDeadlineMs / 1000) + 5,
    );
    this.function = new StorefleetFunction(this, 'Function', {
      entry: props.entry ?? PROBE_HANDLER_ENTRY,
      description: `Probes the fleet from vantage point ${vantagePoint.id} every ${probe.intervalSeconds} s`,
      memorySize: PROBE_MEMORY_MIB,
      timeout,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.probersSecurityGroup ? [props.probersSecurityGroup] : undefined,
      environment: {
        [FUNCTION_ENVIRONMENT.fleet]: control.fleet,
        [FUNCTION_ENVIRONMENT.vantageId]: vantagePoint.id,
        [FUNCTION_ENVIRONMENT.controlRegion]: control.controlRegion,
        [FUNCTION_ENVIRONMENT.configParameter]: control.configParameter.name,
        [FUNCTION_ENVIRONMENT.deploymentParameter]: control.deploymentParameter.name,
        [FUNCTION_ENVIRONMENT.probeResultsTable]: control.probeResultsTableName,
        [FUNCTION_ENVIRONMENT.loopSeconds]: String(SCHEDULE_PERIOD_SECONDS),
      },
    });
    // PutItem also records node identities; GetItem and Query read that node directory back.
    control.probeResultsTable.grant(
      this.function,
      'dynamodb:PutItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:GetItem',
      'dynamodb:Query',
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter'],
        resources: [
          control.configParameter.arn,
          control.deploymentParameter.arn,
          ...(control.nodeAddressesParameterArns ?? []),
        ],
      }),
    );
    acknowledgeFunctionFindings(this.function);

    this.schedule = new events.Rule(this, 'EveryMinute', {
      description: `Starts the ${vantagePoint.id} prober; it loops every ${probe.intervalSeconds} s inside the invocation`,
      schedule: events.Schedule.rate(Duration.seconds(SCHEDULE_PERIOD_SECONDS)),
      targets: [
        new targets.LambdaFunction(this.function, {
          // A missed minute is better skipped than run late beside the next one.
          retryAttempts: 0,
          maxEventAge: Duration.seconds(SCHEDULE_PERIOD_SECONDS),
        }),
      ],
    });
  }
}
