// The fleet's alarms, named and described from fleet/alarms.ts, and the one composite alarm that pages on-call.
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { ALARMS, type AlarmDefinition } from '../fleet/alarms.ts';
import type { FleetConfig } from '../fleet/config.ts';
import { METRIC_DIMENSIONS, METRIC_NAMESPACE, METRICS } from '../fleet/metrics.ts';
import { alarmName } from './resource-names.ts';

/** Name of the composite alarm that pages: `${fleet}-Page`. */
export const PAGE_ALARM = 'Page';
const RUNBOOK_FILE = 'docs/runbooks.md';
const MINUTE = Duration.minutes(1);
/** A replacement task pulls its image and opens its archive; only a longer gap is an outage. */
const TASK_GAP_MINUTES = 5;

export interface FleetAlarmsProps {
  config: FleetConfig;
  /** ECS services to watch, running against desired (one alarm each). */
  services: Array<{ nodeId: string; service: ecs.FargateService }>;
  /**
   * Whether this region hosts the control plane, whose Lambdas emit the `Storefleet` metrics.
   * @default true
   */
  controlPlane?: boolean;
  /**
   * Subscribes this address to the paging topic (the recipient must confirm once).
   * @default - no subscription; subscribe a pager to the topic yourself
   */
  alarmEmail?: string;
  /**
   * Subscribes this address to the notification topic that warnings go to.
   * @default - no subscription
   */
  notifyEmail?: string;
  /**
   * Where the runbook is published; anchors are appended.
   * @default 'docs/runbooks.md' (relative to the repository)
   */
  runbookBaseUrl?: string;
}

