// Kept for tests that import it here; the fleet builders live in the shared test kit.
export * from '../../kit/fleet.ts';
