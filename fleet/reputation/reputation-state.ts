// The serialisable reputation memory of one node: per vantage point for what probes see, per node for the rest.
import * as z from 'zod';
import { NEUTRAL_BETA_PRIOR } from './forgetting.ts';

const DecayedMeanStateSchema = z.strictObject({
  sum: z.number().nonnegative(),
  weight: z.number().nonnegative(),
});

/**
 * Flat on purpose: a 10,000-node fleet keeps one of these per node and vantage point, rewritten
 * every round. A zero weight means no evidence yet for that component.
 */
export const VantageReputationStateSchema = z.strictObject({
  /** Availability as a forgetting-factor beta score (with the neutral prior folded in). */
  alpha: z.number().nonnegative(),
  beta: z.number().nonnegative(),
  latencySum: z.number().nonnegative(),
  latencyWeight: z.number().nonnegative(),
  freshnessSum: z.number().nonnegative(),
  freshnessWeight: z.number().nonnegative(),
});
export type VantageReputationState = z.infer<typeof VantageReputationStateSchema>;

export const NodeReputationStateSchema = z.strictObject({
  /** Keyed by vantage point id. */
  vantage: z.record(z.string(), VantageReputationStateSchema),
  completeness: DecayedMeanStateSchema.nullable(),
  stress: DecayedMeanStateSchema.nullable(),
  /** Windows up to this end were already counted; callers may hand the same results again. */
  lastCompletenessWindowEndMs: z.number().nullable(),
  lastStressFinishedAtMs: z.number().nullable(),
});
export type NodeReputationState = z.infer<typeof NodeReputationStateSchema>;

export function emptyNodeReputationState(): NodeReputationState {
  return {
    vantage: {},
    completeness: null,
    stress: null,
    lastCompletenessWindowEndMs: null,
    lastStressFinishedAtMs: null,
  };
}

/** One round's evidence from one vantage point; NaN where a component was not measured. */
export interface VantageRoundEvidence {
  success: boolean;
  latencyScore: number;
  freshnessScore: number;
}

/**
 * Folds one round into a vantage point's memory of a node: every sum and weight decays by the
 * forgetting factor (Storj's lambda) before the new observation is added. Availability starts
 * from NEUTRAL_BETA_PRIOR; the other components start empty and so carry no weight until measured.
 */
export function updateVantageReputation(
  before: VantageReputationState | undefined,
  evidence: VantageRoundEvidence,
  forgettingFactor: number,
): VantageReputationState {
  const lambda = forgettingFactor;
  const alpha = before ? before.alpha : NEUTRAL_BETA_PRIOR.alpha;
  const beta = before ? before.beta : NEUTRAL_BETA_PRIOR.beta;
  const latencySum = before ? before.latencySum : 0;
  const latencyWeight = before ? before.latencyWeight : 0;
  const freshnessSum = before ? before.freshnessSum : 0;
  const freshnessWeight = before ? before.freshnessWeight : 0;
  const hasLatency = !Number.isNaN(evidence.latencyScore);
  const hasFreshness = !Number.isNaN(evidence.freshnessScore);
  return {
    alpha: lambda * alpha + (evidence.success ? 1 : 0),
    beta: lambda * beta + (evidence.success ? 0 : 1),
    latencySum: hasLatency ? lambda * latencySum + clampScore(evidence.latencyScore) : latencySum,
    latencyWeight: hasLatency ? lambda * latencyWeight + 1 : latencyWeight,
    freshnessSum: hasFreshness
      ? lambda * freshnessSum + clampScore(evidence.freshnessScore)
      : freshnessSum,
    freshnessWeight: hasFreshness ? lambda * freshnessWeight + 1 : freshnessWeight,
  };
}

function clampScore(score: number): number {
  return Math.min(1, Math.max(0, score));
}
