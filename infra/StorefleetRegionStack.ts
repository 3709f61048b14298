// A region other than the control region: the store nodes that run there and the probers of its vantage points.
import { Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { type FleetConfig, type ResolvedNode, resolveNodes } from '../fleet/config.ts';
import { FleetAlarms } from './FleetAlarms.ts';
import { FleetDashboard } from './FleetDashboard.ts';
import {
  configParameterName,
  deploymentParameterName,
  nodeAddressesParameterName,
  probeResultsTableName,
} from './resource-names.ts';
import { StoreNodeFleet } from './StoreNodeFleet.ts';
import { VantagePointProber } from './VantagePointProber.ts';

export interface StorefleetRegionStackProps extends StackProps {
  config: FleetConfig;
  /** This stack's region. */
  region: string;
  /** Where the control plane's tables and parameters live. */
  controlRegion: string;
  /** The nodes that run in `region` (may be empty when only probers run here). */
  nodes: ResolvedNode[];
  /**
   * @default - config.registry.domain
   */
  domain?: string;
  /**
   * @default - no TLS listener
   */
  certificateArn?: string;
  /**
   * @default - no subscription to this region's paging topic
   */
  alarmEmail?: string;
  /**
   * Further nwaku flags for every node (see StoreNodeFleetProps.extraNodeEnvironment).
   * @default none
   */
  extraNodeEnvironment?: Record<string, string>;
  /**
   * @default - no subscription to the warnings topic
   */
  notifyEmail?: string;
  /**
   * @default 'docs/runbooks.md'
   */
  runbookBaseUrl?: string;
  /**
   * Handler file of the probe function.
   * @default 'lambdas/probe/handler.ts'
   */
  probeEntry?: string;
}

/**
 * Addresses the control plane by name, never by cross-stack reference: CloudFormation exports do not cross
 * regions, and the names are fixed by the fleet name (see resource-names.ts).
 */
export class StorefleetRegionStack extends Stack {
  readonly nodes: StoreNodeFleet | undefined;
  readonly probers: VantagePointProber[] = [];
  readonly alarms: FleetAlarms | undefined;

  constructor(scope: Construct, id: string, props: StorefleetRegionStackProps) {
    super(scope, id, props);
    const { config } = props;
    const vantagePoints = config.vantagePoints.filter((vp) => vp.region === props.region);
    const restProbers = vantagePoints.filter((vp) => vp.reachesRest);
    if (props.nodes.length > 0) {
      this.nodes = new StoreNodeFleet(this, 'Nodes', {
        config,
        nodes: props.nodes,
        region: props.region,
        domain: props.domain ?? config.registry.domain,
        certificateArn: props.certificateArn,
        extraNodeEnvironment: props.extraNodeEnvironment,
        proberSubnets: restProbers.length > 0,
      });
    }
    const parameterArn = (name: string) =>
      this.formatArn({
        service: 'ssm',
        region: props.controlRegion,
        resource: 'parameter',
        resourceName: name.replace(/^\//, ''),
      });
    const tableName = probeResultsTableName(config.fleet);
    const probeResultsTable = dynamodb.Table.fromTableAttributes(this, 'ProbeResults', {
      tableArn: this.formatArn({
        service: 'dynamodb',
        region: props.controlRegion,
        resource: 'table',
        resourceName: tableName,
      }),
    });
    const control = {
      fleet: config.fleet,
      controlRegion: props.controlRegion,
      configParameter: {
        name: configParameterName(config.fleet),
        arn: parameterArn(configParameterName(config.fleet)),
      },
      deploymentParameter: {
        name: deploymentParameterName(config.fleet),
        arn: parameterArn(deploymentParameterName(config.fleet)),
      },
      probeResultsTable,
      probeResultsTableName: tableName,
      nodeAddressesParameterArns: [...new Set(resolveNodes(config).map((node) => node.region))].map(
        (region) =>
          this.formatArn({
            service: 'ssm',
            region,
            resource: 'parameter',
            resourceName: nodeAddressesParameterName(config.fleet, region).replace(/^\//, ''),
          }),
      ),
    };
    for (const vantagePoint of vantagePoints) {
      const inVpc = vantagePoint.reachesRest && this.nodes?.proberSubnetSelection;
      this.probers.push(
        new VantagePointProber(this, `Probe-${vantagePoint.id}`, {
          vantagePoint,
          probe: config.probe,
          control,
          entry: props.probeEntry,
          vpc: inVpc ? this.nodes?.vpc : undefined,
          vpcSubnets: inVpc ? this.nodes?.proberSubnetSelection : undefined,
          probersSecurityGroup: inVpc ? this.nodes?.probersSecurityGroup : undefined,
        }),
      );
    }
    if (this.nodes) {
      // Composite alarms cannot reference alarms in another region, so each node region pages on its own.
      this.alarms = new FleetAlarms(this, 'Alarms', {
        config,
        services: this.nodes.nodes.map(({ node, service }) => ({ nodeId: node.id, service })),
        controlPlane: false,
        alarmEmail: props.alarmEmail,
        notifyEmail: props.notifyEmail,
        runbookBaseUrl: props.runbookBaseUrl,
      });
    }
    if (this.nodes || this.probers.length > 0) {
      new FleetDashboard(this, 'Dashboard', {
        fleet: config.fleet,
        clusterNames: this.nodes ? [this.nodes.cluster.clusterName] : [],
        functions: this.probers.map((prober) => prober.function),
        database: this.nodes?.database,
        alarms: this.alarms ? [...this.alarms.alarms, this.alarms.page] : [],
        controlPlane: false,
      });
    }
  }
}
