// One probe round from one vantage point: ping, metadata, store freshness and REST health for every node, bounded by a deadline.
import type { ProbeConfig } from '../fleet/config.ts';
import {
  type ProbeKind,
  type ProbeResult,
  type ProbeRound,
  ProbeRoundSchema,
} from '../fleet/observations.ts';
import type { ProbeDialer } from '../waku/client/dialer.ts';
import {
  classifyError,
  ProtocolUnsupportedError,
  WakuError,
  WakuTimeoutError,
  WrongClusterError,
} from '../waku/errors.ts';
import { STORE_STATUS } from '../waku/protocols.ts';
import { untilAborted } from './abortable.ts';
import { mapBounded } from './bounded-pool.ts';
import type { ProbeClock } from './clock.ts';

/** A freshness query only needs the newest message; a few more tolerate equal timestamps. */
export const FRESHNESS_PAGE_SIZE = 3;
/** ProbeResult.errorMessage is capped at this length by its schema. */
const MAX_ERROR_MESSAGE_CHARS = 500;

/** One node as a vantage point sees it. */
export interface ProbeTarget {
  nodeId: string;
  /** libp2p TCP multiaddr including /p2p/{peer id}. */
  multiaddr: string;
  /** nwaku REST base URL; probed only from vantage points that reach REST. */
  restUrl?: string;
}

/** The libp2p calls a round makes: a slice of waku/client's ProbeDialer, so tests fake only these. */
export type ProbeRoundDialer = Pick<ProbeDialer, 'ping' | 'metadata' | 'storeQuery'>;

/** The REST call a round makes; waku/client's REST health satisfies it. */
export interface ProbeRoundRest {
  health(
    restUrl: string,
    options: { signal: AbortSignal },
  ): Promise<{ statusCode: number; nodeHealth: string }>;
}

export interface ProbeRoundDeps {
  dialer: ProbeRoundDialer;
  /** Absent where the vantage point has no REST client (it then skips health probes). */
  rest?: ProbeRoundRest;
  clock: ProbeClock;
}

export interface ProbeRoundInput {
  vantage: { id: string; reachesRest: boolean };
  round: number;
  targets: readonly ProbeTarget[];
  probe: ProbeConfig;
  clusterId: number;
  /** Pubsub topic the fleet's content topics are published on (store v3 needs one with content topics). */
  pubsubTopic: string;
  /**
   * The pubsub topics (static shards) freshness is measured on, each on its own; fleet/config's
   * probedPubsubTopics gives `probe.pubsubTopics` or every shard of the fleet.
   * @default [pubsubTopic]
   */
  pubsubTopics?: readonly string[];
}

/**
 * Probes every target once. Never takes longer than `probe.roundDeadlineMs` (plus scheduling noise):
 * probes still pending at the deadline, or not yet started, are reported as timeouts.
 * @example
 * const round = await runProbeRound({ dialer, rest, clock: systemClock }, {
 *   vantage: { id: 'vp-eu', reachesRest: true }, round: 7, targets, probe: config.probe,
 *   clusterId: config.clusterId, pubsubTopic: pubsubTopic(config.clusterId, config.shards[0]),
 * });
 */
export async function runProbeRound(
  deps: ProbeRoundDeps,
  input: ProbeRoundInput,
): Promise<ProbeRound> {
  const startedAtMs = Math.floor(deps.clock.nowMs());
  const roundDeadline = deadlineSignal(
    input.probe.roundDeadlineMs,
    () => new WakuTimeoutError(`probe round ${input.round}`, input.probe.roundDeadlineMs),
  );
  try {
    const perNode = await mapBounded(input.targets, input.probe.concurrency, (target) =>
      probeNode(deps, input, target, roundDeadline.signal),
    );
    const round: ProbeRound = {
      vantageId: input.vantage.id,
      round: input.round,
      startedAtMs,
      finishedAtMs: Math.max(startedAtMs, Math.floor(deps.clock.nowMs())),
      results: perNode.flat(),
    };
    return ProbeRoundSchema.parse(round);
  } finally {
    roundDeadline.clear();
  }
}

