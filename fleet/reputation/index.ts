export * from './completeness.ts';
export * from './composite.ts';
export * from './forgetting.ts';
export * from './freshness.ts';
export * from './latency.ts';
export * from './reputation-state.ts';
export * from './stress.ts';
