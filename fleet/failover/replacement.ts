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

/**
 * Runtime evidence always leads to a replacement: a listed node whose drain was held back (by the
 * per-round cap or by minHealthy) but whose task the runtime reports stopped or missing serves
 * nobody as it is, so it is restarted where it stands while it stays listed. Once per grace
 * period, and no more than maxReplaceAttempts times before the ordinary drain path takes over.
 */
export function replaceInPlace(
  node: { lastReplaceRound: number | null; replaceAttempts: number },
  runtimeDown: boolean,
  round: number,
  failover: Pick<FailoverConfig, 'replaceGraceRounds' | 'maxReplaceAttempts'>,
): boolean {
  if (!runtimeDown || node.replaceAttempts >= failover.maxReplaceAttempts) return false;
  return (
    node.lastReplaceRound === null || round - node.lastReplaceRound > failover.replaceGraceRounds
  );
}
