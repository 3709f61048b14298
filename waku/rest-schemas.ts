// zod schemas of the nwaku REST replies and bodies we speak (health, debug, store v3, relay, admin faults), from the OpenAPI spec corrected by nwaku's real behaviour.
import * as z from 'zod';

/** nwaku v0.36+ spelling; older nodes (and the OpenAPI spec) use the Title Case one below. */
export const HEALTH_STATUSES = [
  'INITIALIZING',
  'SYNCHRONIZING',
  'READY',
  'NOT_READY',
  'NOT_MOUNTED',
  'SHUTTING_DOWN',
] as const;
export const LEGACY_HEALTH_STATUSES = [
  'Initializing',
  'Synchronizing',
  'Ready',
  'Not Ready',
  'Not Mounted',
  'Shutting Down',
] as const;

export const HealthStatusSchema = z.enum([...HEALTH_STATUSES, ...LEGACY_HEALTH_STATUSES]);
export type HealthStatus = z.infer<typeof HealthStatusSchema>;

/** Maps either spelling to the v0.36+ one, so callers compare against one set of values. */
export function normalizeHealthStatus(status: HealthStatus): (typeof HEALTH_STATUSES)[number] {
  const index = (LEGACY_HEALTH_STATUSES as readonly string[]).indexOf(status);
  return index === -1
    ? (status as (typeof HEALTH_STATUSES)[number])
    : (HEALTH_STATUSES[index] as (typeof HEALTH_STATUSES)[number]);
}

/** One protocol's entry, e.g. `{"Relay": "READY"}` or `{"Relay": "NOT_READY", "desc": "No peers"}`. */
export const ProtocolHealthSchema = z
  .object({ desc: z.string().optional() })
  .catchall(HealthStatusSchema)
  .refine((entry) => Object.keys(entry).some((key) => key !== 'desc'), {
    message: 'protocol health entry names no protocol',
  });

/** `GET /health`. nwaku answers 200 even when not ready, 503 when the report is incomplete. */
export const HealthReportSchema = z.object({
  nodeHealth: HealthStatusSchema,
  protocolsHealth: z.array(ProtocolHealthSchema).default([]),
});
export type HealthReport = z.infer<typeof HealthReportSchema>;

/** `GET /debug/v1/info`. */
export const DebugInfoSchema = z.object({
  listenAddresses: z.array(z.string()),
  enrUri: z.string().startsWith('enr:').optional(),
});
export type DebugInfo = z.infer<typeof DebugInfoSchema>;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
export const Base64Schema = z.string().regex(BASE64, 'expected standard base64');
/** nwaku writes hashes and cursors as 0x-hex (the OpenAPI spec's base64 is wrong). */
export const Hex0xSchema = z.string().regex(/^0x[0-9a-fA-F]*$/, 'expected 0x-prefixed hex');
export const MessageHashHexSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 0x-prefixed 32-byte hex hash');

/**
 * Nanosecond timestamps exceed 2^53: nwaku writes them as bare JSON integers. Parse replies with
 * `parseJsonPreservingIntegers` to keep them exact; a plain `JSON.parse` number is accepted but rounded.
 */
export const TimestampNsSchema = z
  .union([z.bigint(), z.number().finite(), z.string().regex(/^-?\d+$/)])
  .transform((value) => (typeof value === 'number' ? BigInt(Math.trunc(value)) : BigInt(value)));

export const RestWakuMessageSchema = z.object({
  payload: Base64Schema,
  contentTopic: z.string(),
  version: z.number().int().nonnegative().optional(),
  timestamp: TimestampNsSchema.optional(),
  ephemeral: z.boolean().optional(),
  meta: Base64Schema.optional(),
  proof: z.string().optional(),
});
export type RestWakuMessage = z.infer<typeof RestWakuMessageSchema>;

export const StoreMessageKeyValueSchema = z.object({
  messageHash: MessageHashHexSchema,
  message: RestWakuMessageSchema.optional(),
  pubsubTopic: z.string().optional(),
});

/** `GET /store/v3/messages` (HTTP 200; the store outcome is in `statusCode`). */
export const StoreQueryResponseSchema = z.object({
  requestId: z.string(),
  statusCode: z.number().int(),
  statusDesc: z.string(),
  messages: z.array(StoreMessageKeyValueSchema),
  paginationCursor: MessageHashHexSchema.optional(),
});
export type RestStoreQueryResponse = z.infer<typeof StoreQueryResponseSchema>;

/** Body of `POST /relay/v1/messages/{topic}` and `POST /relay/v1/auto/messages`. */
export const RelayPostMessageSchema = z.object({
  payload: Base64Schema,
  contentTopic: z.string().min(1),
  version: z.number().int().min(0).max(0xffffffff).optional(),
  // Parse bodies with parseJsonPreservingIntegers: nanosecond timestamps are above 2^53.
  timestamp: z
    .union([z.bigint().nonnegative(), z.number().nonnegative()])
    .transform((value) => (typeof value === 'bigint' ? value : BigInt(Math.trunc(value))))
    .optional(),
  ephemeral: z.boolean().optional(),
  meta: Base64Schema.optional(),
});
export type RelayPostMessage = z.input<typeof RelayPostMessageSchema>;

/** `GET|POST|DELETE /admin/v1/faults` reply (the local store node's fault injection). */
export const ActiveFaultsSchema = z.object({
  latencyMs: z.number().int().nonnegative(),
  storeErrorRate: z.number().min(0).max(1),
  storeErrorCode: z.union([z.literal(503), z.literal(429)]),
  dropArchiveRate: z.number().min(0).max(1),
  stall: z.boolean(),
});

/** A bare error reply body of nwaku REST (text/plain). */
export const RestErrorTextSchema = z.string();

/**
 * `JSON.parse` that turns integers beyond 2^53 into bigint, using the source text the reviver
 * sees (Node 21+), so nanosecond timestamps survive.
 */
export function parseJsonPreservingIntegers(text: string): unknown {
  return JSON.parse(text, function reviver(
    this: unknown,
    _key,
    value,
    context?: { source?: string },
  ) {
    if (
      typeof value === 'number' &&
      !Number.isSafeInteger(value) &&
      context?.source !== undefined &&
      /^-?\d+$/.test(context.source)
    ) {
      return BigInt(context.source);
    }
    return value;
  } as (this: unknown, key: string, value: unknown) => unknown);
}

/** `JSON.stringify` writing bigints as bare integers, as nwaku writes int64 fields. */
export function stringifyJsonWithIntegers(value: unknown): string {
  const marker = '\u0000bigint:';
  return JSON.stringify(value, (_key, inner: unknown) =>
    typeof inner === 'bigint' ? `${marker}${inner.toString()}` : inner,
  ).replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}
