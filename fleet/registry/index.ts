// The registry: fleets.json in Status's format, registry.json, detached signatures and the publish guard.
export * from './addresses.ts';
export * from './candidates.ts';
export * from './encoding.ts';
export * from './errors.ts';
export * from './fleets-config.ts';
export * from './fleets-json.ts';
export * from './fleets-json-schema.ts';
export * from './issues.ts';
export * from './publish-guard.ts';
export * from './registry-json.ts';
export * from './signer.ts';
export * from './verify.ts';
