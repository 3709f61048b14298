// Policy: replace a drained node, retry while replacements are allowed, then escalate to a human.
import type { FailoverConfig } from '../config.ts';
import type { TaskState } from '../ports.ts';

/**
 * Failing rounds right after a replacement, or while the runtime says the new task is still
 * pending, do not count against it: a new task needs time to start and open its archive.
 */
export function inReplacementGrace(
  round: number,
  lastReplaceRound: number | null,
  taskState: TaskState | undefined,
  failover: Pick<FailoverConfig, 'replaceGraceRounds'>,
): boolean {
  if (taskState === 'pending') return true;
  return lastReplaceRound !== null && round - lastReplaceRound <= failover.replaceGraceRounds;
}

export type AfterFailedReplacement = 'replace-again' | 'escalate';

/** After a replacement that did not help: another attempt while attempts remain, else a human. */
export function afterFailedReplacement(
  replaceAttempts: number,
  failover: Pick<FailoverConfig, 'maxReplaceAttempts'>,
): AfterFailedReplacement {
  return replaceAttempts < failover.maxReplaceAttempts ? 'replace-again' : 'escalate';
}
