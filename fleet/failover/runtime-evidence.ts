// Policy: what the node runtime's task state adds to the probers' votes.
import type { TaskState } from '../ports.ts';

export type RuntimeEvidence = 'down' | 'starting' | 'none';

/**
 * A task the runtime reports stopped or missing is one witness that the node is down: it adds one
 * failing vote, beside the vantage points, but never replaces the quorum (with the default quorum
 * of 2 it takes the runtime plus one prober). The runtime's view can be stale or wrong (an API
 * glitch reporting every task missing), and draining the whole registry on one source is exactly
 * what quorum exists to prevent; the drain reason names the runtime whenever it was counted.
 * A pending task is a node starting: no failing vote, but no good round either.
 */
export function runtimeEvidence(taskState: TaskState | undefined): RuntimeEvidence {
  if (taskState === 'stopped' || taskState === 'missing') return 'down';
  if (taskState === 'pending') return 'starting';
  return 'none';
}
