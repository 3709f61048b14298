// Policy: TasksBelowDesired pages only when the runtime's own repair did not bring the tasks back.
import type { FailoverConfig } from '../config.ts';
import type { TaskState } from '../ports.ts';

/** Rounds a stopped task may wait beyond a drain and its replacement before someone is paged. */
export const TASKS_BELOW_DESIRED_GRACE_ROUNDS = 2;

/**
 * Tasks that are down and not on their way back: stopped or missing. A pending task is a
 * replacement under way, the routine repair after a drain, and does not count.
 */
export function tasksDown(taskStates: ReadonlyMap<string, TaskState>): number {
  let down = 0;
  for (const state of taskStates.values()) if (state === 'stopped' || state === 'missing') down++;
  return down;
}

/**
 * Consecutive rounds with a task down after which the alarm is raised: the rounds a failing node
 * takes to be drained (failuresBeforeDrain), the round it is replaced in, and a short grace.
 * @example tasksBelowDesiredAfterRounds({ failuresBeforeDrain: 2 }) // 5
 */
export function tasksBelowDesiredAfterRounds(
  failover: Pick<FailoverConfig, 'failuresBeforeDrain'>,
): number {
  return failover.failuresBeforeDrain + 1 + TASKS_BELOW_DESIRED_GRACE_ROUNDS;
}
