// The CDK constructs and stacks of storefleet.

export * from './ControlPlane.ts';
export * from './define-storefleet.ts';
export * from './deploy-context.ts';
export * from './FleetAlarms.ts';
export * from './FleetApi.ts';
export * from './FleetDashboard.ts';
export * from './FleetRegistry.ts';
export * from './node-ports.ts';
export * from './OfflineStack.ts';
export * from './RegionWatchers.ts';
export * from './RegistryReplica.ts';
export * from './RegistryReplicaStack.ts';
export * from './resource-names.ts';
export * from './StorefleetFunction.ts';
export * from './StorefleetRegionStack.ts';
export * from './StorefleetStack.ts';
export * from './StoreNodeFleet.ts';
export * from './StoreNodeGroup.ts';
export * from './WatcherCluster.ts';
export * from './WatcherService.ts';
