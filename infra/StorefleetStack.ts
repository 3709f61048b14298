// The control region's stack: its store nodes (if any), the registry, the control plane's tables and functions, its watchers (one of them the controller), the API, alarms and the one dashboard.
import { CfnOutput, type Duration } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type { Construct } from 'constructs';
import type { FleetConfig, ResolvedNode } from '../fleet/config.ts';
import type { DeploymentTopology } from '../fleet/function-environment.ts';
import { ControlPlane, type HandlerName } from './ControlPlane.ts';
import { FleetAlarms } from './FleetAlarms.ts';
import { FleetApi } from './FleetApi.ts';
import { FleetDashboard } from './FleetDashboard.ts';
import { FleetRegistry } from './FleetRegistry.ts';
import { OfflineStack, type OfflineStackProps, tagComponent } from './OfflineStack.ts';
import { RegionWatchers } from './RegionWatchers.ts';
import { clusterName } from './resource-names.ts';
import { PROJECT_ROOT } from './StorefleetFunction.ts';
import { StoreNodeFleet } from './StoreNodeFleet.ts';

/** Deploy options every storefleet stack takes; each region's stack reads its own entries. */
export interface StorefleetStackBaseProps extends OfflineStackProps {
  config: FleetConfig;
  /** Where the control plane's tables and parameters live. */
  controlRegion: string;
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
   * Route 53 hosted zone of `domain`: the app writes one A record per node name.
   * @default - no records
   */
  hostedZoneId?: string;
  /**
   * @default - no subscription to the paging topic
   */
  alarmEmail?: string;
  /**
   * Further nwaku flags for every node (see StoreNodeGroupProps.extraNodeEnvironment).
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
}

export interface StorefleetStackProps extends StorefleetStackBaseProps {
  /** Every node of the fleet (resolveNodes()); those in `region` run in this stack. */
  nodes: ResolvedNode[];
  /**
   * Handler files by function.
   * @default the files under lambdas/
   */
  entries?: Partial<Record<HandlerName, string>>;
  /**
   * The registry's own domain, with an ACM certificate in us-east-1 (CloudFront's region).
   * @default - the cloudfront.net name only
   */
  registryDomain?: { name: string; certificateArn: string };
  /**
   * The registry replica CloudFront falls back to (RegistryReplicaStack).
   * @default - no replica
   */
  registryReplica?: { bucketName: string; region: string };
}

/** The nodes of this stack's region and their hosted zone, shared by both stack kinds. */
export function regionNodes(
  stack: OfflineStack,
  props: StorefleetStackBaseProps,
  nodes: ResolvedNode[],
): StoreNodeFleet | undefined {
  const local = nodes.filter((node) => node.region === props.region);
  if (local.length === 0) return undefined;
  const domain = props.domain ?? props.config.registry.domain;
  const hostedZone =
    props.hostedZoneId && domain
      ? route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', {
          hostedZoneId: props.hostedZoneId,
          zoneName: domain,
        })
      : undefined;
  const fleet = new StoreNodeFleet(stack, 'Nodes', {
    config: props.config,
    nodes: local,
    region: props.region,
    domain,
    certificateArn: props.certificateArn,
    hostedZone,
    extraNodeEnvironment: props.extraNodeEnvironment,
  });
  tagComponent(fleet, 'store-nodes');
  return fleet;
}

export class StorefleetStack extends OfflineStack {
  readonly nodes: StoreNodeFleet | undefined;
  readonly registry: FleetRegistry;
  readonly controlPlane: ControlPlane;
  readonly watchers: RegionWatchers;
  readonly api: FleetApi;
  readonly alarms: FleetAlarms;
  readonly dashboard: FleetDashboard;

