// The node state machine: how a round's verdict moves a node between active, suspect, drained, replacing, probation and escalated.
import type { FailoverConfig } from '../config.ts';
import type { TaskState } from '../ports.ts';
import type { NodeReputationState } from '../reputation/reputation-state.ts';
import type { NodeState } from '../state.ts';
import {
  type AlarmName,
  drainKey,
  type FleetAction,
  readmitKey,
  replaceKey,
  restartInPlaceKey,
} from './actions.ts';
import type { RoundVerdict } from './failing-round.ts';
import { mayReadmit, recentDrainRounds, requiredProbationRounds } from './probation.ts';
import { afterFailedReplacement, inReplacementGrace } from './replacement.ts';

/** Where the lifecycle raises and clears alarms (the controller's alarm ledger). */
export interface AlarmSink {
  raise(into: FleetAction[], alarm: AlarmName, subject: string, reason: string): void;
  clear(into: FleetAction[], alarm: AlarmName, subject: string, reason: string): void;
}

/** One round's view for the lifecycle, and the action lists its transitions append to. */
export interface LifecycleRound {
  fleet: string;
  round: number;
  failover: FailoverConfig;
  alarms: AlarmSink;
  drainActions: FleetAction[];
  replaceActions: FleetAction[];
  readmitActions: FleetAction[];
  alarmActions: FleetAction[];
}

/** Why a drain is happening, for the drain action's reason. */
export interface DrainGrounds {
  failStreak: number;
  reasons: readonly string[];
}

/** The node's state entering this round's transition: the previous state with this round's reputation. */
export function carriedNodeState(prev: NodeState, reputation: NodeReputationState): NodeState {
  // Spelled out rather than spread: a stable object shape keeps 10,000 of these cheap every round.
  return {
    status: prev.status,
    generation: prev.generation,
    failStreak: prev.failStreak,
    goodStreak: prev.goodStreak,
    requiredProbationRounds: prev.requiredProbationRounds,
    replaceAttempts: prev.replaceAttempts,
    lastReplaceRound: prev.lastReplaceRound,
    drainRounds: prev.drainRounds,
    heldBack: null,
    counters: prev.counters,
    reputation,
  };
}

/**
 * Moves `next` (a carried copy of `prev`) by this round's verdict. Drains are not decided here:
 * they depend on the whole fleet (drain cap, minHealthy) and happen through drainNode.
 */
export function advanceNode(
  lifecycle: LifecycleRound,
  nodeId: string,
  prev: NodeState,
  next: NodeState,
  verdict: RoundVerdict,
  taskState: TaskState | undefined,
): void {
  const { failover, round } = lifecycle;
  switch (prev.status) {
    case 'active':
    case 'suspect': {
      next.failStreak = verdict === 'failing' ? prev.failStreak + 1 : 0;
      next.goodStreak = verdict === 'good' ? prev.goodStreak + 1 : 0;
      next.status = verdict === 'failing' ? 'suspect' : 'active';
      // A restart in place that worked: the next incident gets its full set of attempts.
      if (verdict === 'good') next.replaceAttempts = 0;
      return;
    }
    case 'drained': {
      // Replaced one round after the drain, so clients have been handed a registry without it first.
      next.failStreak = 0;
      next.goodStreak = 0;
      replaceNode(
        lifecycle,
        nodeId,
        next,
        `${nodeId} was drained in the previous round; starting a new task`,
      );
      return;
    }
    case 'replacing':
    case 'probation': {
      const grace = inReplacementGrace(round, prev.lastReplaceRound, taskState, failover);
      next.goodStreak = verdict === 'good' ? prev.goodStreak + 1 : 0;
      next.failStreak = verdict === 'failing' && !grace ? prev.failStreak + 1 : 0;
      if (mayReadmit(next.goodStreak, next.requiredProbationRounds)) {
        readmitNode(lifecycle, nodeId, next);
      } else if (next.failStreak >= failover.failuresBeforeDrain) {
        if (afterFailedReplacement(next.replaceAttempts, failover) === 'replace-again') {
          replaceNode(
            lifecycle,
            nodeId,
            next,
            `${nodeId} kept failing for ${next.failStreak} rounds after replacement ${next.replaceAttempts} of ${failover.maxReplaceAttempts}; trying again`,
          );
        } else {
          escalateNode(lifecycle, nodeId, next);
        }
      } else {
        next.status = next.goodStreak > 0 ? 'probation' : 'replacing';
      }
      return;
    }
    case 'escalated': {
      next.goodStreak = verdict === 'good' ? prev.goodStreak + 1 : 0;
      next.failStreak = verdict === 'failing' ? prev.failStreak + 1 : 0;
      if (mayReadmit(next.goodStreak, next.requiredProbationRounds)) {
        readmitNode(lifecycle, nodeId, next);
        lifecycle.alarms.clear(
          lifecycle.alarmActions,
          'NodeEscalated',
          nodeId,
          `${nodeId} passed ${next.requiredProbationRounds} consecutive good rounds and is listed again`,
        );
      }
      return;
    }
  }
}

