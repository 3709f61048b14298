// The AWS adapters behind fleet/ports.ts and the registry signer, plus the shared logger.
export * from './aws-call-error.ts';
export * from './DynamoStateStore.ts';
export * from './EcsNodeRuntime.ts';
export * from './EmfMetricsSink.ts';
export * from './idempotency.ts';
export * from './KmsRegistrySigner.ts';
export * from './logger.ts';
export * from './S3RegistryPublisher.ts';
