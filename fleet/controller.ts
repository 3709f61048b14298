// One controller round: probe evidence in, reputation and failover decisions out. Pure and idempotent.
import type { FleetConfig } from './config.ts';
import {
  type AlarmName,
  alarmDefinition,
  alarmInstanceId,
  alarmKey,
  clearAlarmKey,
  drainKey,
  FLEET_SUBJECT,
  type FleetAction,
  readmitKey,
  replaceKey,
} from './failover/actions.ts';
import { isProberBlind } from './failover/blind-prober.ts';
import { limitDrains } from './failover/drain-cap.ts';
import { isDrainCandidate } from './failover/drain-requires-quorum.ts';
import { probeFailure, type RoundVerdict, roundVerdict } from './failover/failing-round.ts';
import { fillToMinHealthy } from './failover/min-healthy.ts';
import { mayReadmit, recentDrainRounds, requiredProbationRounds } from './failover/probation.ts';
import { afterFailedReplacement, inReplacementGrace } from './failover/replacement.ts';
import { runtimeEvidence } from './failover/runtime-evidence.ts';
import type { CompletenessResult, ProbeRound, StressSummary } from './observations.ts';
import type { TaskState } from './ports.ts';
import { completenessScore, confirmedGaps } from './reputation/completeness.ts';
import { type NodeReputation, nodeReputation, vantageComposite } from './reputation/composite.ts';
import { decayedMean, updateDecayedMean } from './reputation/forgetting.ts';
import { freshestAgeOf, freshnessScore } from './reputation/freshness.ts';
import { latencyScore, medianOf } from './reputation/latency.ts';
import {
  type NodeReputationState,
  updateVantageReputation,
} from './reputation/reputation-state.ts';
import { stressScore } from './reputation/stress.ts';
import {
  type ActiveAlarm,
  type FleetState,
  freshNodeState,
  isListedStatus,
  type NodeState,
  type NodeStatus,
  type VantageState,
} from './state.ts';

export type { FleetAction } from './failover/actions.ts';

export interface ControllerRoundInput {
  config: FleetConfig;
  state: FleetState;
  /** The round being decided; a round at or below state.lastProcessedRound changes nothing. */
  round: number;
  /** Stamped on alarms; decisions never depend on it. */
  nowMs: number;
  /** This round's report from every vantage point that reported (others simply have no vote). */
  probeRounds: readonly ProbeRound[];
  /** Completeness results; windows already counted are skipped, so passing the latest ones again is safe. */
  completeness?: readonly CompletenessResult[];
  /** Stress summaries; ones already counted are skipped. */
  stress?: readonly StressSummary[];
  /** The runtime's view of each node's task (see failover/runtime-evidence.ts for what it may decide). */
  taskStates?: ReadonlyMap<string, TaskState>;
}

export interface ControllerRoundResult {
  state: FleetState;
  /** In the order to perform them: prober alarms, drains, replacements, re-admissions, other alarms. */
  actions: FleetAction[];
  /** Who goes into fleets.json, in config order. */
  listedNodeIds: string[];
}

/** What one vantage point reported this round, as flat arrays indexed like config.nodes. */
interface VantageObservations {
  id: string;
  reported: boolean;
  blind: boolean;
  seen: Uint8Array;
  failed: Uint8Array;
  failures: Map<number, string>;
  /** Fastest successful ping; NaN when none. */
  pingMs: Float64Array;
  /** Newest message age from a successful store probe; Infinity when the node had none; NaN when not measured. */
  ageMs: Float64Array;
  medianPingMs: number | null;
  freshestAgeMs: number | null;
}

interface DrainCandidate {
  index: number;
  nodeId: string;
  failStreak: number;
  failVotes: number;
  reasons: string[];
}

/** Earlier statuses are better bets when the registry must be topped up to minHealthy. */
const FILL_PREFERENCE: Record<NodeStatus, number> = {
  active: 0,
  suspect: 0,
  probation: 1,
  replacing: 2,
  drained: 3,
  escalated: 4,
};