export class FleetAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly critical: cloudwatch.Alarm[] = [];
  readonly page: cloudwatch.CompositeAlarm;
  /** Receives the composite alarm: subscribe the pager here. */
  readonly topic: sns.Topic;
  /** Receives warnings: subscribe a chat channel or mailing list here. */
  readonly notifications: sns.Topic;

  constructor(scope: Construct, id: string, props: FleetAlarmsProps) {
    super(scope, id);
    const { config } = props;
    const fleet = config.fleet;
    const runbookBase = props.runbookBaseUrl ?? RUNBOOK_FILE;
    const describe = (definition: AlarmDefinition, detail: string): string => {
      const anchor = definition.runbook.slice(definition.runbook.indexOf('#'));
      return `[${definition.severity}] ${definition.summary} ${detail} Runbook: ${runbookBase}${anchor}`;
    };
    const fleetMetric = (metricName: string, statistic: string, period: Duration) =>
      new cloudwatch.Metric({
        namespace: METRIC_NAMESPACE,
        metricName,
        dimensionsMap: { [METRIC_DIMENSIONS.fleet]: fleet },
        statistic,
        period,
      });
    const add = (
      definition: AlarmDefinition,
      constructId: string,
      qualifier: string | undefined,
      alarmProps: Omit<cloudwatch.AlarmProps, 'alarmName' | 'alarmDescription'>,
      detail: string,
    ) => {
      const alarm = new cloudwatch.Alarm(this, constructId, {
        ...alarmProps,
        alarmName: alarmName(fleet, definition.name, qualifier),
        alarmDescription: describe(definition, detail),
      });
      this.alarms.push(alarm);
      if (definition.severity === 'critical') this.critical.push(alarm);
      return alarm;
    };

    for (const { nodeId, service } of props.services) {
      const dimensionsMap = {
        ClusterName: service.cluster.clusterName,
        ServiceName: service.serviceName,
      };
      const insight = (metricName: string) =>
        new cloudwatch.Metric({
          namespace: 'ECS/ContainerInsights',
          metricName,
          dimensionsMap,
          statistic: 'Average',
          period: MINUTE,
        });
      add(
        ALARMS.tasksBelowDesired,
        `TasksBelowDesired-${service.node.scope?.node.id ?? nodeId}`,
        nodeId,
        {
          metric: new cloudwatch.MathExpression({
            expression: 'desired - running',
            usingMetrics: {
              desired: insight('DesiredTaskCount'),
              running: insight('RunningTaskCount'),
            },
            period: MINUTE,
            label: `${nodeId}: desired minus running tasks`,
          }),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: TASK_GAP_MINUTES,
          datapointsToAlarm: TASK_GAP_MINUTES,
          // No Container Insights data means no task reports at all: that is an outage, not quiet.
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        },
        `Node ${nodeId}.`,
      );
    }

    if (props.controlPlane ?? true) {
      add(
        ALARMS.proberBlind,
        'ProberBlind',
        undefined,
        {
          metric: fleetMetric(METRICS.blindVantagePoints, 'Maximum', MINUTE),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 3,
          datapointsToAlarm: 3,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        `Metric ${METRIC_NAMESPACE}/${METRICS.blindVantagePoints} >= 1 for 3 minutes.`,
      );
      add(
        ALARMS.nodeEscalated,
        'NodeEscalated',
        undefined,
        {
          metric: fleetMetric(METRICS.escalatedNodes, 'Maximum', MINUTE),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        `Metric ${METRIC_NAMESPACE}/${METRICS.escalatedNodes} >= 1.`,
      );
      add(
        ALARMS.registryBelowMinHealthy,
        'RegistryBelowMinHealthy',
        undefined,
        {
          metric: fleetMetric(METRICS.registryHealthyNodes, 'Minimum', MINUTE),
          threshold: config.failover.minHealthy,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: 2,
          datapointsToAlarm: 2,
          // A publisher that stopped reporting is RegistryStale's to page for, not this alarm's.
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        `Metric ${METRIC_NAMESPACE}/${METRICS.registryHealthyNodes} < ${config.failover.minHealthy} for 2 minutes.`,
      );
      const staleAfterSeconds = Math.max(
        60,
        Math.floor(config.registry.expiresAfterSeconds / 2 / 60) * 60,
      );
      add(
        ALARMS.registryStale,
        'RegistryStale',
        undefined,
        {
          metric: fleetMetric(
            METRICS.registryPublications,
            'Sum',
            Duration.seconds(staleAfterSeconds),
          ),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: 1,
          // No publication reported at all is exactly the condition this alarm exists for.
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        },
        `No ${METRIC_NAMESPACE}/${METRICS.registryPublications} in ${staleAfterSeconds} s (half of registry.expiresAfterSeconds).`,
      );
      add(
        ALARMS.drainCapReached,
        'DrainCapReached',
        undefined,
        {
          metric: fleetMetric(METRICS.drainsDeferred, 'Sum', Duration.minutes(5)),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        `Metric ${METRIC_NAMESPACE}/${METRICS.drainsDeferred} >= 1 in 5 minutes.`,
      );
      add(
        ALARMS.stressSloBreach,
        'StressSloBreach',
        undefined,
        {
          metric: fleetMetric(METRICS.stressSloBreaches, 'Sum', Duration.hours(1)),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        `Metric ${METRIC_NAMESPACE}/${METRICS.stressSloBreaches} >= 1 in an hour (p99 above ${config.stress.sloP99Ms} ms or errors above ${config.stress.errorBudget}).`,
      );
      const completenessPeriod = Math.max(
        60,
        Math.ceil(config.completeness.intervalSeconds / 60) * 60,
      );
      add(
        ALARMS.historyIncomplete,
        'HistoryIncomplete',
        undefined,
        {
          metric: fleetMetric(
            METRICS.incompleteNodes,
            'Maximum',
            Duration.seconds(completenessPeriod),
          ),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        `Metric ${METRIC_NAMESPACE}/${METRICS.incompleteNodes} >= 1 in 2 of 3 completeness windows.`,
      );
    }

    // CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key, so the topic has its own.
    const topicKey = new kms.Key(this, 'TopicKey', {
      description: `Encrypts the ${fleet} on-call topic`,
      enableKeyRotation: true,
    });
    topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'OnCall', {
      displayName: `${fleet} on-call`,
      masterKey: topicKey,
      enforceSSL: true,
    });
    if (props.alarmEmail) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }
    this.notifications = new sns.Topic(this, 'Notifications', {
      displayName: `${fleet} warnings`,
      masterKey: topicKey,
      enforceSSL: true,
    });
    if (props.notifyEmail) {
      this.notifications.addSubscription(new subscriptions.EmailSubscription(props.notifyEmail));
    }
    // Critical alarms page only through the composite below, so one incident pages once.
    for (const alarm of this.alarms.filter((candidate) => !this.critical.includes(candidate))) {
      alarm.addAlarmAction(new actions.SnsAction(this.notifications));
    }

    if (this.critical.length === 0) {
      throw new Error(
        `${this.node.path}: no critical alarm to page on; give it services or the control plane`,
      );
    }
    this.page = new cloudwatch.CompositeAlarm(this, 'PageOnCall', {
      compositeAlarmName: alarmName(fleet, PAGE_ALARM),
      alarmDescription:
        `[critical] Pages on-call when any critical ${fleet} alarm in this region fires; ` +
        `the firing alarm's description links its runbook. Runbooks: ${runbookBase}`,
      alarmRule: cloudwatch.AlarmRule.anyOf(
        ...this.critical.map((alarm) =>
          cloudwatch.AlarmRule.fromAlarm(alarm, cloudwatch.AlarmState.ALARM),
        ),
      ),
    });
    this.page.addAlarmAction(new actions.SnsAction(this.topic));
    this.page.addOkAction(new actions.SnsAction(this.topic));
  }
}
