// One controller round: probe evidence in, reputation and failover decisions out. Pure and idempotent.
// The round is a pipeline of phases, each in fleet/controller/ (the node state machine in fleet/failover/).

import { AlarmLedger } from './controller/alarm-ledger.ts';
import { type DrainCandidate, selectDrains } from './controller/drain-selection.ts';
import { judgeFleetAlarms } from './controller/fleet-alarms.ts';
import { listedCountOf, roundListing } from './controller/listing.ts';
import { groupByNode, nodeEvidence } from './controller/node-evidence.ts';
import { nodeRoster, observeVantagePoints } from './controller/observe.ts';
import { judgeVantagePoints } from './controller/prober-blindness.ts';
import type { ControllerRoundInput, ControllerRoundResult } from './controller/round-input.ts';
import type { FleetAction } from './failover/actions.ts';
import { isDrainCandidate } from './failover/drain-requires-quorum.ts';
import { advanceNode, carriedNodeState, type LifecycleRound } from './failover/node-lifecycle.ts';
import { isFlapping } from './failover/probation.ts';
import { runtimeEvidence } from './failover/runtime-evidence.ts';
import type { NodeState } from './state.ts';

export { fleetReputations } from './controller/reputations.ts';
export type { ControllerRoundInput, ControllerRoundResult } from './controller/round-input.ts';
export type { FleetAction } from './failover/actions.ts';

/**
 * Decides one round. Pure: the same input gives the same output, and re-running a round on the
 * state it returned yields no actions. Save the returned state after performing the actions: a
 * run that dies before saving is re-run from the old state, makes the same decisions with the
 * same idempotency keys, and claimAction lets through only what was not done yet.
 * @example
 * const { state, actions, listedNodeIds } = runControllerRound({
 *   config, state: previous, round: 42, nowMs, probeRounds: await store.probeRounds(42),
 * });
 * for (const action of actions) if (await store.claimAction(action.idempotencyKey, nowMs)) await perform(action);
 */
export function runControllerRound(input: ControllerRoundInput): ControllerRoundResult {
  const { config, state, round, nowMs } = input;
  if (state.lastProcessedRound !== null && round <= state.lastProcessedRound) {
    return { state, actions: [], listedNodeIds: [...state.listedNodeIds] };
  }
  const { failover } = config;
  const ledger = new AlarmLedger(state, config.fleet, round, nowMs);
  const proberActions: FleetAction[] = [];
  const lifecycle: LifecycleRound = {
    fleet: config.fleet,
    round,
    failover,
    alarms: ledger,
    drainActions: [],
    replaceActions: [],
    readmitActions: [],
    alarmActions: [],
  };

  // Observe: who is configured, what each vantage point saw, and which vantage points are blind.
  const roster = nodeRoster(config, state);
  const { nodeIds, nodeIndex, previous } = roster;
  const observations = observeVantagePoints(
    config,
    round,
    input.probeRounds,
    roster,
    input.taskStates,
  );
  const vantagePoints = judgeVantagePoints(
    observations,
    state,
    round,
    failover,
    ledger,
    proberActions,
  );

  // Per node: evidence, then the state machine; listed nodes failing long enough become drain candidates.
  const completenessByNode = groupByNode(input.completeness, nodeIndex);
  const stressByNode = groupByNode(input.stress, nodeIndex);
  const evidenceRound = {
    reputation: config.reputation,
    failover,
    observations,
    alarms: ledger,
    alarmActions: lifecycle.alarmActions,
  };
  const nodeCount = nodeIds.length;
  const nextStates: NodeState[] = new Array(nodeCount);
  const candidates: DrainCandidate[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const nodeId = nodeIds[i] as string;
    const prev = previous[i] as NodeState;
    const taskState = input.taskStates?.get(nodeId);
    const evidence = nodeEvidence(
      evidenceRound,
      i,
      nodeId,
      prev,
      completenessByNode.get(i),
      stressByNode.get(i),
      taskState,
    );
    const next = carriedNodeState(prev, evidence.reputation);
    nextStates[i] = next;
    advanceNode(lifecycle, nodeId, prev, next, evidence.verdict, taskState);
    if (isDrainCandidate(next, failover, runtimeEvidence(taskState) === 'down')) {
      candidates.push({
        index: i,
        nodeId,
        failStreak: next.failStreak,
        failVotes: evidence.failVotes,
        reasons: evidence.reasons,
        runtimeDown: runtimeEvidence(taskState) === 'down',
      });
    }
    if (prev.drainRounds.length > 0 && !isFlapping(next.drainRounds, round, failover)) {
      ledger.clear(
        lifecycle.alarmActions,
        'NodeFlapping',
        nodeId,
        `${nodeId} has had at most one drain in the last ${failover.flapWindowRounds} rounds`,
      );
    }
  }

  // Drain selection, the listing it leaves, and the fleet-wide alarms about both.
  const decision = selectDrains(lifecycle, candidates, nextStates, listedCountOf(nextStates));
  const listing = roundListing(nodeIds, nextStates, failover.minHealthy);
  judgeFleetAlarms(
    ledger,
    lifecycle.alarmActions,
    round,
    failover,
    candidates.length,
    decision,
    listing,
  );
  ledger.clearDeparted(lifecycle.alarmActions, config, nodeIndex);

  const nodes: Record<string, NodeState> = {};
  for (let i = 0; i < nodeCount; i++) nodes[nodeIds[i] as string] = nextStates[i] as NodeState;
  return {
    state: {
      schemaVersion: state.schemaVersion,
      fleet: state.fleet,
      lastProcessedRound: round,
      lastProcessedAtMs: nowMs,
      nodes,
      vantagePoints,
      alarms: ledger.alarms,
      alarmRaises: ledger.alarmRaises,
      listedNodeIds: listing.listed,
    },
    actions: [
      ...proberActions,
      ...lifecycle.drainActions,
      ...lifecycle.replaceActions,
      ...lifecycle.readmitActions,
      ...lifecycle.alarmActions,
    ],
    listedNodeIds: [...listing.listed],
  };
}
