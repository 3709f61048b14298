import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import {
  TASKS_BELOW_DESIRED_GRACE_ROUNDS,
  tasksBelowDesiredAfterRounds,
  tasksDown,
} from '../../../fleet/failover/tasks-below-desired.ts';
import type { TaskState } from '../../../fleet/ports.ts';

describe('policy: TasksBelowDesired pages only when the repair did not bring the task back', () => {
  it('a pending task is a replacement under way and is not down', () => {
    const states = new Map<string, TaskState>([
      ['a', 'running'],
      ['b', 'pending'],
      ['c', 'stopped'],
      ['d', 'missing'],
    ]);
    assert.equal(tasksDown(states), 2);
  });

  it('waits for the drain, the replacement round and a grace before paging', () => {
    assert.equal(
      tasksBelowDesiredAfterRounds({ failuresBeforeDrain: 2 }),
      2 + 1 + TASKS_BELOW_DESIRED_GRACE_ROUNDS,
    );
  });
});
