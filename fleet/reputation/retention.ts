// HistoryTooShort: which nodes keep less history than the fleet promises, judged against what the fleet actually holds.
import type { HistoryConfig } from '../config.ts';
import type { RetentionResult } from '../observations.ts';

const MS_PER_DAY = 86_400_000;

export interface ShortHistory {
  nodeId: string;
  oldestMessageAgeMs: number;
  /** The horizon it was judged against: the promise, or the fleet's longest history when that is shorter. */
  expectedMs: number;
}

/**
 * Nodes whose history is shorter than `toleranceFraction` of what they should hold: the promised
 * days, or the longest history any node holds when the fleet is younger than its promise (a new
 * fleet blames nobody; one node that keeps less than its peers is named). Nodes that returned
 * nothing or could not be asked are not judged here.
 * @example nodesWithShortHistory(results, { promisedDays: 30, toleranceFraction: 0.9 })
 */
export function nodesWithShortHistory(
  results: readonly RetentionResult[],
  history: HistoryConfig,
): ShortHistory[] {
  const judged = results.filter(
    (result): result is RetentionResult & { oldestMessageAgeMs: number } =>
      result.oldestMessageAgeMs !== null && result.errorClass === undefined,
  );
  if (judged.length === 0) return [];
  const longestMs = Math.max(...judged.map((result) => result.oldestMessageAgeMs));
  const expectedMs = Math.min(history.promisedDays * MS_PER_DAY, longestMs);
  return judged
    .filter((result) => result.oldestMessageAgeMs < expectedMs * history.toleranceFraction)
    .map((result) => ({
      nodeId: result.nodeId,
      oldestMessageAgeMs: result.oldestMessageAgeMs,
      expectedMs,
    }))
    .sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
}
