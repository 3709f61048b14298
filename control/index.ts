// The control step shared by the AWS watchers and the local runtime: the watch loop, the vantage and controller rounds, publishing.
export * from './controller-round.ts';
export * from './decide-round.ts';
export * from './fleet-view.ts';
export * from './listing.ts';
export * from './node-addresses.ts';
export * from './operator-drains.ts';
export * from './perform-actions.ts';
export * from './publication.ts';
export * from './registry-artifacts.ts';
export * from './rounds.ts';
export * from './stress-request.ts';
export * from './vantage-round.ts';
export * from './watch-loop.ts';
