// The retention horizon: how far back each node's history reaches, from the oldest message it returns on each probed pubsub topic.
import { type RetentionResult, RetentionResultSchema } from '../fleet/observations.ts';
import { classifyError } from '../waku/errors.ts';
import { untilAborted } from './abortable.ts';
import { mapBounded } from './bounded-pool.ts';
import type { ProbeClock } from './clock.ts';
import type { StoreQueryFunction } from './completeness.ts';

/** Each node's oldest-message question gives up after this long. */
export const RETENTION_REQUEST_TIMEOUT_MS = 10_000;
export const RETENTION_CONCURRENCY = 8;
const NS_PER_MS = 1_000_000n;

export interface RetentionSource {
  nodeId: string;
  query: StoreQueryFunction;
}

export interface RetentionInput {
  sources: readonly RetentionSource[];
  pubsubTopics: readonly string[];
  vantageId: string;
  clock: ProbeClock;
  /** @default RETENTION_REQUEST_TIMEOUT_MS */
  requestTimeoutMs?: number;
}

/**
 * Asks every node for its oldest message on each pubsub topic (one forward page of one message,
 * no time bound) and reports the oldest age over the topics.
 * @example
 * const results = await measureRetention({ sources, pubsubTopics: probedPubsubTopics(config), vantageId: 'vp-eu', clock: systemClock });
 */
export async function measureRetention(input: RetentionInput): Promise<RetentionResult[]> {
  const timeoutMs = input.requestTimeoutMs ?? RETENTION_REQUEST_TIMEOUT_MS;
  return mapBounded(input.sources, RETENTION_CONCURRENCY, async (source) => {
    const atMs = Math.floor(input.clock.nowMs());
    const base = { nodeId: source.nodeId, vantageId: input.vantageId, atMs };
    try {
      let oldestNs: bigint | undefined;
      for (const pubsubTopic of input.pubsubTopics) {
        const signal = AbortSignal.timeout(timeoutMs);
        const page = await untilAborted(
          source.query({ includeData: true, pubsubTopic, forward: true, pageSize: 1 }, signal),
          signal,
        );
        for (const stored of page.messages) {
          const timestampNs = stored.message?.timestampNs;
          if (timestampNs !== undefined && (oldestNs === undefined || timestampNs < oldestNs)) {
            oldestNs = timestampNs;
          }
        }
      }
      const oldestMessageAgeMs =
        oldestNs === undefined ? null : Math.max(0, atMs - Number(oldestNs / NS_PER_MS));
      return RetentionResultSchema.parse({ ...base, oldestMessageAgeMs });
    } catch (error) {
      return RetentionResultSchema.parse({
        ...base,
        oldestMessageAgeMs: null,
        errorClass: classifyError(error),
      });
    }
  });
}