async function probeNode(
  deps: ProbeRoundDeps,
  input: ProbeRoundInput,
  target: ProbeTarget,
  roundSignal: AbortSignal,
): Promise<ProbeResult[]> {
  const { probe } = input;
  const address = target.multiaddr;
  const run = (
    kind: ProbeKind,
    timeoutMs: number,
    work: (signal: AbortSignal) => Promise<Partial<ProbeResult>>,
  ) => probeOnce(deps.clock, input.vantage.id, target.nodeId, kind, timeoutMs, roundSignal, work);

  // REST health does not share the libp2p connection: it runs alongside the whole libp2p chain.
  const rest = deps.rest;
  const restUrl = target.restUrl;
  const healthProbe =
    input.vantage.reachesRest && restUrl !== undefined && rest !== undefined
      ? run('health', probe.healthTimeoutMs, async (signal) => {
          const { statusCode, nodeHealth } = await rest.health(restUrl, { signal });
          const normalised = normaliseNodeHealth(nodeHealth);
          if (statusCode !== 200 || normalised !== 'READY') {
            return {
              ok: false,
              errorClass: 'unhealthy',
              errorMessage: `${restUrl} reports nodeHealth ${normalised} (HTTP ${statusCode})`,
              statusCode,
              nodeHealth: normalised,
            };
          }
          return { statusCode, nodeHealth: normalised };
        })
      : undefined;

  // Ping first: on fresh-dial rounds it opens the connection the other libp2p probes then reuse.
  const fresh = input.round % probe.freshDialEveryRounds === 0;
  const ping = await run('ping', probe.pingTimeoutMs, async (signal) => {
    const { rttMs, freshDial } = await deps.dialer.ping(address, { signal, fresh });
    return { latencyMs: rttMs, freshDial };
  });
  // Metadata before store, not beside it: a node of another cluster hangs up right after
  // answering, and a store stream failing on that connection must not take the answer with it.
  const metadata = await run('metadata', probe.metadataTimeoutMs, async (signal) => {
    const { clusterId } = await deps.dialer.metadata(address, { signal });
    if (clusterId !== input.clusterId) {
      throw new WrongClusterError(input.clusterId, clusterId, address);
    }
    return { clusterId };
  });
  const store = await run('store', probe.storeTimeoutMs, async (signal) => {
    try {
      return await probeFreshness(deps, input, address, signal);
    } catch (error) {
      // The node answered multistream-select without the store protocol: what identify would tell.
      if (error instanceof ProtocolUnsupportedError) return { storeNode: false as const };
      throw error;
    }
  });
  return healthProbe ? [ping, metadata, store, await healthProbe] : [ping, metadata, store];
}

/**
 * Age of the newest message the node holds within the freshness window, on each probed pubsub
 * topic (the whole topic, every content topic, as clients' traffic is) and over all of them.
 */
async function probeFreshness(
  deps: ProbeRoundDeps,
  input: ProbeRoundInput,
  address: string,
  signal: AbortSignal,
): Promise<Partial<ProbeResult>> {
  const topics = input.pubsubTopics ?? [input.pubsubTopic];
  const shards: NonNullable<ProbeResult['shards']> = [];
  let statusCode: number = STORE_STATUS.ok;
  for (const pubsubTopic of topics) {
    const outcome = await newestOnTopic(deps, input, address, pubsubTopic, signal);
    if (outcome.ok === false) return outcome;
    shards.push({ pubsubTopic, newestMessageAgeMs: outcome.newestMessageAgeMs ?? null });
    statusCode = outcome.statusCode ?? statusCode;
  }
  const ages = shards.flatMap((shard) =>
    shard.newestMessageAgeMs === null ? [] : [shard.newestMessageAgeMs],
  );
  return {
    statusCode,
    newestMessageAgeMs: ages.length === 0 ? null : Math.min(...ages),
    ...(topics.length > 1 || input.pubsubTopics !== undefined ? { shards } : {}),
  };
}

