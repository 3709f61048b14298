// The delivery probe, as sonda runs it: publish one probe message through one node and check that every store node returns it by hash within a deadline.
import { randomBytes } from 'node:crypto';
import {
  type DeliveryResult,
  DeliveryResultSchema,
  type ProbeErrorClass,
} from '../fleet/observations.ts';
import { classifyError } from '../waku/errors.ts';
import { messageHashHex } from '../waku/message-hash.ts';
import { abortableDelay, untilAborted } from './abortable.ts';
import { mapBounded } from './bounded-pool.ts';
import type { ProbeClock } from './clock.ts';
import type { StoreQueryFunction } from './completeness.ts';

/** Bytes of random payload: enough that two probes never share a hash. */
export const DELIVERY_PAYLOAD_BYTES = 16;
/** How often a node that does not hold the message yet is asked again. */
export const DELIVERY_POLL_INTERVAL_MS = 500;
/** Nodes asked at once. */
export const DELIVERY_CONCURRENCY = 16;
const NS_PER_MS = 1_000_000n;

export interface DeliveryMessage {
  pubsubTopic: string;
  contentTopic: string;
  payload: Uint8Array;
  timestampNs: bigint;
}

/** Publishes through one node: REST relay (`POST /relay/v1/messages/{topic}`) or lightpush. */
export interface DeliveryPublisher {
  nodeId: string;
  transport: DeliveryResult['publishedVia']['transport'];
  publish(message: DeliveryMessage, options: { signal: AbortSignal }): Promise<void>;
}

/** Asks one store node whether it holds a hash (a store v3 hash query, over libp2p or REST). */
export interface DeliveryCheck {
  nodeId: string;
  holds(hash: string, options: { signal: AbortSignal }): Promise<boolean>;
}

export interface DeliveryProbeInput {
  publisher: DeliveryPublisher;
  stores: readonly DeliveryCheck[];
  vantageId: string;
  pubsubTopic: string;
  contentTopic: string;
  /** Every store node must hold the message this long after it was published. */
  deadlineMs: number;
  clock: ProbeClock;
  /** @default DELIVERY_POLL_INTERVAL_MS */
  pollIntervalMs?: number;
}

/** Thrown when the probe message could not be published: no node can be judged then. */
export class DeliveryPublishError extends Error {
  readonly errorClass: ProbeErrorClass;
  constructor(nodeId: string, cause: unknown) {
    super(
      `publishing the delivery probe through ${nodeId} failed: ${cause instanceof Error ? cause.message : String(cause)}; no store node was judged`,
      { cause },
    );
    this.name = 'DeliveryPublishError';
    this.errorClass = classifyError(cause);
  }
}

/** Whether the delivery probe runs in `round`: every `everyRounds` rounds. */
export function deliveryProbeDue(round: number, everyRounds: number): boolean {
  return round % everyRounds === 0;
}

/**
 * Publishes one probe message and polls every store node by hash until it holds it or the deadline
 * passes. A node that held it is `stored` with the delay seen; one that never did is not stored,
 * with the error class when every question to it failed.
 *
 * @throws DeliveryPublishError when the publish itself fails.
 * @example
 * const results = await runDeliveryProbe({ publisher, stores, vantageId: 'vp-eu',
 *   pubsubTopic: '/waku/2/rs/16/32', contentTopic: '/storefleet/1/delivery/proto', deadlineMs: 10_000, clock: systemClock });
 */
export async function runDeliveryProbe(input: DeliveryProbeInput): Promise<DeliveryResult[]> {
  const publishedAtMs = Math.floor(input.clock.nowMs());
  const message: DeliveryMessage = {
    pubsubTopic: input.pubsubTopic,
    contentTopic: input.contentTopic,
    payload: new Uint8Array(randomBytes(DELIVERY_PAYLOAD_BYTES)),
    timestampNs: BigInt(publishedAtMs) * NS_PER_MS,
  };
  const messageHash = messageHashHex(input.pubsubTopic, {
    payload: message.payload,
    contentTopic: message.contentTopic,
    timestamp: message.timestampNs,
  });
  const deadline = AbortSignal.timeout(input.deadlineMs);
  try {
    await untilAborted(input.publisher.publish(message, { signal: deadline }), deadline);
  } catch (error) {
    throw new DeliveryPublishError(input.publisher.nodeId, error);
  }
  const pollMs = input.pollIntervalMs ?? DELIVERY_POLL_INTERVAL_MS;
  const base = {
    vantageId: input.vantageId,
    publishedAtMs,
    messageHash,
    pubsubTopic: input.pubsubTopic,
    publishedVia: { nodeId: input.publisher.nodeId, transport: input.publisher.transport },
  };
  return mapBounded(input.stores, DELIVERY_CONCURRENCY, async (store) => {
    let lastError: unknown;
    let answered = false;
    while (!deadline.aborted) {
      try {
        if (await untilAborted(store.holds(messageHash, { signal: deadline }), deadline)) {
          const delayMs = Math.max(0, input.clock.nowMs() - publishedAtMs);
          return DeliveryResultSchema.parse({
            ...base,
            nodeId: store.nodeId,
            stored: true,
            delayMs,
          });
        }
        answered = true;
      } catch (error) {
        if (deadline.aborted) break;
        lastError = error;
      }
      await abortableDelay(pollMs, deadline).catch(() => {});
    }
    return DeliveryResultSchema.parse({
      ...base,
      nodeId: store.nodeId,
      stored: false,
      delayMs: null,
      ...(answered || lastError === undefined ? {} : { errorClass: classifyError(lastError) }),
    });
  });
}

/**
 * A DeliveryCheck over any store query function (the libp2p dialer's or REST's): one hash query.
 * @example storeHoldsHash('store-01', (query, signal) => dialer.storeQuery(address, query, { signal }))
 */
export function storeHoldsHash(nodeId: string, query: StoreQueryFunction): DeliveryCheck {
  return {
    nodeId,
    async holds(hash, { signal }) {
      const page = await query({ includeData: false, messageHashes: [hash], pageSize: 1 }, signal);
      return page.messages.some((stored) => stored.hash.toLowerCase() === hash);
    },
  };
}

/**
 * Publishes through a node's REST relay endpoint, as sonda does (`POST /relay/v1/messages/{topic}`).
 * @example restRelayPublisher('store-01', node.restUrl, restPublish)
 */
export function restRelayPublisher(
  nodeId: string,
  restUrl: string,
  publish: typeof import('../waku/client/rest.ts').restPublish,
): DeliveryPublisher {
  return {
    nodeId,
    transport: 'rest-relay',
    publish: (message, { signal }) =>
      publish(
        restUrl,
        message.pubsubTopic,
        {
          payload: message.payload,
          contentTopic: message.contentTopic,
          timestampNs: message.timestampNs,
        },
        { signal },
      ),
  };
}