  constructor(scope: Construct, id: string, props: StorefleetStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.nodes = regionNodes(this, props, props.nodes);

    const hostedZone =
      props.hostedZoneId && props.registryDomain
        ? route53.HostedZone.fromHostedZoneAttributes(this, 'RegistryZone', {
            hostedZoneId: props.hostedZoneId,
            zoneName: props.domain ?? config.registry.domain ?? props.registryDomain.name,
          })
        : undefined;
    this.registry = new FleetRegistry(this, 'Registry', {
      fleet: config.fleet,
      registry: config.registry,
      projectRoot: PROJECT_ROOT,
      customDomain: props.registryDomain
        ? {
            name: props.registryDomain.name,
            certificate: acm.Certificate.fromCertificateArn(
              this,
              'RegistryCertificate',
              props.registryDomain.certificateArn,
            ),
          }
        : undefined,
      hostedZone,
      replica: props.registryReplica,
    });
    tagComponent(this.registry, 'registry');
    this.controlPlane = new ControlPlane(this, 'Control', {
      config,
      region: props.region,
      registry: this.registry,
      topology: props.topology,
      entries: props.entries,
    });
    tagComponent(this.controlPlane, 'control-plane');
    this.watchers = new RegionWatchers(this, 'Watchers', {
      config,
      region: props.region,
      controlRegion: props.controlRegion,
      topology: props.topology,
      nodes: this.nodes,
      controller: {
        registryBucketName: this.registry.bucket.bucketName,
        registryBucketArn: this.registry.bucket.bucketArn,
        signingGrant: this.registry.signingGrant,
        signingKeyId: this.registry.signingKeyId,
      },
    });
    tagComponent(this.watchers, 'watcher');
    this.api = new FleetApi(this, 'Api', {
      fleet: config.fleet,
      controlRegion: props.region,
      probeResults: this.controlPlane.probeResults,
      nodeState: this.controlPlane.nodeState,
      configParameter: this.controlPlane.configParameter,
      deploymentParameter: this.controlPlane.deploymentParameter,
      stressFunction: this.controlPlane.stress,
      registry: this.registry,
      entry: props.entries?.api,
    });
    tagComponent(this.api, 'api');
    const functions = [
      { name: 'publisher', fn: this.controlPlane.publisher },
      { name: 'completeness', fn: this.controlPlane.completeness },
      { name: 'stress', fn: this.controlPlane.stress },
      { name: 'api', fn: this.api.function },
    ];
    this.alarms = new FleetAlarms(this, 'Alarms', {
      config,
      clusterName: this.watchers.clusterName,
      nodeServices: (this.nodes?.nodes ?? []).map(({ node, service }) => ({
        nodeId: node.id,
        service,
      })),
      watcherServices: this.watchers.services,
      controlPlane: {
        functions: functions.map(({ name, fn }) => ({ name, fn, timeout: fn.timeout as Duration })),
      },
      alarmEmail: props.alarmEmail,
      notifyEmail: props.notifyEmail,
      runbookBaseUrl: props.runbookBaseUrl,
    });
    tagComponent(this.alarms, 'alarms');
    new CfnOutput(this, 'RegistryUrl', {
      description: 'fleets.json as clients fetch it',
      value: `https://${props.registryDomain?.name ?? this.registry.distribution.distributionDomainName}/fleets.json`,
    });
    new CfnOutput(this, 'DashboardUrl', {
      description: 'The fleet dashboard page (read-only API under /api/* of the same host)',
      value: this.registry.dashboardUrl,
    });
    new CfnOutput(this, 'ApiUrl', {
      description:
        'The API: GET public through CloudFront under /api/*, mutations SigV4-signed here',
      value: this.api.functionUrl.url,
    });
    const regions = [
      ...new Set([
        props.region,
        ...props.topology.nodes.map((node) => node.region),
        ...config.vantagePoints.map((vp) => vp.region),
      ]),
    ];
    const nodeRegions = new Set(props.topology.nodes.map((node) => node.region));
    this.dashboard = new FleetDashboard(this, 'Dashboard', {
      fleet: config.fleet,
      regions: regions.map((region) => ({
        region,
        clusterName: clusterName(config.fleet),
        hasNodes: nodeRegions.has(region),
        databaseInstanceId: nodeRegions.has(region)
          ? `storefleet-${config.fleet.replaceAll('.', '-')}-archive`
          : undefined,
      })),
      functions: functions.map(({ fn }) => fn),
      tables: [this.controlPlane.probeResults, this.controlPlane.nodeState],
      distribution: this.registry.distribution,
      alarms: [...this.alarms.alarms, this.alarms.page],
    });
    tagComponent(this.dashboard, 'dashboard');
  }
}
