// The CDK constructs and stacks of storefleet.

export * from './define-storefleet.ts';
export * from './deploy-context.ts';
export * from './FleetAlarms.ts';
export * from './FleetApi.ts';
export * from './FleetDashboard.ts';
export * from './FleetRegistry.ts';
export * from './FleetWatch.ts';
export * from './resource-names.ts';
export * from './StorefleetFunction.ts';
export * from './StorefleetRegionStack.ts';
export * from './StorefleetStack.ts';
export * from './StoreNodeFleet.ts';
export * from './VantagePointProber.ts';
