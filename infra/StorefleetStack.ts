// The control region's stack: its store nodes (if any), the registry, the watchers, the API, alarms and dashboard.
import { Annotations, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { FleetConfig, ResolvedNode } from '../fleet/config.ts';
import type { DeploymentTopology } from '../fleet/function-environment.ts';
import { FleetAlarms } from './FleetAlarms.ts';
import { FleetApi } from './FleetApi.ts';
import { FleetDashboard } from './FleetDashboard.ts';
import { FleetRegistry } from './FleetRegistry.ts';
import { FleetWatch, type HandlerName, type InVpcProber } from './FleetWatch.ts';
import { StoreNodeFleet } from './StoreNodeFleet.ts';

export interface StorefleetStackProps extends StackProps {
  config: FleetConfig;
  /** The control region; also this stack's region. */
  region: string;
  /** Every node of the fleet (resolveNodes()); those in `region` run in this stack. */
  nodes: ResolvedNode[];
  topology: DeploymentTopology;
  /**
   * DNS suffix of the nodes' public names.
   * @default - config.registry.domain
   */
  domain?: string;
  /**
   * ACM certificate for TLS websockets in this region.
   * @default - no TLS listener
   */
  certificateArn?: string;
  /**
   * @default - no subscription to the paging topic
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
   * Handler files by function.
   * @default the files under lambdas/
   */
  entries?: Partial<Record<HandlerName, string>>;
}

export class StorefleetStack extends Stack {
  readonly nodes: StoreNodeFleet | undefined;
  readonly registry: FleetRegistry;
  readonly watch: FleetWatch;
  readonly api: FleetApi;
  readonly alarms: FleetAlarms;
  readonly dashboard: FleetDashboard;

  constructor(scope: Construct, id: string, props: StorefleetStackProps) {
    super(scope, id, props);
    const { config } = props;
    const localNodes = props.nodes.filter((node) => node.region === props.region);
    const localVantagePoints = config.vantagePoints.filter((vp) => vp.region === props.region);
    const restProbers = localVantagePoints.filter((vp) => vp.reachesRest);

    if (localNodes.length > 0) {
      this.nodes = new StoreNodeFleet(this, 'Nodes', {
        config,
        nodes: localNodes,
        region: props.region,
        domain: props.domain ?? config.registry.domain,
        certificateArn: props.certificateArn,
        extraNodeEnvironment: props.extraNodeEnvironment,
        proberSubnets: restProbers.length > 0,
      });
    } else if (restProbers.length > 0) {
      Annotations.of(this).addWarningV2(
        'storefleet:restProberWithoutNodes',
        `Vantage points ${restProbers.map((vp) => vp.id).join(', ')} reach REST, but no node runs in ${props.region}; they probe p2p only.`,
      );
    }
    const inVpcProbers: Record<string, InVpcProber> = {};
    if (this.nodes?.proberSubnetSelection) {
      for (const vantagePoint of restProbers) {
        inVpcProbers[vantagePoint.id] = {
          vpc: this.nodes.vpc,
          vpcSubnets: this.nodes.proberSubnetSelection,
          probersSecurityGroup: this.nodes.probersSecurityGroup,
        };
      }
    }

    this.registry = new FleetRegistry(this, 'Registry', {
      fleet: config.fleet,
      registry: config.registry,
    });
    this.watch = new FleetWatch(this, 'Watch', {
      config,
      region: props.region,
      registry: this.registry,
      topology: props.topology,
      inVpcProbers,
      entries: props.entries,
    });
    this.api = new FleetApi(this, 'Api', {
      fleet: config.fleet,
      controlRegion: props.region,
      probeResults: this.watch.probeResults,
      nodeState: this.watch.nodeState,
      configParameter: this.watch.configParameter,
      deploymentParameter: this.watch.deploymentParameter,
      stressFunction: this.watch.stress,
      registry: this.registry,
      entry: props.entries?.api,
    });
    this.alarms = new FleetAlarms(this, 'Alarms', {
      config,
      services: (this.nodes?.nodes ?? []).map(({ node, service }) => ({
        nodeId: node.id,
        service,
      })),
      controlPlane: true,
      alarmEmail: props.alarmEmail,
      notifyEmail: props.notifyEmail,
      runbookBaseUrl: props.runbookBaseUrl,
    });
    new CfnOutput(this, 'RegistryUrl', {
      description: 'fleets.json as clients fetch it',
      value: `https://${this.registry.distribution.distributionDomainName}/fleets.json`,
    });
    new CfnOutput(this, 'ApiUrl', {
      description:
        'The API: GET public through CloudFront under /api/*, mutations SigV4-signed here',
      value: this.api.functionUrl.url,
    });
    this.dashboard = new FleetDashboard(this, 'Dashboard', {
      fleet: config.fleet,
      clusterNames: this.nodes ? [this.nodes.cluster.clusterName] : [],
      functions: [
        ...this.watch.probers.map((prober) => prober.function),
        this.watch.controller,
        this.watch.publisher,
        this.watch.completeness,
        this.watch.stress,
        this.api.function,
      ],
      tables: [this.watch.probeResults, this.watch.nodeState],
      distribution: this.registry.distribution,
      database: this.nodes?.database,
      alarms: [...this.alarms.alarms, this.alarms.page],
    });
  }
}