/** Alarm reasons list at most this many nodes. */
const MAX_NODES_NAMED_IN_REASON = 10;

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
  const fleet = config.fleet;
  const failover = config.failover;
  const reputation = config.reputation;
  const lambda = reputation.forgettingFactor;

  const proberActions: FleetAction[] = [];
  const drainActions: FleetAction[] = [];
  const replaceActions: FleetAction[] = [];
  const readmitActions: FleetAction[] = [];
  const alarmActions: FleetAction[] = [];
  const alarms: Record<string, ActiveAlarm> = { ...state.alarms };
  const alarmRaises: Record<string, number> = { ...state.alarmRaises };

  function raiseAlarm(into: FleetAction[], alarm: AlarmName, subject: string, reason: string) {
    const id = alarmInstanceId(alarm, subject);
    if (alarms[id]) return;
    const raise = (alarmRaises[id] ?? 0) + 1;
    alarmRaises[id] = raise;
    alarms[id] = { alarm, subject, raisedAtRound: round, raisedAtMs: nowMs, reason };
    const definition = alarmDefinition(alarm);
    into.push({
      kind: 'alarm',
      alarm,
      severity: definition.severity,
      subject,
      runbook: definition.runbook,
      reason,
      idempotencyKey: alarmKey(fleet, alarm, subject, raise),
    });
  }

  function clearAlarm(into: FleetAction[], alarm: AlarmName, subject: string, reason: string) {
    const id = alarmInstanceId(alarm, subject);
    if (!alarms[id]) return;
    delete alarms[id];
    into.push({
      kind: 'clear-alarm',
      alarm,
      subject,
      reason,
      idempotencyKey: clearAlarmKey(fleet, alarm, subject, alarmRaises[id] ?? 1),
    });
  }

  // Nodes and their previous state; nodes new to the config must earn their place unless the fleet is new.
  const nodeIds = config.nodes.map((node) => node.id);
  const nodeCount = nodeIds.length;
  const nodeIndex = new Map<string, number>();
  const previous: NodeState[] = new Array(nodeCount);
  for (let i = 0; i < nodeCount; i++) {
    const id = nodeIds[i] as string;
    nodeIndex.set(id, i);
    previous[i] =
      state.nodes[id] ??
      freshNodeState(state.lastProcessedRound === null ? 'active' : 'probation', config);
  }

  const observations = observeVantagePoints(input, nodeIds, nodeIndex, previous);

  // Blindness: judged per vantage point that reported; one that did not report keeps its last judgement.
  const vantagePoints: Record<string, VantageState> = {};
  for (const vantage of observations) {
    const before = state.vantagePoints[vantage.id] ?? {
      blind: false,
      blindSinceRound: null,
      blindRounds: 0,
    };
    if (!vantage.reported) {
      vantage.blind = before.blind;
      vantagePoints[vantage.id] = before;
      continue;
    }
    if (vantage.blind) {
      vantagePoints[vantage.id] = {
        blind: true,
        blindSinceRound: before.blind ? before.blindSinceRound : round,
        blindRounds: before.blindRounds + 1,
      };
      raiseAlarm(
        proberActions,
        'ProberBlind',
        vantage.id,
        `vantage point ${vantage.id} saw more than ${Math.round(failover.blindFraction * 100)} % of the listed nodes fail in round ${round}; its results are ignored until it recovers`,
      );
    } else {
      vantagePoints[vantage.id] = {
        blind: false,
        blindSinceRound: null,
        blindRounds: before.blindRounds,
      };
      if (before.blind) {
        clearAlarm(
          proberActions,
          'ProberBlind',
          vantage.id,
          `vantage point ${vantage.id} sees the fleet normally again in round ${round}`,
        );
      }
    }
  }

  const completenessByNode = groupByNode(input.completeness, nodeIndex);
  const stressByNode = groupByNode(input.stress, nodeIndex);

  const nextStates: NodeState[] = new Array(nodeCount);
  const candidates: DrainCandidate[] = [];
  const quorum = failover.quorum;

  for (let i = 0; i < nodeCount; i++) {
    const nodeId = nodeIds[i] as string;
    const prev = previous[i] as NodeState;
    const taskState = input.taskStates?.get(nodeId);

    // Node-level evidence first: each vantage point's view of the composite includes it.
    let repState = applyCompleteness(prev.reputation, completenessByNode.get(i), lambda);
    repState = applyStress(repState, stressByNode.get(i), lambda);
    if (repState.lastCompletenessWindowEndMs !== prev.reputation.lastCompletenessWindowEndMs) {
      const latestWindow = (completenessByNode.get(i) ?? []).filter(
        (result) =>
          result.windowEndMs === repState.lastCompletenessWindowEndMs &&
          result.completeness !== null,
      );
      if (latestWindow.length > 0) {
        if (confirmedGaps(latestWindow)) {
          const missing = Math.max(...latestWindow.map((result) => result.missingCount));
          raiseAlarm(
            alarmActions,
            'HistoryIncomplete',
            nodeId,
            `${nodeId} lacks ${missing} message(s) that other nodes hold (confirmed by hash)`,
          );
        } else {
          clearAlarm(
            alarmActions,
            'HistoryIncomplete',
            nodeId,
            `${nodeId} holds the fleet's full history again`,
          );
        }
      }
    }
    const stressBatch = stressByNode.get(i);
    if (stressBatch && repState.lastStressFinishedAtMs !== prev.reputation.lastStressFinishedAtMs) {
      const latest = stressBatch.reduce((a, b) => (b.finishedAtMs > a.finishedAtMs ? b : a));
      if (!latest.sloMet) {
        raiseAlarm(
          alarmActions,
          'StressSloBreach',
          nodeId,
          `${nodeId} under ${latest.targetRatePerSecond} req/s: p99 ${latest.p99Ms} ms, errors ${(latest.errorRate * 100).toFixed(1)} %${latest.aborted ? ', run aborted' : ''}`,
        );
      } else {
        clearAlarm(
          alarmActions,
          'StressSloBreach',
          nodeId,
          `${nodeId} met its stress objective again`,
        );
      }
    }

    let vantageStates = repState.vantage;
    let copied = false;
    let failVotes = 0;
    let passVotes = 0;
    let reasons: string[] | undefined;
    const completenessMean = decayedMean(repState.completeness);
    const stressMean = decayedMean(repState.stress);
    for (const vantage of observations) {
      if (!vantage.reported || vantage.blind || vantage.seen[i] !== 1) continue;
      if (!copied) {
        vantageStates = { ...vantageStates };
        copied = true;
      }
      const failed = vantage.failed[i] === 1;
      const ping = vantage.pingMs[i] as number;
      const age = vantage.ageMs[i] as number;
      const updated = updateVantageReputation(
        vantageStates[vantage.id],
        {
          success: !failed,
          latencyScore:
            Number.isNaN(ping) || vantage.medianPingMs === null
              ? Number.NaN
              : latencyScore(ping, vantage.medianPingMs, reputation.latencyToleranceRatio),
          freshnessScore:
            Number.isNaN(age) || vantage.freshestAgeMs === null
              ? Number.NaN
              : freshnessScore(age, vantage.freshestAgeMs, reputation.freshnessMaxAgeSeconds),
        },
        lambda,
      );
      vantageStates[vantage.id] = updated;
      if (failed) {
        failVotes++;
        reasons ??= [];
        reasons.push(`${vantage.id}: ${vantage.failures.get(i)}`);
        continue;
      }
      const composite = vantageComposite(updated, completenessMean, stressMean, reputation.weights);
      if (composite !== null && composite < reputation.suspectBelow) {
        failVotes++;
        reasons ??= [];
        reasons.push(
          `${vantage.id}: reputation ${composite.toFixed(2)} below ${reputation.suspectBelow}`,
        );
      } else {
        passVotes++;
      }
    }
    if (copied) {
      repState = {
        vantage: vantageStates,
        completeness: repState.completeness,
        stress: repState.stress,
        lastCompletenessWindowEndMs: repState.lastCompletenessWindowEndMs,
        lastStressFinishedAtMs: repState.lastStressFinishedAtMs,
      };
    }
    const runtime = runtimeEvidence(taskState);
    if (runtime === 'down') {
      failVotes++;
      reasons ??= [];
      reasons.push(`runtime: task ${taskState}`);
    }
    const verdict = roundVerdict(
      { failing: failVotes, passing: passVotes, runtimeAllowsGood: runtime === 'none' },
      quorum,
    );

    // Spelled out rather than spread: a stable object shape keeps 10,000 of these cheap every round.
    const next: NodeState = {
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
      reputation: repState,
    };
    nextStates[i] = next;
    advanceNode(nodeId, prev, next, verdict, taskState);
    if (isDrainCandidate(next, failover, runtime === 'down')) {
      candidates.push({
        index: i,
        nodeId,
        failStreak: next.failStreak,
        failVotes,
        reasons: reasons ?? [],
      });
    }
  }

  function advanceNode(
    nodeId: string,
    prev: NodeState,
    next: NodeState,
    verdict: RoundVerdict,
    taskState: TaskState | undefined,
  ) {
    switch (prev.status) {
      case 'active':
      case 'suspect': {
        next.failStreak = verdict === 'failing' ? prev.failStreak + 1 : 0;
        next.goodStreak = verdict === 'good' ? prev.goodStreak + 1 : 0;
        next.status = verdict === 'failing' ? 'suspect' : 'active';
        return;
      }
      case 'drained': {
        // Replaced one round after the drain, so clients have been handed a registry without it first.
        next.failStreak = 0;
        next.goodStreak = 0;
        replace(nodeId, next, `${nodeId} was drained in the previous round; starting a new task`);
        return;
      }
      case 'replacing':
      case 'probation': {
        const grace = inReplacementGrace(round, prev.lastReplaceRound, taskState, failover);
        next.goodStreak = verdict === 'good' ? prev.goodStreak + 1 : 0;
        next.failStreak = verdict === 'failing' && !grace ? prev.failStreak + 1 : 0;
        if (mayReadmit(next.goodStreak, next.requiredProbationRounds)) {
          readmit(nodeId, next);
        } else if (next.failStreak >= failover.failuresBeforeDrain) {
          if (afterFailedReplacement(next.replaceAttempts, failover) === 'replace-again') {
            replace(
              nodeId,
              next,
              `${nodeId} kept failing for ${next.failStreak} rounds after replacement ${next.replaceAttempts} of ${failover.maxReplaceAttempts}; trying again`,
            );
          } else {
            next.status = 'escalated';
            next.counters = { ...next.counters, escalations: next.counters.escalations + 1 };
            next.failStreak = 0;
            next.goodStreak = 0;
            raiseAlarm(
              alarmActions,
              'NodeEscalated',
              nodeId,
              `${nodeId} still fails after ${next.replaceAttempts} replacement(s) (incident ${next.generation}); it stays out of fleets.json until a human fixes it`,
            );
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
          readmit(nodeId, next);
          clearAlarm(
            alarmActions,
            'NodeEscalated',
            nodeId,
            `${nodeId} passed ${next.requiredProbationRounds} consecutive good rounds and is listed again`,
          );
        }
        return;
      }
    }
  }

  function replace(nodeId: string, next: NodeState, reason: string) {
    next.replaceAttempts += 1;
    next.lastReplaceRound = round;
    next.status = 'replacing';
    next.failStreak = 0;
    next.goodStreak = 0;
    next.counters = { ...next.counters, replacements: next.counters.replacements + 1 };
    replaceActions.push({
      kind: 'replace',
      nodeId,
      generation: next.generation,
      attempt: next.replaceAttempts,
      reason,
      idempotencyKey: replaceKey(fleet, nodeId, next.generation, next.replaceAttempts),
    });
  }

  function readmit(nodeId: string, next: NodeState) {
    readmitActions.push({
      kind: 'readmit',
      nodeId,
      generation: next.generation,
      reason: `${nodeId} passed ${next.goodStreak} consecutive good rounds of probation (needed ${next.requiredProbationRounds})`,
      idempotencyKey: readmitKey(fleet, nodeId, next.generation),
    });
    next.status = 'active';
    next.failStreak = 0;
    next.goodStreak = 0;
    next.replaceAttempts = 0;
    next.counters = { ...next.counters, readmissions: next.counters.readmissions + 1 };
  }

  // Drains, within the cap and above minHealthy; the longest-failing nodes go first.
  let listedCount = 0;
  for (const next of nextStates) if (isListedStatus(next.status)) listedCount++;
  candidates.sort(
    (a, b) =>
      b.failStreak - a.failStreak ||
      b.failVotes - a.failVotes ||
      (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0),
  );
  const decision = limitDrains(candidates, {
    maxDrainsPerRound: failover.maxDrainsPerRound,
    minHealthy: failover.minHealthy,
    listedCount,
  });
  for (const candidate of decision.drain) {
    const next = nextStates[candidate.index] as NodeState;
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
    const flapNote =
      earlier.length > 0
        ? `; drained ${earlier.length} time(s) before within ${failover.flapWindowRounds} rounds, so probation is ${required} rounds`
        : `; probation after replacement: ${required} good rounds`;
    drainActions.push({
      kind: 'drain',
      nodeId: candidate.nodeId,
      generation: next.generation,
      reason: `${candidate.nodeId} failed ${candidate.failStreak} consecutive rounds by quorum (${failover.quorum}) — ${candidate.reasons.join('; ')}${flapNote}`,
      idempotencyKey: drainKey(fleet, candidate.nodeId, next.generation),
    });
  }
  for (const candidate of decision.heldByCap) {
    (nextStates[candidate.index] as NodeState).heldBack = 'drain-cap';
  }
  for (const candidate of decision.heldByMinHealthy) {
    (nextStates[candidate.index] as NodeState).heldBack = 'min-healthy';
  }
  listedCount -= decision.drain.length;

  const listedNodeIds: string[] = [];
  const unlisted: { nodeId: string; preference: number }[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const next = nextStates[i] as NodeState;
    const nodeId = nodeIds[i] as string;
    if (isListedStatus(next.status)) listedNodeIds.push(nodeId);
    else
      unlisted.push({ nodeId, preference: FILL_PREFERENCE[next.status] * 1e6 - next.goodStreak });
  }
  const filled = new Set(fillToMinHealthy(listedNodeIds, unlisted, failover.minHealthy));
  const listed =
    filled.size === 0
      ? listedNodeIds
      : nodeIds.filter(
          (id, i) => filled.has(id) || isListedStatus((nextStates[i] as NodeState).status),
        );

  if (decision.heldByCap.length > 0) {
    raiseAlarm(
      alarmActions,
      'DrainCapReached',
      FLEET_SUBJECT,
      `${candidates.length} nodes qualified for draining in round ${round} but at most ${failover.maxDrainsPerRound} may be drained per round; still listed: ${nameSome(decision.heldByCap.map((c) => c.nodeId))}`,
    );
  } else {
    clearAlarm(
      alarmActions,
      'DrainCapReached',
      FLEET_SUBJECT,
      `no drain was held back by the per-round cap in round ${round}`,
    );
  }
  if (decision.heldByMinHealthy.length > 0 || filled.size > 0) {
    const kept = [...decision.heldByMinHealthy.map((c) => c.nodeId), ...filled];
    raiseAlarm(
      alarmActions,
      'RegistryBelowMinHealthy',
      FLEET_SUBJECT,
      `fewer than ${failover.minHealthy} healthy nodes in round ${round}; unhealthy nodes kept listed: ${nameSome(kept)}`,
    );
  } else {
    clearAlarm(
      alarmActions,
      'RegistryBelowMinHealthy',
      FLEET_SUBJECT,
      `at least ${failover.minHealthy} healthy nodes are listed again in round ${round}`,
    );
  }

  // Alarms about nodes or vantage points that left the config would otherwise never clear.
  const vantageIds = new Set(config.vantagePoints.map((vantage) => vantage.id));
  for (const active of Object.values(alarms)) {
    const subject = active.subject;
    if (subject === FLEET_SUBJECT || nodeIndex.has(subject) || vantageIds.has(subject)) continue;
    clearAlarm(
      alarmActions,
      active.alarm as AlarmName,
      subject,
      `${subject} is no longer in the fleet config`,
    );
  }

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
      alarms,
      alarmRaises,
      listedNodeIds: listed,
    },
    actions: [
      ...proberActions,
      ...drainActions,
      ...replaceActions,
      ...readmitActions,
      ...alarmActions,
    ],
    listedNodeIds: [...listed],
  };
}

