// The measuring half's public surface, for the local runtime, the Lambdas and the command line.
export * from './abortable.ts';
export * from './bounded-pool.ts';
export * from './clock.ts';
export * from './completeness.ts';
export * from './delivery.ts';
export * from './probe-round.ts';
export * from './retention.ts';
export * from './stress/generator-capacity.ts';
export * from './stress/latency-recorder.ts';
export * from './stress/open-model.ts';
export * from './stress/report-html.ts';
export * from './stress/run-stress.ts';
export * from './stress/stress-guard.ts';
export * from './stress/stress-targets.ts';
export * from './stress/worker-load.ts';
export * from './targets.ts';
