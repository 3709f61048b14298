// History completeness, as storenode-messages-counter measures it: union every node's hashes for a window, re-ask by hash what each seems to lack.
import type { FleetConfig } from '../fleet/config.ts';
import { type CompletenessResult, CompletenessResultSchema } from '../fleet/observations.ts';
import type { StoreQuery, StoreQueryPage } from '../waku/client/store-types.ts';
import { BadResponseError, RateLimitedError, StoreError } from '../waku/errors.ts';
import { STORE_STATUS } from '../waku/protocols.ts';
import { abortableDelay, untilAborted } from './abortable.ts';
import { mapBounded } from './bounded-pool.ts';
import type { ProbeClock } from './clock.ts';

export type CompletenessConfig = FleetConfig['completeness'];

/** Every store request of a completeness run gives up after this long (a client waits 10-30 s). */
export const COMPLETENESS_REQUEST_TIMEOUT_MS = 10_000;
/** Pause before retry n is n times this. */
export const COMPLETENESS_RETRY_BACKOFF_MS = 200;
/** A window holding more hashes than this on one node is refused rather than held in memory. */
export const MAX_HASHES_PER_WINDOW = 200_000;
/** Nodes asked at once. */
export const COMPLETENESS_CONCURRENCY = 8;
/** Missing hashes kept per node and window; missingCount still counts every one. */
export const MAX_MISSING_HASHES_RECORDED = 1000;

/** A half-open time window [startMs, endMs). */
export interface HistoryWindow {
  startMs: number;
  endMs: number;
}

/** The two questions completeness asks a node; adapters exist for libp2p store and REST store. */
export interface StoreHashSource {
  nodeId: string;
  /** One page of the hashes the node holds in `window`, continuing after `cursor`. */
  hashPage(
    request: { window: HistoryWindow; cursor?: string; pageSize: number },
    options: { signal: AbortSignal },
  ): Promise<{ hashes: string[]; cursor?: string }>;
  /** Which of `hashes` (0x-hex) the node holds. */
  holds(hashes: string[], options: { signal: AbortSignal }): Promise<Set<string>>;
}

export interface CompletenessInput {
  sources: readonly StoreHashSource[];
  vantageId: string;
  settings: CompletenessConfig;
  clock: ProbeClock;
  /** Explicit window; by default the aligned window that ended at least `lagSeconds` ago. */
  window?: HistoryWindow;
  requestTimeoutMs?: number;
  /** Aborts the whole run; nodes that had not answered are then reported as unknown. */
  signal?: AbortSignal;
}

/**
 * The completeness window for `nowMs`: `windowSeconds` long, ending at least `lagSeconds` ago,
 * aligned to multiples of the window so that every vantage point asks about the same messages.
 */
export function laggedWindow(nowMs: number, settings: CompletenessConfig): HistoryWindow {
  const windowMs = Math.round(settings.windowSeconds * 1000);
  const endMs = Math.floor((nowMs - settings.lagSeconds * 1000) / windowMs) * windowMs;
  return { startMs: endMs - windowMs, endMs };
}

/**
 * One CompletenessResult per source for one window.
 * @example
 * const results = await measureCompleteness({
 *   sources: nodes.map((n) => storeHashSource(query, { nodeId: n.id, pubsubTopic, contentTopics })),
 *   vantageId: 'vp-eu', settings: config.completeness, clock: systemClock,
 * });
 */
