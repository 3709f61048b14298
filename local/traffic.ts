// Publishes a steady trickle of messages to random nodes over REST, so that freshness and completeness measure something real.
import type { PublishedMessage } from '../waku/client/rest.ts';
import { restPublish } from '../waku/client/rest.ts';

/** A few messages a second: enough for every freshness window, far from load. */
export const DEFAULT_TRAFFIC_RATE_PER_SECOND = 3;
export const DEFAULT_PUBLISH_TIMEOUT_MS = 2_000;
/** The node picks the shard from the content topic (RFC 51 autosharding). */
const AUTO_SHARDING = 'auto';

export type PublishFunction = (
  restUrl: string,
  message: PublishedMessage,
  signal: AbortSignal,
) => Promise<void>;

export interface TrafficGeneratorOptions {
  /** config.probe.contentTopics: what probes and completeness ask for. */
  contentTopics: readonly string[];
  /** REST URLs of the nodes to publish through right now (running ones). */
  targets: () => readonly string[];
  /** @default DEFAULT_TRAFFIC_RATE_PER_SECOND */
  ratePerSecond?: number;
  /** @default DEFAULT_PUBLISH_TIMEOUT_MS */
  publishTimeoutMs?: number;
  /** @default Math.random */
  random?: () => number;
  nowMs?: () => number;
  /** @default restPublish over `/relay/v1/auto/messages` */
  publish?: PublishFunction;
}

export interface TrafficStats {
  sent: number;
  failed: number;
  /** Per content topic, messages the nodes accepted. */
  byTopic: Record<string, number>;
}

const defaultPublish: PublishFunction = (restUrl, message, signal) =>
  restPublish(restUrl, AUTO_SHARDING, message, { signal });

/**
 * @example
 * const traffic = new TrafficGenerator({ contentTopics: config.probe.contentTopics, targets: () => urls });
 * traffic.start();
 * await traffic.stop();
 */
export class TrafficGenerator {
  readonly #options: TrafficGeneratorOptions;
  readonly #stats: TrafficStats = { sent: 0, failed: 0, byTopic: {} };
  readonly #inFlight = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #counter = 0;

  constructor(options: TrafficGeneratorOptions) {
    if (options.contentTopics.length === 0)
      throw new Error('traffic needs at least one content topic');
    const rate = options.ratePerSecond ?? DEFAULT_TRAFFIC_RATE_PER_SECOND;
    if (!(rate > 0)) throw new Error(`traffic rate must be positive, got ${rate}`);
    this.#options = options;
  }

  get stats(): TrafficStats {
    return { ...this.#stats, byTopic: { ...this.#stats.byTopic } };
  }

  start(): void {
    if (this.#timer) return;
    const rate = this.#options.ratePerSecond ?? DEFAULT_TRAFFIC_RATE_PER_SECOND;
    this.#timer = setInterval(() => this.#track(this.publishOnce()), 1000 / rate);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.allSettled([...this.#inFlight]);
  }

  /** Publishes one message to one random target; a failure is counted, never thrown. */
  async publishOnce(): Promise<boolean> {
    const targets = this.#options.targets();
    const random = this.#options.random ?? Math.random;
    const target = targets[Math.floor(random() * targets.length)];
    const topics = this.#options.contentTopics;
    const contentTopic = topics[this.#counter % topics.length] as string;
    this.#counter++;
    if (target === undefined) {
      this.#stats.failed++;
      return false;
    }
    const nowMs = (this.#options.nowMs ?? Date.now)();
    const message: PublishedMessage = {
      contentTopic,
      payload: new TextEncoder().encode(JSON.stringify({ n: this.#counter, atMs: nowMs })),
      timestampNs: BigInt(Math.floor(nowMs)) * 1_000_000n,
    };
    try {
      await (this.#options.publish ?? defaultPublish)(
        target,
        message,
        AbortSignal.timeout(this.#options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS),
      );
      this.#stats.sent++;
      this.#stats.byTopic[contentTopic] = (this.#stats.byTopic[contentTopic] ?? 0) + 1;
      return true;
    } catch {
      this.#stats.failed++;
      return false;
    }
  }

  #track(run: Promise<unknown>): void {
    const tracked = run.then(
      () => {},
      () => {},
    );
    this.#inFlight.add(tracked);
    tracked.finally(() => this.#inFlight.delete(tracked));
  }
}
