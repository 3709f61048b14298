// Kept for tests that import it here; loopback servers live in the shared test kit.
export * from '../../kit/loopback-servers.ts';