async function newestOnTopic(
  deps: ProbeRoundDeps,
  input: ProbeRoundInput,
  address: string,
  pubsubTopic: string,
  signal: AbortSignal,
): Promise<Partial<ProbeResult>> {
  const nowMs = deps.clock.nowMs();
  const windowStartMs = Math.floor(nowMs - input.probe.freshnessWindowSeconds * 1000);
  const page = await deps.dialer.storeQuery(
    address,
    {
      includeData: true,
      pubsubTopic,
      // Explicit topics mean whole shards (a real fleet's traffic is on content topics we do not
      // know); without them the fleet's own content topics on its one topic, as before.
      ...(input.pubsubTopics === undefined
        ? { contentTopics: [...input.probe.contentTopics] }
        : {}),
      timeStartNs: BigInt(windowStartMs) * 1_000_000n,
      forward: false,
      pageSize: FRESHNESS_PAGE_SIZE,
    },
    { signal, maxResponseBytes: input.probe.maxResponseBytes },
  );
  if (page.statusCode !== STORE_STATUS.ok) {
    return {
      ok: false,
      errorClass: page.statusCode === STORE_STATUS.tooManyRequests ? 'rate_limited' : 'store_error',
      errorMessage: truncate(
        `${address} store query failed with ${page.statusCode} ${page.statusDesc}`.trim(),
      ),
      statusCode: page.statusCode,
    };
  }
  let newestNs: bigint | undefined;
  for (const stored of page.messages) {
    const timestampNs = stored.message?.timestampNs;
    if (timestampNs !== undefined && (newestNs === undefined || timestampNs > newestNs)) {
      newestNs = timestampNs;
    }
  }
  const newestMessageAgeMs =
    newestNs === undefined ? null : Math.max(0, nowMs - Number(newestNs / 1_000_000n));
  return { statusCode: page.statusCode, newestMessageAgeMs };
}

async function probeOnce(
  clock: ProbeClock,
  vantageId: string,
  nodeId: string,
  kind: ProbeKind,
  timeoutMs: number,
  roundSignal: AbortSignal,
  work: (signal: AbortSignal) => Promise<Partial<ProbeResult>>,
): Promise<ProbeResult> {
  const startedAtMs = Math.floor(clock.nowMs());
  const base = { nodeId, vantageId, kind, startedAtMs };
  const ownTimeout = deadlineSignal(
    timeoutMs,
    () => new WakuTimeoutError(`${kind} probe of ${nodeId}`, timeoutMs),
  );
  const signal = AbortSignal.any([ownTimeout.signal, roundSignal]);
  const started = performance.now();
  try {
    if (signal.aborted) throw signal.reason;
    const outcome = await untilAborted(work(signal), signal);
    const latencyMs = outcome.latencyMs ?? performance.now() - started;
    return { ...base, ok: true, ...outcome, latencyMs };
  } catch (error) {
    return failedProbe(base, error);
  } finally {
    ownTimeout.clear();
  }
}

function failedProbe(
  base: Pick<ProbeResult, 'nodeId' | 'vantageId' | 'kind' | 'startedAtMs'>,
  error: unknown,
): ProbeResult {
  const result: ProbeResult = {
    ...base,
    ok: false,
    errorClass: classifyError(error),
    errorMessage: truncate(error instanceof Error ? error.message : String(error)),
  };
  if (error instanceof WakuError && error.statusCode !== undefined) {
    result.statusCode = error.statusCode;
  }
  const actualClusterId = (error as { actualClusterId?: unknown } | null)?.actualClusterId;
  if (typeof actualClusterId === 'number') result.clusterId = actualClusterId;
  return result;
}

/** nwaku before v0.36 says `Not Ready`, from v0.36 `NOT_READY`: reputation sees one spelling. */
export function normaliseNodeHealth(nodeHealth: string): string {
  return nodeHealth.trim().replace(/\s+/g, '_').toUpperCase();
}

function truncate(message: string): string {
  return message.length <= MAX_ERROR_MESSAGE_CHARS
    ? message
    : `${message.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}…`;
}

/** An AbortSignal that fires after `ms` with a typed timeout reason; clear() releases the timer. */
function deadlineSignal(
  ms: number,
  reason: () => Error,
): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(reason()), ms);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