/** Takes the node out of fleets.json: a new incident (generation), and a probation that grows if it flaps. */
export function drainNode(
  lifecycle: LifecycleRound,
  nodeId: string,
  next: NodeState,
  grounds: DrainGrounds,
): void {
  const { failover, round } = lifecycle;
  const earlier = recentDrainRounds(next.drainRounds, round, failover.flapWindowRounds);
  const required = requiredProbationRounds(earlier, round, failover);
  next.status = 'drained';
  next.generation += 1;
  next.goodStreak = 0;
  next.replaceAttempts = 0;
  next.lastReplaceRound = null;
  next.requiredProbationRounds = required;
  next.drainRounds = [...earlier, round];
  next.counters = { ...next.counters, drains: next.counters.drains + 1 };
  if (earlier.length > 0) {
    lifecycle.alarms.raise(
      lifecycle.alarmActions,
      'NodeFlapping',
      nodeId,
      `${nodeId} was drained ${earlier.length + 1} times within ${failover.flapWindowRounds} rounds (rounds ${next.drainRounds.join(', ')}); its probation is now ${required} rounds`,
    );
  }
  const flapNote =
    earlier.length > 0
      ? `; drained ${earlier.length} time(s) before within ${failover.flapWindowRounds} rounds, so probation is ${required} rounds`
      : `; probation after replacement: ${required} good rounds`;
  lifecycle.drainActions.push({
    kind: 'drain',
    nodeId,
    generation: next.generation,
    reason: `${nodeId} failed ${grounds.failStreak} consecutive rounds by quorum (${failover.quorum}) — ${grounds.reasons.join('; ')}${flapNote}`,
    idempotencyKey: drainKey(lifecycle.fleet, nodeId, next.generation),
  });
}

/**
 * Restarts a node that stays listed because its drain was held back (cap or minHealthy) while the
 * runtime reports its task down: status and listing stay as they are; the attempt is counted.
 */
export function restartInPlace(lifecycle: LifecycleRound, nodeId: string, next: NodeState): void {
  next.replaceAttempts += 1;
  next.lastReplaceRound = lifecycle.round;
  next.counters = { ...next.counters, replacements: next.counters.replacements + 1 };
  lifecycle.replaceActions.push({
    kind: 'replace',
    nodeId,
    generation: next.generation,
    attempt: next.replaceAttempts,
    reason: `${nodeId}'s task is down and its drain was held back (${next.heldBack}); restarting it where it stands, still listed (attempt ${next.replaceAttempts} of ${lifecycle.failover.maxReplaceAttempts})`,
    idempotencyKey: restartInPlaceKey(lifecycle.fleet, nodeId, next.generation, lifecycle.round),
  });
}

function replaceNode(lifecycle: LifecycleRound, nodeId: string, next: NodeState, reason: string) {
  next.replaceAttempts += 1;
  next.lastReplaceRound = lifecycle.round;
  next.status = 'replacing';
  next.failStreak = 0;
  next.goodStreak = 0;
  next.counters = { ...next.counters, replacements: next.counters.replacements + 1 };
  lifecycle.replaceActions.push({
    kind: 'replace',
    nodeId,
    generation: next.generation,
    attempt: next.replaceAttempts,
    reason,
    idempotencyKey: replaceKey(lifecycle.fleet, nodeId, next.generation, next.replaceAttempts),
  });
}

function readmitNode(lifecycle: LifecycleRound, nodeId: string, next: NodeState) {
  lifecycle.readmitActions.push({
    kind: 'readmit',
    nodeId,
    generation: next.generation,
    reason: `${nodeId} passed ${next.goodStreak} consecutive good rounds of probation (needed ${next.requiredProbationRounds})`,
    idempotencyKey: readmitKey(lifecycle.fleet, nodeId, next.generation),
  });
  next.status = 'active';
  next.failStreak = 0;
  next.goodStreak = 0;
  next.replaceAttempts = 0;
  next.counters = { ...next.counters, readmissions: next.counters.readmissions + 1 };
}

function escalateNode(lifecycle: LifecycleRound, nodeId: string, next: NodeState) {
  next.status = 'escalated';
  next.counters = { ...next.counters, escalations: next.counters.escalations + 1 };
  next.failStreak = 0;
  next.goodStreak = 0;
  lifecycle.alarms.raise(
    lifecycle.alarmActions,
    'NodeEscalated',
    nodeId,
    `${nodeId} still fails after ${next.replaceAttempts} replacement(s) (incident ${next.generation}); it stays out of fleets.json until a human fixes it`,
  );
}
