// The control step's acting half: claim each decided action once, then drain, replace, re-admit or raise alarms.
import type { FleetAction } from '../fleet/failover/actions.ts';
import type { AlarmSink, NodeRuntime, StructuredLog } from '../fleet/ports.ts';

export type { AlarmSink } from '../fleet/ports.ts';
export type ActionLog = StructuredLog;

export interface PerformActionsDeps {
  /** The state store's claimAction: true the first time a key is claimed. */
  claimAction(idempotencyKey: string, nowMs: number): Promise<boolean>;
  runtime: Pick<NodeRuntime, 'replaceNode'>;
  alarms?: AlarmSink;
  nowMs: number;
  log?: ActionLog;
  /**
   * Told of each action this run claimed, before it is performed: the local runtime records it in
   * its event log and dashboard there, so a replacement that later fails reads as tried, then failed.
   */
  onClaimed?(action: FleetAction): void;
}

export interface PerformedActions {
  performed: FleetAction[];
  /** Claimed earlier by another run (or an earlier attempt of this one): not performed again. */
  alreadyClaimed: FleetAction[];
  /** Claimed but failed; the controller's next rounds decide again (e.g. another replacement attempt). */
  failed: Array<{ action: FleetAction; error: Error }>;
}

/**
 * Performs actions in the order the controller gave them. Drains and re-admissions need nothing
 * beyond the saved state (the publisher follows the listed set); replacements go to the runtime.
 * A failure of one action never stops the others.
 * @example
 * const { performed, failed } = await performActions(decided.actions, {
 *   claimAction: (key, now) => store.claimAction(key, now), runtime, alarms, nowMs,
 * });
 */
export async function performActions(
  actions: readonly FleetAction[],
  deps: PerformActionsDeps,
): Promise<PerformedActions> {
  const outcome: PerformedActions = { performed: [], alreadyClaimed: [], failed: [] };
  for (const action of actions) {
    if (!(await deps.claimAction(action.idempotencyKey, deps.nowMs))) {
      outcome.alreadyClaimed.push(action);
      continue;
    }
    try {
      deps.onClaimed?.(action);
      await perform(action, deps);
      outcome.performed.push(action);
      deps.log?.info(`performed ${action.kind}`, describe(action));
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      outcome.failed.push({ action, error: failure });
      deps.log?.warn(`${action.kind} failed`, { ...describe(action), error: failure.message });
    }
  }
  return outcome;
}

async function perform(action: FleetAction, deps: PerformActionsDeps): Promise<void> {
  switch (action.kind) {
    case 'drain':
    case 'readmit':
      return;
    case 'replace':
      await deps.runtime.replaceNode(action.nodeId, action.reason);
      return;
    case 'alarm':
      await deps.alarms?.raise(action);
      return;
    case 'clear-alarm':
      await deps.alarms?.clear(action);
      return;
  }
}

function describe(action: FleetAction): Record<string, unknown> {
  return {
    idempotencyKey: action.idempotencyKey,
    reason: action.reason,
    ...('nodeId' in action ? { nodeId: action.nodeId } : {}),
    ...('alarm' in action ? { alarm: action.alarm, subject: action.subject } : {}),
  };
}
