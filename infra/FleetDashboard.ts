// The fleet's one CloudWatch dashboard, in the control region: fleet-level figures, then every region's tasks and database side by side.
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { DefaultDashboardFactory, MonitoringFacade } from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import { METRIC_DIMENSIONS, METRIC_NAMESPACE, METRICS } from '../fleet/metrics.ts';
import { fleetSlug } from './resource-names.ts';

/** CloudWatch renders at most this many widgets on one dashboard. */
export const DASHBOARD_WIDGET_LIMIT = 500;

/** What the dashboard shows of one region; metrics are read from that region (cross-region widgets). */
export interface DashboardRegion {
  region: string;
  clusterName: string;
  /** Whether store nodes run there (its database is graphed too). */
  hasNodes: boolean;
  /**
   * @default - no database graph
   */
  databaseInstanceId?: string;
}

export interface FleetDashboardProps {
  fleet: string;
  /** Every region of the fleet, control region first. */
  regions: DashboardRegion[];
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
   * Alarms shown in one status widget (the control region's).
   * @default none
   */
  alarms?: cloudwatch.IAlarm[];
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
    this.facade.addLargeHeader(`${fleet}: every region`);
    if (props.alarms && props.alarms.length > 0) {
      this.facade.addWidget(
        new cloudwatch.AlarmStatusWidget({
          title: 'Alarms (control region; other regions page through their own)',
          alarms: props.alarms,
          width: 24,
          sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
        }),
      );
    }

    // Fleet-level figures only: per-node figures are in the watchers' structured logs (Logs Insights).
    const fleetMetric = (metricName: string, statistic: string, label: string) =>
      new cloudwatch.Metric({
        namespace: METRIC_NAMESPACE,
        metricName,
        dimensionsMap: { [METRIC_DIMENSIONS.fleet]: fleet },
        statistic,
        label,
      });
    const graph = (title: string, metrics: cloudwatch.IMetric[], width = 8) =>
      new cloudwatch.GraphWidget({ title, left: metrics, width });
    this.facade.addWidget(
      graph('Vantage points', [
        fleetMetric(METRICS.reportingVantagePoints, 'Minimum', 'reporting'),
        fleetMetric(METRICS.blindVantagePoints, 'Maximum', 'blind'),
      ]),
    );
    this.facade.addWidget(
      graph('Listed nodes', [
        fleetMetric(METRICS.listedNodes, 'Minimum', 'listed'),
        fleetMetric(METRICS.healthyListedNodes, 'Minimum', 'healthy listed'),
      ]),
    );
    this.facade.addWidget(
      graph('Decisions', [
        fleetMetric(METRICS.controllerRounds, 'Sum', 'rounds decided'),
        fleetMetric(METRICS.registryPublications, 'Sum', 'publications'),
        fleetMetric(METRICS.drainsDeferred, 'Sum', 'drains deferred'),
        fleetMetric(METRICS.escalatedNodes, 'Maximum', 'escalated'),
      ]),
    );
    this.facade.addWidget(
      graph('Round duration (ms)', [
        fleetMetric(METRICS.roundDurationMs, 'p50', 'p50'),
        fleetMetric(METRICS.roundDurationMs, 'p95', 'p95'),
      ]),
    );

    for (const region of props.regions) {
      this.facade.addWidget(
        new cloudwatch.TextWidget({ markdown: `### ${region.region}`, width: 24, height: 1 }),
      );
      const search = (
        namespace: string,
        dimensions: string,
        metricName: string,
        filter: string,
        statistic: string,
      ) =>
        new cloudwatch.MathExpression({
          expression: `SEARCH('{${namespace},${dimensions}} MetricName="${metricName}" ${filter}', '${statistic}', 60)`,
          label: '',
          searchRegion: region.region,
        });
      const cluster = `ClusterName="${region.clusterName}"`;
      this.facade.addWidget(
        graph(`Tasks reporting by service (${region.region})`, [
          search('AWS/ECS', 'ClusterName,ServiceName', 'CPUUtilization', cluster, 'SampleCount'),
        ]),
      );
      this.facade.addWidget(
        graph(`CPU % by service (${region.region})`, [
          search('AWS/ECS', 'ClusterName,ServiceName', 'CPUUtilization', cluster, 'Average'),
        ]),
      );
      if (region.hasNodes && region.databaseInstanceId) {
        const database = (metricName: string, label: string) =>
          new cloudwatch.Metric({
            namespace: 'AWS/RDS',
            metricName,
            dimensionsMap: { DBInstanceIdentifier: region.databaseInstanceId as string },
            statistic: 'Average',
            region: region.region,
            label,
          });
        this.facade.addWidget(
          graph(`Archive database (${region.region})`, [
            database('CPUUtilization', 'CPU %'),
            database('DatabaseConnections', 'connections'),
          ]),
        );
      }
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
    const dashboard = this.facade.createdDashboard();
    if (!dashboard)
      throw new Error(`${this.node.path}: the dashboard factory created no dashboard`);
    this.dashboard = dashboard;
  }
}
