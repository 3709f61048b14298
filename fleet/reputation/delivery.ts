// Delivery: the share of probe messages a node returned by hash within the deadline, and who lost one.
import type { DeliveryResult } from '../observations.ts';

/**
 * Share of delivery probes the node stored, over the results given (the newest first or not);
 * null without any result, or when every question to the node failed (an availability matter).
 * @example deliveryScore(resultsOf('store-01')) // 0.75 after 3 of 4 probes were stored
 */
export function deliveryScore(results: readonly DeliveryResult[]): number | null {
  let judged = 0;
  let stored = 0;
  for (const result of results) {
    if (!result.stored && result.errorClass !== undefined) continue;
    judged++;
    if (result.stored) stored++;
  }
  return judged === 0 ? null : stored / judged;
}

/**
 * The nodes that answered yet did not return a probe message by its deadline: what the
 * MessagesNotStored alarm names. A node that could not be asked is left to availability.
 */
export function nodesThatDidNotStore(results: readonly DeliveryResult[]): string[] {
  return [
    ...new Set(
      results
        .filter((result) => !result.stored && result.errorClass === undefined)
        .map((result) => result.nodeId),
    ),
  ].sort();
}
