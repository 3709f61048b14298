// What probes observe: the typed records that flow from probers (local or Lambda) into reputation and failover.
import * as z from 'zod';

/** Why a probe failed. The same classes are used by waku/ errors, probes, reputation and metrics. */
export const PROBE_ERROR_CLASSES = [
  'timeout',
  'refused',
  'protocol_unsupported',
  'wrong_cluster',
  'rate_limited',
  'bad_response',
  'store_error',
  'unhealthy',
  'unknown',
] as const;
export const ProbeErrorClassSchema = z.enum(PROBE_ERROR_CLASSES);
export type ProbeErrorClass = z.infer<typeof ProbeErrorClassSchema>;

export const PROBE_KINDS = ['ping', 'metadata', 'store', 'health'] as const;
export const ProbeKindSchema = z.enum(PROBE_KINDS);
export type ProbeKind = z.infer<typeof ProbeKindSchema>;

/** One probe of one kind, against one node, from one vantage point. */
export const ProbeResultSchema = z.strictObject({
  nodeId: z.string().min(1),
  vantageId: z.string().min(1),
  kind: ProbeKindSchema,
  /** Wall-clock start, milliseconds since the epoch. */
  startedAtMs: z.number().int().nonnegative(),
  ok: z.boolean(),
  /** Round trip (ping) or answer time (store, health), in milliseconds. */
  latencyMs: z.number().nonnegative().optional(),
  /** True when this probe dialled a new connection rather than reusing an open one. */
  freshDial: z.boolean().optional(),
  errorClass: ProbeErrorClassSchema.optional(),
  errorMessage: z.string().max(500).optional(),
  /** Store status code or HTTP status, where one was received. */
  statusCode: z.number().int().optional(),
  /** Store probes: age of the newest message the node returned for the freshness window (null: none found). */
  newestMessageAgeMs: z.number().nonnegative().nullable().optional(),
  /** Store probes: the same age per probed pubsub topic (shard), so that silent loss on one shard shows. */
  shards: z
    .array(
      z.strictObject({
        pubsubTopic: z.string().min(1),
        newestMessageAgeMs: z.number().nonnegative().nullable(),
      }),
    )
    .optional(),
  /**
   * Store probes: false when the node does not speak the store protocol (a boot node, as Status
   * fleets list under `tcp/p2p/waku`). Such a probe is ok: the node is not a store node, not a failing one.
   */
  storeNode: z.literal(false).optional(),
  /** Metadata probes: the cluster id the node reported. */
  clusterId: z.number().int().optional(),
  /** Health probes: nwaku's nodeHealth, normalised to upper snake case. */
  nodeHealth: z.string().optional(),
});
export type ProbeResult = z.infer<typeof ProbeResultSchema>;

/** Every probe of one round from one vantage point: the unit a prober hands to the controller. */
export const ProbeRoundSchema = z.strictObject({
  vantageId: z.string().min(1),
  /** Round number, shared by all vantage points probing the same interval. */
  round: z.number().int().nonnegative(),
  startedAtMs: z.number().int().nonnegative(),
  finishedAtMs: z.number().int().nonnegative(),
  results: z.array(ProbeResultSchema),
});
export type ProbeRound = z.infer<typeof ProbeRoundSchema>;

/** History completeness of one node over one window (storenode-messages-counter's question). */
export const CompletenessResultSchema = z.strictObject({
  nodeId: z.string().min(1),
  vantageId: z.string().min(1),
  windowStartMs: z.number().int().nonnegative(),
  windowEndMs: z.number().int().nonnegative(),
  /** Size of the union of message hashes over all nodes that answered. */
  unionCount: z.number().int().nonnegative(),
  heldCount: z.number().int().nonnegative(),
  /** Hashes confirmed absent after re-asking by hash. */
  missingCount: z.number().int().nonnegative(),
  /** Hashes the node did not answer about (timeouts, errors): neither held nor missing. */
  unknownCount: z.number().int().nonnegative(),
  /** heldCount / unionCount over the hashes that are known; null when the node did not answer at all. */
  completeness: z.number().min(0).max(1).nullable(),
  /** The pubsub topics (whole, every content topic) the window covered. */
  pubsubTopics: z.array(z.string().min(1)).optional(),
  /**
   * The 0x-hex hashes confirmed absent, so an operator can ask which messages this node lacks
   * (at most MAX_MISSING_HASHES_RECORDED; missingCount is the full count).
   */
  missingHashes: z.array(z.string().regex(/^0x[0-9a-f]+$/)).optional(),
});
export type CompletenessResult = z.infer<typeof CompletenessResultSchema>;

/**
 * One store node's answer to a delivery probe (sonda's question): a probe message was published
 * through one node; did this node return it by hash within the deadline?
 */
export const DeliveryResultSchema = z.strictObject({
  nodeId: z.string().min(1),
  vantageId: z.string().min(1),
  /** When the probe message was published, milliseconds since the epoch. */
  publishedAtMs: z.number().int().nonnegative(),
  /** 0x-hex RFC 14 hash of the probe message. */
  messageHash: z.string().regex(/^0x[0-9a-f]{64}$/),
  pubsubTopic: z.string().min(1),
  /** The node the message was published through, and how (REST relay or lightpush). */
  publishedVia: z.strictObject({
    nodeId: z.string().min(1),
    transport: z.enum(['rest-relay', 'lightpush']),
  }),
  stored: z.boolean(),
  /** Publish to first answer that holds it; null when the node never did within the deadline. */
  delayMs: z.number().nonnegative().nullable(),
  /** Why the node could not be asked (every attempt failed), when it could not. */
  errorClass: ProbeErrorClassSchema.optional(),
});
export type DeliveryResult = z.infer<typeof DeliveryResultSchema>;

/** How far back one node's history reaches: the age of the oldest message it returns. */
export const RetentionResultSchema = z.strictObject({
  nodeId: z.string().min(1),
  vantageId: z.string().min(1),
  atMs: z.number().int().nonnegative(),
  /** Age of the oldest message over the probed pubsub topics; null when it returned none. */
  oldestMessageAgeMs: z.number().nonnegative().nullable(),
  /** Why the node could not be asked, when it could not. */
  errorClass: ProbeErrorClassSchema.optional(),
});
export type RetentionResult = z.infer<typeof RetentionResultSchema>;

/** The outcome of one stress test against one node. */
export const StressSummarySchema = z.strictObject({
  nodeId: z.string().min(1),
  finishedAtMs: z.number().int().nonnegative(),
  transport: z.enum(['libp2p', 'rest']),
  targetRatePerSecond: z.number().nonnegative(),
  achievedRatePerSecond: z.number().nonnegative(),
  p50Ms: z.number().nonnegative(),
  p99Ms: z.number().nonnegative(),
  errorRate: z.number().min(0).max(1),
  sloMet: z.boolean(),
  aborted: z.boolean(),
});
export type StressSummary = z.infer<typeof StressSummarySchema>;
