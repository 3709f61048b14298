// Kept for tests that import it here; local nodes live in the shared test kit.
export * from '../kit/local-nodes.ts';
