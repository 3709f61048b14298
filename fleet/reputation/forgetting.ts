// Forgetting-factor aggregates: each new observation counts fully, older ones fade by lambda per observation.

/** Storj's beta reputation: successes and failures both decay, so recent behaviour dominates. */
export interface BetaScoreState {
  alpha: number;
  beta: number;
}

/** A decayed running mean of scores in 0..1; `sum / weight` is the mean. */
export interface DecayedMeanState {
  sum: number;
  weight: number;
}

/**
 * One success and one failure's worth of evidence: a node that has just been seen once is judged
 * mostly by that observation, but a single failure does not sink it to zero.
 */
export const NEUTRAL_BETA_PRIOR: Readonly<BetaScoreState> = { alpha: 1, beta: 1 };

export function updateBetaScore(
  previous: BetaScoreState | null,
  success: boolean,
  forgettingFactor: number,
): BetaScoreState {
  const prior = previous ?? NEUTRAL_BETA_PRIOR;
  return {
    alpha: forgettingFactor * prior.alpha + (success ? 1 : 0),
    beta: forgettingFactor * prior.beta + (success ? 0 : 1),
  };
}

export function betaScore(state: BetaScoreState): number {
  const total = state.alpha + state.beta;
  return total > 0 ? state.alpha / total : 0.5;
}

export function updateDecayedMean(
  previous: DecayedMeanState | null,
  score: number,
  forgettingFactor: number,
): DecayedMeanState {
  const clamped = Math.min(1, Math.max(0, score));
  if (previous === null) return { sum: clamped, weight: 1 };
  return {
    sum: forgettingFactor * previous.sum + clamped,
    weight: forgettingFactor * previous.weight + 1,
  };
}

export function decayedMean(state: DecayedMeanState | null): number | null {
  if (state === null || state.weight <= 0) return null;
  return state.sum / state.weight;
}