/** The reputation of every configured node, for the registry and the dashboard. */
export function fleetReputations(config: FleetConfig, state: FleetState): NodeReputation[] {
  return config.nodes.map((node) => {
    const known = state.nodes[node.id];
    return nodeReputation(
      node.id,
      known ? known.reputation : freshNodeState('active', config).reputation,
      config.reputation,
    );
  });
}

function observeVantagePoints(
  input: ControllerRoundInput,
  nodeIds: readonly string[],
  nodeIndex: ReadonlyMap<string, number>,
  previous: readonly NodeState[],
): VantageObservations[] {
  const { config, round } = input;
  const nodeCount = nodeIds.length;
  const reports = new Map<string, ProbeRound>();
  for (const report of input.probeRounds) {
    // A duplicated delivery of the same vantage point's round counts once.
    if (report.round === round && !reports.has(report.vantageId))
      reports.set(report.vantageId, report);
  }
  return config.vantagePoints.map((vantage) => {
    const report = reports.get(vantage.id);
    const observed: VantageObservations = {
      id: vantage.id,
      reported: report !== undefined,
      blind: false,
      seen: new Uint8Array(nodeCount),
      failed: new Uint8Array(nodeCount),
      failures: new Map(),
      pingMs: new Float64Array(nodeCount).fill(Number.NaN),
      ageMs: new Float64Array(nodeCount).fill(Number.NaN),
      medianPingMs: null,
      freshestAgeMs: null,
    };
    if (!report) return observed;
    for (const result of report.results) {
      const i = nodeIndex.get(result.nodeId);
      if (i === undefined) continue;
      observed.seen[i] = 1;
      const failure = probeFailure(result, config.clusterId);
      if (failure !== undefined) {
        observed.failed[i] = 1;
        if (!observed.failures.has(i)) observed.failures.set(i, failure);
        continue;
      }
      if (!result.ok) continue;
      if (result.kind === 'ping' && result.latencyMs !== undefined) {
        const before = observed.pingMs[i] as number;
        observed.pingMs[i] = Number.isNaN(before)
          ? result.latencyMs
          : Math.min(before, result.latencyMs);
      } else if (result.kind === 'store' && result.newestMessageAgeMs !== undefined) {
        observed.ageMs[i] =
          result.newestMessageAgeMs === null ? Number.POSITIVE_INFINITY : result.newestMessageAgeMs;
      }
    }
    let probed = 0;
    let failing = 0;
    for (let i = 0; i < nodeCount; i++) {
      if (observed.seen[i] !== 1 || !isListedStatus((previous[i] as NodeState).status)) continue;
      probed++;
      if (observed.failed[i] === 1) failing++;
    }
    observed.blind = isProberBlind({ probed, failing }, config.failover.blindFraction);
    if (!observed.blind) {
      observed.medianPingMs = medianOf(observed.pingMs);
      observed.freshestAgeMs = freshestAgeOf(observed.ageMs);
    }
    return observed;
  });
}

