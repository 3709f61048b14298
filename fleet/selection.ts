// How a client picks a store node: go-waku's reference algorithm, and a variant weighted by the fleet's reputation.
import type { RandomSource } from './random.ts';
import type { NodeReputation } from './reputation/composite.ts';
import { latencyScore, medianOf } from './reputation/latency.ts';

export { type RandomSource, seededRandom } from './random.ts';

/** One store node as a client sees it after pinging: `rttMs` is null when the ping failed. */
export interface PingedStoreNode {
  nodeId: string;
  rttMs: number | null;
}

/** go-waku draws among all answering nodes when the fastest quarter would be this many or fewer. */
export const GO_WAKU_SMALL_POOL = 3;

/**
 * go-waku's pool: the fastest ceil((n-1)/4) of the n nodes that answered, or all of them when
 * that is GO_WAKU_SMALL_POOL or fewer (so any fleet of up to 13 nodes is drawn from whole).
 */
export function goWakuPoolSize(answered: number): number {
  const pool = Math.ceil((answered - 1) / 4);
  return pool <= GO_WAKU_SMALL_POOL ? answered : pool;
}

/**
 * go-waku / status-go StorenodeCycle: drop nodes that did not answer the ping, sort by RTT, pick
 * uniformly at random within the pool. It knows nothing about history gaps or slowness under load.
 * @example selectStoreNodeGoWaku([{ nodeId: 'a', rttMs: 40 }, { nodeId: 'b', rttMs: null }], seededRandom(1)) // 'a'
 */
export function selectStoreNodeGoWaku(
  pinged: readonly PingedStoreNode[],
  random: RandomSource,
): string | undefined {
  const answered = pinged
    .filter((node): node is { nodeId: string; rttMs: number } => node.rttMs !== null)
    .sort((a, b) => a.rttMs - b.rttMs || compareIds(a.nodeId, b.nodeId));
  if (answered.length === 0) return undefined;
  const pool = goWakuPoolSize(answered.length);
  return answered[Math.min(pool - 1, Math.floor(random() * pool))]?.nodeId;
}

export interface RankedStoreNode extends PingedStoreNode {
  /** From the registry; null or absent for a node the fleet has no evidence about yet. */
  reputation?: Pick<NodeReputation, 'availability' | 'completeness' | 'freshness'> | null;
}

/**
 * Every answering node keeps at least this weight: clients keep spreading some load over doubtful
 * nodes, so a node whose reputation is stale can still show that it improved.
 */
export const SELECTION_WEIGHT_FLOOR = 0.01;
/** As reputation.latencyToleranceRatio: this many times the median RTT weighs (almost) nothing. */
export const DEFAULT_SELECTION_LATENCY_TOLERANCE = 4;

/**
 * How much a client should want this node: the chance it answers (availability), that its answer
 * is complete (completeness) and recent (freshness), times how fast it answered this client
 * relative to the other nodes. Unknown components count as 1, so new nodes are not shunned.
 */
export function selectionWeight(
  node: RankedStoreNode & { rttMs: number },
  medianRttMs: number,
  latencyToleranceRatio = DEFAULT_SELECTION_LATENCY_TOLERANCE,
): number {
  const reputation = node.reputation;
  const usefulness =
    (reputation?.availability ?? 1) *
    (reputation?.completeness ?? 1) *
    (reputation?.freshness ?? 1);
  return Math.max(
    SELECTION_WEIGHT_FLOOR,
    usefulness * latencyScore(node.rttMs, medianRttMs, latencyToleranceRatio),
  );
}

/**
 * Reputation-weighted selection: drop nodes that did not answer, then draw with probability
 * proportional to selectionWeight. A gappy node is picked in proportion to the history it holds,
 * a slow one hardly at all.
 * @example selectStoreNodeByReputation(pingedWithReputation, seededRandom(7))
 */
export function selectStoreNodeByReputation(
  nodes: readonly RankedStoreNode[],
  random: RandomSource,
  latencyToleranceRatio = DEFAULT_SELECTION_LATENCY_TOLERANCE,
): string | undefined {
  const answered = nodes
    .filter((node): node is RankedStoreNode & { rttMs: number } => node.rttMs !== null)
    .sort((a, b) => compareIds(a.nodeId, b.nodeId));
  if (answered.length === 0) return undefined;
  const median = medianOf(Float64Array.from(answered, (node) => node.rttMs)) as number;
  const weights = answered.map((node) => selectionWeight(node, median, latencyToleranceRatio));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  let target = random() * total;
  for (let i = 0; i < answered.length; i++) {
    target -= weights[i] as number;
    if (target < 0) return answered[i]?.nodeId;
  }
  return answered[answered.length - 1]?.nodeId;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
