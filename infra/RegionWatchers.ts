// The watchers of one region's vantage points, on the region's node cluster or, without nodes, on a small cluster of their own.
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import type { FleetConfig } from '../fleet/config.ts';
import type { DeploymentTopology } from '../fleet/function-environment.ts';
import type { StoreNodeFleet } from './StoreNodeFleet.ts';
import { WatcherCluster } from './WatcherCluster.ts';
import { type ControllerGrants, WatcherService, watcherImage } from './WatcherService.ts';

export interface RegionWatchersProps {
  config: FleetConfig;
  region: string;
  controlRegion: string;
  topology: DeploymentTopology;
  /**
   * The region's store nodes: watchers share their cluster and VPC, and may call their REST port.
   * @default - a watcher cluster of its own
   */
  nodes?: StoreNodeFleet;
  /**
   * Given in the control region: its first vantage point's watcher is the controller.
   * @default - no controller here
   */
  controller?: ControllerGrants;
}

export class RegionWatchers extends Construct {
  readonly services: Array<{ vantageId: string; service: ecs.FargateService }> = [];
  readonly watchers: WatcherService[] = [];
  readonly clusterName: string;

  constructor(scope: Construct, id: string, props: RegionWatchersProps) {
    super(scope, id);
    const vantagePoints = props.config.vantagePoints.filter((vp) => vp.region === props.region);
    if (vantagePoints.length === 0 && !props.controller) {
      throw new Error(`${this.node.path}: no vantage point in ${props.region}`);
    }
    let cluster: ecs.ICluster;
    let subnets: ec2.SubnetSelection;
    let open: ec2.ISecurityGroup;
    let rest: ec2.ISecurityGroup;
    if (props.nodes) {
      cluster = props.nodes.cluster;
      subnets = { subnets: props.nodes.vpc.publicSubnets };
      open = props.nodes.probersSecurityGroup;
      rest = props.nodes.probersSecurityGroup;
      this.clusterName = props.nodes.cluster.clusterName;
    } else {
      const own = new WatcherCluster(this, 'Cluster', {
        fleet: props.config.fleet,
        region: props.region,
      });
      cluster = own.cluster;
      subnets = { subnets: own.vpc.publicSubnets };
      open = own.securityGroup;
      rest = own.securityGroup;
      this.clusterName = own.cluster.clusterName;
    }
    // One image asset per stack: CDK publishes it to the region's bootstrap repository once.
    const image = watcherImage();
    vantagePoints.forEach((vantagePoint, index) => {
      const watcher = new WatcherService(this, vantagePoint.id, {
        config: props.config,
        vantagePoint,
        controlRegion: props.controlRegion,
        topology: props.topology,
        cluster,
        vpcSubnets: subnets,
        securityGroup: vantagePoint.reachesRest ? rest : open,
        controller: index === 0 ? props.controller : undefined,
        image,
      });
      this.watchers.push(watcher);
      this.services.push({ vantageId: vantagePoint.id, service: watcher.service });
    });
  }
}
