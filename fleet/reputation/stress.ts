// Stress results: whether a node kept its latency objective under load.
import type { StressSummary } from '../observations.ts';

/** A run that missed the objective scores at most this, however close it came. */
export const STRESS_MISSED_SLO_CEILING = 0.5;

/**
 * 1 when the objective was met; an aborted run (error budget blown) 0; otherwise the share of
 * the target rate achieved, times the share of requests that succeeded, capped at
 * STRESS_MISSED_SLO_CEILING.
 */
export function stressScore(summary: StressSummary): number {
  if (summary.aborted) return 0;
  if (summary.sloMet) return 1;
  const rateShare =
    summary.targetRatePerSecond > 0
      ? Math.min(1, summary.achievedRatePerSecond / summary.targetRatePerSecond)
      : 1;
  return STRESS_MISSED_SLO_CEILING * rateShare * (1 - summary.errorRate);
}
