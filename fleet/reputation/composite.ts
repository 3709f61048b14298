// The composite reputation: a weighted mean over the components that have evidence.
import type { ReputationConfig } from '../config.ts';
import { decayedMean } from './forgetting.ts';
import type { NodeReputationState, VantageReputationState } from './reputation-state.ts';

export const REPUTATION_COMPONENTS = [
  'availability',
  'latency',
  'freshness',
  'completeness',
  'stress',
] as const;
export type ReputationComponent = (typeof REPUTATION_COMPONENTS)[number];

/** Each component in 0..1, or null while there is no evidence for it. */
export type ReputationComponents = Record<ReputationComponent, number | null>;

/** What the fleet knows about one node's quality; `composite` is null until any evidence exists. */
export interface NodeReputation extends ReputationComponents {
  nodeId: string;
  composite: number | null;
}

/**
 * Weighted mean over the components that have data, weights renormalised over those: a new node
 * with only availability evidence is judged on availability alone, not dragged down by zeros.
 * @example compositeScore({ availability: 1, latency: null, freshness: null, completeness: 0.5, stress: null }, weights)
 */
export function compositeScore(
  components: ReputationComponents,
  weights: ReputationConfig['weights'],
): number | null {
  let weighted = 0;
  let total = 0;
  for (const name of REPUTATION_COMPONENTS) {
    const value = components[name];
    const weight = weights[name];
    if (value === null || weight <= 0) continue;
    weighted += weight * value;
    total += weight;
  }
  return total > 0 ? weighted / total : null;
}

/**
 * The composite as one vantage point sees it (completeness and stress are per node). Computed
 * without allocating: it runs once per node and vantage point every round.
 */
export function vantageComposite(
  vantage: VantageReputationState,
  completeness: number | null,
  stress: number | null,
  weights: ReputationConfig['weights'],
): number | null {
  let weighted = 0;
  let total = 0;
  const availabilityTotal = vantage.alpha + vantage.beta;
  if (availabilityTotal > 0 && weights.availability > 0) {
    weighted += weights.availability * (vantage.alpha / availabilityTotal);
    total += weights.availability;
  }
  if (vantage.latencyWeight > 0 && weights.latency > 0) {
    weighted += weights.latency * (vantage.latencySum / vantage.latencyWeight);
    total += weights.latency;
  }
  if (vantage.freshnessWeight > 0 && weights.freshness > 0) {
    weighted += weights.freshness * (vantage.freshnessSum / vantage.freshnessWeight);
    total += weights.freshness;
  }
  if (completeness !== null && weights.completeness > 0) {
    weighted += weights.completeness * completeness;
    total += weights.completeness;
  }
  if (stress !== null && weights.stress > 0) {
    weighted += weights.stress * stress;
    total += weights.stress;
  }
  return total > 0 ? weighted / total : null;
}

/** A node's reputation: probe components averaged over the vantage points that have evidence. */
export function nodeReputation(
  nodeId: string,
  state: NodeReputationState,
  config: ReputationConfig,
): NodeReputation {
  const sums = { availability: 0, latency: 0, freshness: 0 };
  const counts = { availability: 0, latency: 0, freshness: 0 };
  for (const vantage of Object.values(state.vantage)) {
    const availabilityTotal = vantage.alpha + vantage.beta;
    if (availabilityTotal > 0) {
      sums.availability += vantage.alpha / availabilityTotal;
      counts.availability++;
    }
    if (vantage.latencyWeight > 0) {
      sums.latency += vantage.latencySum / vantage.latencyWeight;
      counts.latency++;
    }
    if (vantage.freshnessWeight > 0) {
      sums.freshness += vantage.freshnessSum / vantage.freshnessWeight;
      counts.freshness++;
    }
  }
  const components: ReputationComponents = {
    availability: counts.availability > 0 ? sums.availability / counts.availability : null,
    latency: counts.latency > 0 ? sums.latency / counts.latency : null,
    freshness: counts.freshness > 0 ? sums.freshness / counts.freshness : null,
    completeness: decayedMean(state.completeness),
    stress: decayedMean(state.stress),
  };
  return { nodeId, ...components, composite: compositeScore(components, config.weights) };
}