function groupByNode<T extends { nodeId: string }>(
  items: readonly T[] | undefined,
  nodeIndex: ReadonlyMap<string, number>,
): Map<number, T[]> {
  const grouped = new Map<number, T[]>();
  if (!items) return grouped;
  for (const item of items) {
    const i = nodeIndex.get(item.nodeId);
    if (i === undefined) continue;
    const list = grouped.get(i);
    if (list) list.push(item);
    else grouped.set(i, [item]);
  }
  return grouped;
}

function applyCompleteness(
  reputation: NodeReputationState,
  results: readonly CompletenessResult[] | undefined,
  lambda: number,
): NodeReputationState {
  if (!results) return reputation;
  const after = reputation.lastCompletenessWindowEndMs ?? Number.NEGATIVE_INFINITY;
  const windows = new Map<number, CompletenessResult[]>();
  for (const result of results) {
    if (result.windowEndMs <= after) continue;
    const list = windows.get(result.windowEndMs);
    if (list) list.push(result);
    else windows.set(result.windowEndMs, [result]);
  }
  if (windows.size === 0) return reputation;
  let completeness = reputation.completeness;
  let lastEnd = after;
  for (const windowEnd of [...windows.keys()].sort((a, b) => a - b)) {
    const score = completenessScore(windows.get(windowEnd) as CompletenessResult[]);
    if (score !== null) completeness = updateDecayedMean(completeness, score, lambda);
    lastEnd = windowEnd;
  }
  return { ...reputation, completeness, lastCompletenessWindowEndMs: lastEnd };
}

function applyStress(
  reputation: NodeReputationState,
  summaries: readonly StressSummary[] | undefined,
  lambda: number,
): NodeReputationState {
  if (!summaries) return reputation;
  const after = reputation.lastStressFinishedAtMs ?? Number.NEGATIVE_INFINITY;
  const fresh = summaries
    .filter((summary) => summary.finishedAtMs > after)
    .sort((a, b) => a.finishedAtMs - b.finishedAtMs);
  if (fresh.length === 0) return reputation;
  let stress = reputation.stress;
  for (const summary of fresh) stress = updateDecayedMean(stress, stressScore(summary), lambda);
  return {
    ...reputation,
    stress,
    lastStressFinishedAtMs: (fresh[fresh.length - 1] as StressSummary).finishedAtMs,
  };
}

function nameSome(nodeIds: readonly string[]): string {
  if (nodeIds.length <= MAX_NODES_NAMED_IN_REASON) return nodeIds.join(', ');
  return `${nodeIds.slice(0, MAX_NODES_NAMED_IN_REASON).join(', ')} and ${nodeIds.length - MAX_NODES_NAMED_IN_REASON} more`;
}
