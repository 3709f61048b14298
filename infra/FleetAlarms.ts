// The alarms of one region, named and described from fleet/alarms.ts, and the one composite alarm that pages on-call there.
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
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
/** Rounds the controller may miss (a Spot replacement takes about a minute) before it pages. */
const HEARTBEAT_MINUTES = 3;
/** A function whose longest run takes this share of its timeout is about to be cut off. */
const NEAR_TIMEOUT_SHARE = 0.9;
/** Composite alarm rules are limited to 10 240 characters: task alarms are grouped below it. */
const ALARMS_PER_GROUP = 40;
/** The guards look back this far: "has this ever run?" within the longest window an alarm allows. */
const GUARD_PERIODS = 24;
const GUARD_PERIOD = Duration.hours(1);
/** An alarm's metric math may read at most ten metrics. */
const GUARD_MAX_SERVICES = 10;

export interface FleetAlarmsProps {
  config: FleetConfig;
  /** The region's ECS cluster (nodes and watchers share it). */
  clusterName: string;
  /**
   * Store node services, one alarm each.
   * @default none
   */
  nodeServices?: Array<{ nodeId: string; service: ecs.FargateService }>;
  /**
   * Watcher services of the region's vantage points, one alarm each.
   * @default none
   */
  watcherServices?: Array<{ vantageId: string; service: ecs.FargateService }>;
  /**
   * The control plane's functions: its Storefleet metrics live in this region.
   * @default - not the control region
   */
  controlPlane?: { functions: Array<{ name: string; fn: lambda.IFunction; timeout: Duration }> };
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

/**
 * Critical alarms page through one composite. Alarms whose metrics are missing until something
 * has started (task counts, the controller's heartbeat, both with missing data breaching) page
 * only while a guard alarm says it has run within the last day, so a first deploy or a region
 * being added pages nobody while its tasks come up.
 */
export class FleetAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly critical: cloudwatch.Alarm[] = [];
  /** Guards: in ALARM once the thing they watch has run within a day (never page on their own). */
  readonly guards: cloudwatch.Alarm[] = [];
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
      paging: 'steady' | 'afterStart' = 'steady',
    ) => {
      const alarm = new cloudwatch.Alarm(this, constructId, {
        ...alarmProps,
        alarmName: alarmName(fleet, definition.name, qualifier),
        alarmDescription: describe(definition, detail),
      });
      this.alarms.push(alarm);
      if (definition.severity === 'critical' && paging === 'steady') this.critical.push(alarm);
      return alarm;
    };
    const guard = (constructId: string, name: string, metric: cloudwatch.IMetric, what: string) => {
      const alarm = new cloudwatch.Alarm(this, constructId, {
        alarmName: alarmName(fleet, name),
        alarmDescription: `[guard] In ALARM while ${what} within the last ${GUARD_PERIODS} hours; it never pages on its own, it lets start-up sensitive alarms page.`,
        metric,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: GUARD_PERIODS,
        datapointsToAlarm: 1,
        // No data at all (never started) leaves it INSUFFICIENT_DATA: not ALARM, so nothing pages.
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      });
      this.guards.push(alarm);
      return alarm;
    };

    // AWS/ECS publishes CPUUtilization per service every minute for free while a task runs: no
    // sample in a minute means no task running (Container Insights, which counts tasks, is off).
    const taskSamples = (service: ecs.FargateService, period: Duration) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ECS',
        metricName: 'CPUUtilization',
        dimensionsMap: { ClusterName: props.clusterName, ServiceName: service.serviceName },
        statistic: 'SampleCount',
        period,
      });
    const taskAlarm = (
      definition: AlarmDefinition,
      constructId: string,
      qualifier: string,
      service: ecs.FargateService,
    ) =>
      add(
        definition,
        constructId,
        qualifier,
        {
          metric: taskSamples(service, MINUTE),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: TASK_GAP_MINUTES,
          datapointsToAlarm: TASK_GAP_MINUTES,
          // No sample means no task reports at all: that is an outage, not quiet.
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        },
        `${qualifier}: no running task (AWS/ECS CPUUtilization samples) for ${TASK_GAP_MINUTES} minutes.`,
        'afterStart',
      );
    const taskAlarms: cloudwatch.Alarm[] = [];
    for (const { nodeId, service } of props.nodeServices ?? []) {
      taskAlarms.push(
        taskAlarm(
          ALARMS.tasksBelowDesired,
          `TasksBelowDesired-${service.node.scope?.node.id ?? nodeId}`,
          nodeId,
          service,
        ),
      );
    }
    for (const { vantageId, service } of props.watcherServices ?? []) {
      taskAlarms.push(
        taskAlarm(
          ALARMS.watcherTasksBelowDesired,
          `WatcherTasksBelowDesired-${vantageId}`,
          vantageId,
          service,
        ),
      );
    }
    // Metric math over at most ten services: the region has run once any of them reported in a day.
    const guarded = [...(props.watcherServices ?? []), ...(props.nodeServices ?? [])]
      .map(({ service }) => service)
      .slice(0, GUARD_MAX_SERVICES);
    const regionRan =
      guarded.length > 0
        ? guard(
            'RegionRan',
            'RegionRan',
            new cloudwatch.MathExpression({
              expression: `MAX([${guarded.map((_, index) => `s${index}`).join(', ')}])`,
              usingMetrics: Object.fromEntries(
                guarded.map((service, index) => [`s${index}`, taskSamples(service, GUARD_PERIOD)]),
              ),
              period: GUARD_PERIOD,
              label: 'task samples of the region',
            }),
            `tasks of this region's services ran`,
          )
        : undefined;

    let controllerHeartbeat: cloudwatch.Alarm | undefined;
    let controllerReported: cloudwatch.Alarm | undefined;
    if (props.controlPlane) {
      controllerHeartbeat = add(
        ALARMS.controllerHeartbeat,
        'ControllerHeartbeat',
        undefined,
        {
          metric: fleetMetric(METRICS.controllerRounds, 'Sum', MINUTE),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: HEARTBEAT_MINUTES,
          datapointsToAlarm: HEARTBEAT_MINUTES,
          // A controller that stopped reporting is exactly what this alarm is for.
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        },
        `No ${METRIC_NAMESPACE}/${METRICS.controllerRounds} for ${HEARTBEAT_MINUTES} minutes.`,
        'afterStart',
      );
      controllerReported = guard(
        'ControllerReported',
        'ControllerReported',
        fleetMetric(METRICS.controllerRounds, 'Sum', GUARD_PERIOD),
        'the controller decided rounds',
      );
      add(
        ALARMS.reportingBelowQuorum,
        'ReportingBelowQuorum',
        undefined,
        {
          metric: fleetMetric(METRICS.reportingVantagePoints, 'Maximum', MINUTE),
          threshold: config.failover.quorum,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: 3,
          datapointsToAlarm: 3,
          // Without rounds there is nothing to count: ControllerHeartbeat pages for that.
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        `Metric ${METRIC_NAMESPACE}/${METRICS.reportingVantagePoints} < failover.quorum (${config.failover.quorum}) for 3 minutes.`,
      );
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
          // Healthy among the listed, from the controller: the listing itself is topped up to minHealthy.
          metric: fleetMetric(METRICS.healthyListedNodes, 'Minimum', MINUTE),
          threshold: config.failover.minHealthy,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: 2,
          datapointsToAlarm: 2,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        `Metric ${METRIC_NAMESPACE}/${METRICS.healthyListedNodes} < ${config.failover.minHealthy} for 2 minutes.`,
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
      for (const { name, fn, timeout } of props.controlPlane.functions) {
        const window = Duration.minutes(5);
        const quiet = cloudwatch.TreatMissingData.NOT_BREACHING;
        add(
          ALARMS.functionErrors,
          `FunctionErrors-${name}`,
          name,
          {
            metric: fn.metricErrors({ period: window, statistic: 'Sum' }),
            threshold: 1,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluationPeriods: 1,
            treatMissingData: quiet,
          },
          `Function ${name}: Errors >= 1 in 5 minutes.`,
        );
        add(
          ALARMS.functionThrottles,
          `FunctionThrottles-${name}`,
          name,
          {
            metric: fn.metricThrottles({ period: window, statistic: 'Sum' }),
            threshold: 1,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluationPeriods: 1,
            treatMissingData: quiet,
          },
          `Function ${name}: Throttles >= 1 in 5 minutes.`,
        );
        const limitMs = Math.floor(timeout.toMilliseconds() * NEAR_TIMEOUT_SHARE);
        add(
          ALARMS.functionNearTimeout,
          `FunctionNearTimeout-${name}`,
          name,
          {
            metric: fn.metricDuration({ period: window, statistic: 'Maximum' }),
            threshold: limitMs,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluationPeriods: 1,
            treatMissingData: quiet,
          },
          `Function ${name}: longest run >= ${limitMs} ms (90 % of its ${timeout.toSeconds()} s timeout) in 5 minutes.`,
        );
      }
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
    for (const alarm of this.alarms.filter(
      (candidate) => !this.critical.includes(candidate) && !taskAlarms.includes(candidate),
    )) {
      if (alarm === controllerHeartbeat) continue;
      alarm.addAlarmAction(new actions.SnsAction(this.notifications));
    }

    const rules: cloudwatch.IAlarmRule[] = this.critical.map((alarm) =>
      cloudwatch.AlarmRule.fromAlarm(alarm, cloudwatch.AlarmState.ALARM),
    );
    if (regionRan && taskAlarms.length > 0) {
      const direct = taskAlarms.map((alarm) =>
        cloudwatch.AlarmRule.fromAlarm(alarm, cloudwatch.AlarmState.ALARM),
      );
      const groups: cloudwatch.IAlarmRule[] = [];
      // A composite costs as much as five alarms: group only where one rule would grow too long.
      if (taskAlarms.length <= ALARMS_PER_GROUP) {
        groups.push(...direct);
      } else {
        for (let start = 0; start < taskAlarms.length; start += ALARMS_PER_GROUP) {
          const members = taskAlarms.slice(start, start + ALARMS_PER_GROUP);
          const index = start / ALARMS_PER_GROUP;
          const group = new cloudwatch.CompositeAlarm(this, `TaskAlarms-${index}`, {
            compositeAlarmName: alarmName(fleet, 'TaskAlarms', String(index)),
            alarmDescription: `[group] Any of ${members.length} task alarms of this region; paging goes through ${alarmName(fleet, PAGE_ALARM)}.`,
            alarmRule: cloudwatch.AlarmRule.anyOf(
              ...members.map((alarm) =>
                cloudwatch.AlarmRule.fromAlarm(alarm, cloudwatch.AlarmState.ALARM),
              ),
            ),
          });
          groups.push(cloudwatch.AlarmRule.fromAlarm(group, cloudwatch.AlarmState.ALARM));
        }
      }
      rules.push(
        cloudwatch.AlarmRule.allOf(
          cloudwatch.AlarmRule.anyOf(...groups),
          cloudwatch.AlarmRule.fromAlarm(regionRan, cloudwatch.AlarmState.ALARM),
        ),
      );
    }
    if (controllerHeartbeat && controllerReported) {
      rules.push(
        cloudwatch.AlarmRule.allOf(
          cloudwatch.AlarmRule.fromAlarm(controllerHeartbeat, cloudwatch.AlarmState.ALARM),
          cloudwatch.AlarmRule.fromAlarm(controllerReported, cloudwatch.AlarmState.ALARM),
        ),
      );
    }
    if (rules.length === 0) {
      throw new Error(
        `${this.node.path}: no critical alarm to page on; give it services or the control plane`,
      );
    }
    this.page = new cloudwatch.CompositeAlarm(this, 'PageOnCall', {
      compositeAlarmName: alarmName(fleet, PAGE_ALARM),
      alarmDescription:
        `[critical] Pages on-call when any critical ${fleet} alarm in this region fires; ` +
        `the firing alarm's description links its runbook. Runbooks: ${runbookBase}`,
      alarmRule: cloudwatch.AlarmRule.anyOf(...rules),
    });
    this.page.addAlarmAction(new actions.SnsAction(this.topic));
    this.page.addOkAction(new actions.SnsAction(this.topic));
  }
}
