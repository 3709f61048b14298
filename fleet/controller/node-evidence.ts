// Node evidence: completeness and stress fold into the node's reputation, then each seeing vantage point votes.
import type { FailoverConfig, ReputationConfig } from '../config.ts';
import type { FleetAction } from '../failover/actions.ts';
import { type RoundVerdict, roundVerdict } from '../failover/failing-round.ts';
import type { AlarmSink } from '../failover/node-lifecycle.ts';
import { runtimeEvidence } from '../failover/runtime-evidence.ts';
import type { CompletenessResult, StressSummary } from '../observations.ts';
import type { TaskState } from '../ports.ts';
import { completenessScore, confirmedGaps } from '../reputation/completeness.ts';
import { vantageComposite } from '../reputation/composite.ts';
import { decayedMean, updateDecayedMean } from '../reputation/forgetting.ts';
import { freshnessScore } from '../reputation/freshness.ts';
import { latencyScore } from '../reputation/latency.ts';
import {
  type NodeReputationState,
  updateVantageReputation,
} from '../reputation/reputation-state.ts';
import { stressScore } from '../reputation/stress.ts';
import type { NodeState } from '../state.ts';
import type { VantageObservations } from './observe.ts';

/** One node's evidence in one round. */
export interface NodeEvidence {
  reputation: NodeReputationState;
  verdict: RoundVerdict;
  failVotes: number;
  /** One line per failing vote, for the drain reason. */
  reasons: string[];
}

/** What the evidence phase reads for every node of the round. */
export interface EvidenceRound {
  reputation: ReputationConfig;
  failover: FailoverConfig;
  observations: readonly VantageObservations[];
  alarms: AlarmSink;
  alarmActions: FleetAction[];
}

/**
 * Node-level evidence first (completeness, stress), since each vantage point's view of the
 * composite includes it; then one vote per vantage point that reported, is not blind and saw the
 * node; then the runtime's view of the task.
 */
export function nodeEvidence(
  evidence: EvidenceRound,
  index: number,
  nodeId: string,
  prev: NodeState,
  completeness: readonly CompletenessResult[] | undefined,
  stress: readonly StressSummary[] | undefined,
  taskState: TaskState | undefined,
): NodeEvidence {
  const { reputation, alarms, alarmActions } = evidence;
  const lambda = reputation.forgettingFactor;
  let repState = applyCompleteness(prev.reputation, completeness, lambda);
  repState = applyStress(repState, stress, lambda);
  if (repState.lastCompletenessWindowEndMs !== prev.reputation.lastCompletenessWindowEndMs) {
    const latestWindow = (completeness ?? []).filter(
      (result) =>
        result.windowEndMs === repState.lastCompletenessWindowEndMs && result.completeness !== null,
    );
    if (latestWindow.length > 0) {
      if (confirmedGaps(latestWindow)) {
        const missing = Math.max(...latestWindow.map((result) => result.missingCount));
        alarms.raise(
          alarmActions,
          'HistoryIncomplete',
          nodeId,
          `${nodeId} lacks ${missing} message(s) that other nodes hold (confirmed by hash)`,
        );
      } else {
        alarms.clear(
          alarmActions,
          'HistoryIncomplete',
          nodeId,
          `${nodeId} holds the fleet's full history again`,
        );
      }
    }
  }
  if (stress && repState.lastStressFinishedAtMs !== prev.reputation.lastStressFinishedAtMs) {
    const latest = stress.reduce((a, b) => (b.finishedAtMs > a.finishedAtMs ? b : a));
    if (!latest.sloMet) {
      alarms.raise(
        alarmActions,
        'StressSloBreach',
        nodeId,
        `${nodeId} under ${latest.targetRatePerSecond} req/s: p99 ${latest.p99Ms} ms, errors ${(latest.errorRate * 100).toFixed(1)} %${latest.aborted ? ', run aborted' : ''}`,
      );
    } else {
      alarms.clear(
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
  for (const vantage of evidence.observations) {
    if (!vantage.reported || vantage.blind || vantage.seen[index] !== 1) continue;
    if (!copied) {
      vantageStates = { ...vantageStates };
      copied = true;
    }
    const failed = vantage.failed[index] === 1;
    const ping = vantage.pingMs[index] as number;
    const age = vantage.ageMs[index] as number;
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
      reasons.push(`${vantage.id}: ${vantage.failures.get(index)}`);
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
    evidence.failover.quorum,
  );
  return { reputation: repState, verdict, failVotes, reasons: reasons ?? [] };
}

/** Groups a round's node-level results by node index; results for nodes not in the config are dropped. */
export function groupByNode<T extends { nodeId: string }>(
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