export async function measureCompleteness(input: CompletenessInput): Promise<CompletenessResult[]> {
  const window = input.window ?? laggedWindow(input.clock.nowMs(), input.settings);
  const runSignal = input.signal ?? new AbortController().signal;
  const requestTimeoutMs = input.requestTimeoutMs ?? COMPLETENESS_REQUEST_TIMEOUT_MS;
  const attempt = <T>(work: (signal: AbortSignal) => Promise<T>) =>
    withRetries(input.settings.retries, requestTimeoutMs, runSignal, work);

  const listings = await mapBounded(input.sources, COMPLETENESS_CONCURRENCY, (source) =>
    listWindow(source, window, input.settings.pageSize, attempt).then(
      (held) => held,
      () => undefined,
    ),
  );

  const union = new Set<string>();
  for (const held of listings) for (const hash of held ?? []) union.add(hash);

  return mapBounded(input.sources, COMPLETENESS_CONCURRENCY, async (source, index) => {
    const listed = listings[index];
    const base = {
      nodeId: source.nodeId,
      vantageId: input.vantageId,
      windowStartMs: Math.max(0, Math.floor(window.startMs)),
      windowEndMs: Math.max(0, Math.floor(window.endMs)),
      unionCount: union.size,
    };
    if (listed === undefined) {
      return CompletenessResultSchema.parse({
        ...base,
        heldCount: 0,
        missingCount: 0,
        unknownCount: union.size,
        completeness: null,
      });
    }
    const lacking = [...union].filter((hash) => !listed.has(hash));
    let heldCount = listed.size;
    let missingCount = 0;
    let unknownCount = 0;
    const missingHashes: string[] = [];
    for (let at = 0; at < lacking.length; at += input.settings.hashBatchSize) {
      const batch = lacking.slice(at, at + input.settings.hashBatchSize);
      try {
        const found = await attempt((signal) => source.holds(batch, { signal }));
        for (const hash of batch) {
          if (found.has(hash)) heldCount++;
          else {
            missingCount++;
            if (missingHashes.length < MAX_MISSING_HASHES_RECORDED) missingHashes.push(hash);
          }
        }
      } catch {
        unknownCount += batch.length;
      }
    }
    const known = heldCount + missingCount;
    return CompletenessResultSchema.parse({
      ...base,
      heldCount,
      missingCount,
      unknownCount,
      completeness: known === 0 ? (union.size === 0 ? 1 : null) : heldCount / known,
      ...(missingHashes.length > 0 ? { missingHashes: missingHashes.sort() } : {}),
    });
  });
}

async function listWindow(
  source: StoreHashSource,
  window: HistoryWindow,
  pageSize: number,
  attempt: <T>(work: (signal: AbortSignal) => Promise<T>) => Promise<T>,
): Promise<Set<string>> {
  const held = new Set<string>();
  let cursor: string | undefined;
  do {
    const request = { window, pageSize, ...(cursor === undefined ? {} : { cursor }) };
    const page = await attempt((signal) => source.hashPage(request, { signal }));
    for (const hash of page.hashes) held.add(hash.toLowerCase());
    if (held.size > MAX_HASHES_PER_WINDOW) {
      throw new BadResponseError(
        source.nodeId,
        `more than ${MAX_HASHES_PER_WINDOW} hashes in one window; shorten completeness.windowSeconds`,
      );
    }
    if (page.cursor !== undefined && page.cursor === cursor) {
      throw new BadResponseError(source.nodeId, 'pagination cursor did not advance');
    }
    cursor = page.hashes.length === 0 ? undefined : page.cursor;
  } while (cursor !== undefined);
  return held;
}

async function withRetries<T>(
  retries: number,
  timeoutMs: number,
  runSignal: AbortSignal,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  for (let attemptIndex = 0; ; attemptIndex++) {
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), runSignal]);
    try {
      return await untilAborted(work(signal), signal);
    } catch (error) {
      if (attemptIndex >= retries || runSignal.aborted) throw error;
      await abortableDelay(COMPLETENESS_RETRY_BACKOFF_MS * (attemptIndex + 1), runSignal);
    }
  }
}

/** A store query function, as the libp2p dialer and the REST client both offer one. */
export type StoreQueryFunction = (
  query: StoreQuery,
  signal: AbortSignal,
) => Promise<StoreQueryPage>;

/**
 * Adapts a store query function to StoreHashSource: hashes only, the fleet's topics, forward pages.
 * @example
 * const source = storeHashSource(
 *   (query, signal) => dialer.storeQuery(address, query, { signal, maxResponseBytes }),
 *   { nodeId, pubsubTopic, contentTopics: config.probe.contentTopics },
 * );
 */
