// Where watchers run in a region without store nodes: a small VPC of public subnets (no NAT) and a Fargate cluster.
import { Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { clusterName } from './resource-names.ts';

export interface WatcherClusterProps {
  fleet: string;
  /** The AWS region, spelled out so that AZ names are known without a lookup. */
  region: string;
}

export class WatcherCluster extends Construct {
  readonly vpc: ec2.Vpc;
  readonly cluster: ecs.Cluster;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: WatcherClusterProps) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.43.0.0/16'),
      availabilityZones: [`${props.region}a`, `${props.region}b`],
      // Tasks get public IPs for egress: cheaper than a NAT for one small task.
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
      natGateways: 0,
    });
    Validations.of(this.vpc).acknowledge({
      id: 'AwsSolutions-VPC7',
      reason:
        'The VPC holds one watcher task that only dials out; flow logs would cost more than they tell.',
    });
    this.securityGroup = new ec2.SecurityGroup(this, 'WatcherSecurityGroup', {
      vpc: this.vpc,
      description: 'Watchers: outbound only',
      allowAllOutbound: true,
    });
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      clusterName: clusterName(props.fleet),
      // Container Insights bills ~10 custom metrics per service; alarms and the dashboard read the free AWS/ECS metrics.
      containerInsightsV2: ecs.ContainerInsights.DISABLED,
      enableFargateCapacityProviders: true,
    });
    acknowledgeNoContainerInsights(this.cluster);
  }
}

/** Container Insights is off on storefleet clusters: what it would add costs more than the rest of the orchestrator's metrics. */
export function acknowledgeNoContainerInsights(cluster: ecs.Cluster): void {
  Validations.of(cluster).acknowledge({
    id: 'AwsSolutions-ECS4',
    reason:
      'Container Insights bills about ten custom metrics per service (more than the whole control plane); task alarms use the free AWS/ECS service metrics.',
  });
}
