// The control step shared by the Lambdas and the local runtime: decide a round, perform its actions, build the registry.
export * from './decide-round.ts';
export * from './listing.ts';
export * from './node-addresses.ts';
export * from './perform-actions.ts';
export * from './registry-artifacts.ts';
export * from './rounds.ts';
export * from './stress-request.ts';
