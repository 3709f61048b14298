// A region other than the control region: the store nodes that run there and the watchers of its vantage points.
import type { Construct } from 'constructs';
import type { ResolvedNode } from '../fleet/config.ts';
import { FleetAlarms } from './FleetAlarms.ts';
import { OfflineStack, tagComponent } from './OfflineStack.ts';
import { RegionWatchers } from './RegionWatchers.ts';
import { regionNodes, type StorefleetStackBaseProps } from './StorefleetStack.ts';
import type { StoreNodeFleet } from './StoreNodeFleet.ts';

export interface StorefleetRegionStackProps extends StorefleetStackBaseProps {
  /** The nodes that run in `region` (may be empty when only watchers run here). */
  nodes: ResolvedNode[];
}

/**
 * Addresses the control plane by name, never by cross-stack reference: CloudFormation exports do not cross
 * regions, and the names are fixed by the fleet name (see resource-names.ts).
 */
export class StorefleetRegionStack extends OfflineStack {
  readonly nodes: StoreNodeFleet | undefined;
  readonly watchers: RegionWatchers | undefined;
  readonly alarms: FleetAlarms;

  constructor(scope: Construct, id: string, props: StorefleetRegionStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.nodes = regionNodes(this, props, props.nodes);
    if (config.vantagePoints.some((vp) => vp.region === props.region)) {
      this.watchers = new RegionWatchers(this, 'Watchers', {
        config,
        region: props.region,
        controlRegion: props.controlRegion,
        topology: props.topology,
        nodes: this.nodes,
      });
      tagComponent(this.watchers, 'watcher');
    }
    // Composite alarms cannot reference alarms in another region, so each region pages on its own.
    this.alarms = new FleetAlarms(this, 'Alarms', {
      config,
      clusterName: this.watchers?.clusterName ?? (this.nodes?.cluster.clusterName as string),
      nodeServices: (this.nodes?.nodes ?? []).map(({ node, service }) => ({
        nodeId: node.id,
        service,
      })),
      watcherServices: this.watchers?.services ?? [],
      alarmEmail: props.alarmEmail,
      notifyEmail: props.notifyEmail,
      runbookBaseUrl: props.runbookBaseUrl,
    });
    tagComponent(this.alarms, 'alarms');
  }
}