export function storeHashSource(
  query: StoreQueryFunction,
  options: {
    nodeId: string;
    pubsubTopic: string;
    /** Omitted: the whole pubsub topic, every content topic, as storenode-messages-counter asks. */
    contentTopics?: readonly string[];
  },
): StoreHashSource {
  const answered = async (request: StoreQuery, signal: AbortSignal): Promise<StoreQueryPage> => {
    const page = await query(request, signal);
    if (page.statusCode === STORE_STATUS.tooManyRequests)
      throw new RateLimitedError(options.nodeId);
    if (page.statusCode !== STORE_STATUS.ok) {
      throw new StoreError(options.nodeId, page.statusCode, page.statusDesc);
    }
    return page;
  };
  return {
    nodeId: options.nodeId,
    async hashPage({ window, cursor, pageSize }, { signal }) {
      const page = await answered(
        {
          includeData: false,
          pubsubTopic: options.pubsubTopic,
          ...(options.contentTopics === undefined
            ? {}
            : { contentTopics: [...options.contentTopics] }),
          timeStartNs: BigInt(Math.floor(window.startMs)) * 1_000_000n,
          // Windows are half-open and nwaku's end time is inclusive: stop one nanosecond short.
          timeEndNs: BigInt(Math.floor(window.endMs)) * 1_000_000n - 1n,
          forward: true,
          pageSize,
          ...(cursor === undefined ? {} : { cursor }),
        },
        signal,
      );
      return {
        hashes: page.messages.map((stored) => stored.hash),
        ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
      };
    },
    async holds(hashes, { signal }) {
      // Hash queries cannot carry topic filters (store v3); the hashes alone identify the messages.
      const page = await answered(
        { includeData: false, messageHashes: hashes, pageSize: hashes.length },
        signal,
      );
      return new Set(page.messages.map((stored) => stored.hash.toLowerCase()));
    },
  };
}

export interface WholeTopicCompletenessInput extends Omit<CompletenessInput, 'sources'> {
  /** The probed pubsub topics (fleet/config's probedPubsubTopics), each measured whole. */
  pubsubTopics: readonly string[];
  nodes: ReadonlyArray<{ nodeId: string; query: StoreQueryFunction }>;
}

/**
 * Completeness as storenode-messages-counter measures it: every probed pubsub topic whole (all its
 * content topics, not only the fleet's own), the same lagged window for all, one result per node
 * that sums the topics and names every hash it lacks.
 * @example
 * const results = await measureWholeTopicCompleteness({ nodes, pubsubTopics: probedPubsubTopics(config),
 *   vantageId: 'vp-eu', settings: config.completeness, clock: systemClock });
 */
export async function measureWholeTopicCompleteness(
  input: WholeTopicCompletenessInput,
): Promise<CompletenessResult[]> {
  const window = input.window ?? laggedWindow(input.clock.nowMs(), input.settings);
  const perTopic: CompletenessResult[][] = [];
  for (const pubsubTopic of input.pubsubTopics) {
    perTopic.push(
      await measureCompleteness({
        ...input,
        window,
        sources: input.nodes.map((node) =>
          storeHashSource(node.query, { nodeId: node.nodeId, pubsubTopic }),
        ),
      }),
    );
  }
  return input.nodes.map((node, index) => {
    const parts = perTopic.map((results) => results[index] as CompletenessResult);
    const sum = (field: 'unionCount' | 'heldCount' | 'missingCount' | 'unknownCount') =>
      parts.reduce((total, part) => total + part[field], 0);
    const answered = parts.filter((part) => part.completeness !== null);
    const heldCount = sum('heldCount');
    const missingCount = sum('missingCount');
    const known = heldCount + missingCount;
    const missingHashes = parts
      .flatMap((part) => part.missingHashes ?? [])
      .sort()
      .slice(0, MAX_MISSING_HASHES_RECORDED);
    return CompletenessResultSchema.parse({
      nodeId: node.nodeId,
      vantageId: input.vantageId,
      windowStartMs: Math.max(0, Math.floor(window.startMs)),
      windowEndMs: Math.max(0, Math.floor(window.endMs)),
      unionCount: sum('unionCount'),
      heldCount,
      missingCount,
      unknownCount: sum('unknownCount'),
      completeness:
        answered.length === 0
          ? null
          : known === 0
            ? sum('unionCount') === 0
              ? 1
              : null
            : heldCount / known,
      pubsubTopics: [...input.pubsubTopics],
      ...(missingHashes.length > 0 ? { missingHashes } : {}),
    });
  });
}
