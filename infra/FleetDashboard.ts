// One CloudWatch dashboard per region: fleet-wide graphs by SEARCH (one widget for all nodes), the functions, tables and alarms.

import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as rds from 'aws-cdk-lib/aws-rds';
import {
  DefaultDashboardFactory,
  MetricStatistic,
  MonitoringFacade,
} from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import { METRIC_DIMENSIONS, METRIC_NAMESPACE, METRICS } from '../fleet/metrics.ts';
import { fleetSlug } from './resource-names.ts';

/** CloudWatch renders at most this many widgets on one dashboard. */
export const DASHBOARD_WIDGET_LIMIT = 500;

export interface FleetDashboardProps {
  fleet: string;
  /** ECS cluster names whose services are graphed together (Container Insights). */
  clusterNames: string[];
  /**
   * Lambda functions to graph (invocations, errors, duration), one row each.
   * @default none
   */
  functions?: lambda.IFunction[];
  /**
   * @default none
   */
  tables?: dynamodb.ITable[];
  /**
   * @default - no registry section
   */
  distribution?: cloudfront.IDistribution;
  /**
   * @default - no database section
   */
  database?: rds.IDatabaseInstance;
  /**
   * Alarms shown in one status widget.
   * @default none
   */
  alarms?: cloudwatch.IAlarm[];
  /**
   * Graphs the Storefleet custom metrics (they exist only where the control plane runs).
   * @default true
   */
  controlPlane?: boolean;
}

export class FleetDashboard extends Construct {
  readonly facade: MonitoringFacade;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: FleetDashboardProps) {
    super(scope, id);
    const fleet = props.fleet;
    const factory = new DefaultDashboardFactory(this, 'Dashboards', {
      dashboardNamePrefix: `storefleet-${fleetSlug(fleet)}`,
      createDashboard: true,
      createSummaryDashboard: false,
      createAlarmDashboard: false,
    });
    this.facade = new MonitoringFacade(this, 'Monitoring', {
      metricFactoryDefaults: { namespace: METRIC_NAMESPACE },
      alarmFactoryDefaults: { alarmNamePrefix: fleet, actionsEnabled: false },
      dashboardFactory: factory,
    });
    this.facade.addLargeHeader(`${fleet} store nodes`);
    if (props.alarms && props.alarms.length > 0) {
      this.facade.addWidget(
        new cloudwatch.AlarmStatusWidget({
          title: 'Alarms',
          alarms: props.alarms,
          width: 24,
          sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
        }),
      );
    }

    // One SEARCH per graph covers every node: the dashboard stays the same size however large the fleet grows.
    const byNode = { [METRIC_DIMENSIONS.fleet]: fleet, [METRIC_DIMENSIONS.node]: undefined };
    const search = (metricName: string, statistic: MetricStatistic, label: string) => ({
      searchQuery: `MetricName="${metricName}"`,
      // cdk-monitoring-constructs drops undefined values, which turns NodeId into a SEARCH wildcard.
      dimensionsMap: byNode as unknown as Record<string, string>,
      statistic,
      label,
    });
    if (props.controlPlane ?? true) {
      this.facade.monitorCustom({
        alarmFriendlyName: 'StoreNodes',
        humanReadableName: 'Store nodes as probes see them',
        metricGroups: [
          {
            title: 'Probe success by node',
            metrics: [search(METRICS.probeSuccess, MetricStatistic.AVERAGE, '')],
          },
          {
            title: 'Probe latency p95 (ms)',
            metrics: [search(METRICS.probeLatencyMs, MetricStatistic.P95, '')],
          },
          {
            title: 'Reputation',
            metrics: [search(METRICS.reputationScore, MetricStatistic.MIN, '')],
          },
          {
            title: 'History completeness',
            metrics: [search(METRICS.completeness, MetricStatistic.MIN, '')],
          },
          {
            title: 'Stress p99 (ms)',
            metrics: [search(METRICS.stressP99Ms, MetricStatistic.MAX, '')],
          },
        ],
      });
    }
    const ecsSearch = (metricName: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{ECS/ContainerInsights,ClusterName,ServiceName} MetricName="${metricName}" ${props.clusterNames
          .map((name) => `ClusterName="${name}"`)
          .join(' OR ')}', 'Average', 60)`,
        label: '',
      });
    if (props.clusterNames.length > 0) {
      this.facade.addWidget(
        new cloudwatch.GraphWidget({
          title: 'Running tasks by node',
          left: [ecsSearch('RunningTaskCount')],
          width: 12,
        }),
      );
      this.facade.addWidget(
        new cloudwatch.GraphWidget({
          title: 'CPU utilisation by node',
          left: [ecsSearch('CpuUtilized')],
          width: 12,
        }),
      );
    }
    for (const lambdaFunction of props.functions ?? []) {
      this.facade.monitorLambdaFunction({ lambdaFunction });
    }
    for (const table of props.tables ?? []) {
      this.facade.monitorDynamoTable({ table });
    }
    if (props.distribution) {
      this.facade.monitorCloudFrontDistribution({ distribution: props.distribution });
    }
    if (props.database) {
      this.facade.monitorRdsInstance({ instance: props.database });
    }
    const dashboard = this.facade.createdDashboard();
    if (!dashboard)
      throw new Error(`${this.node.path}: the dashboard factory created no dashboard`);
    this.dashboard = dashboard;
  }
}
