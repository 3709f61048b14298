// The fleets.json format Status publishes and its clients read, as a zod schema that real files pass.
import * as z from 'zod';
import { addressForm } from './addresses.ts';
import { InvalidRegistryError } from './errors.ts';
import { describeRegistryIssues } from './issues.ts';

/**
 * ISO 8601 as Status writes it: Python's `isoformat()` has microseconds and no zone
 * (`2024-07-24T00:00:23.666061`); ours has milliseconds and `Z`.
 */
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/;
/** Expiry is compared with the client's clock, so it must say which zone it is in. */
const ISO_TIMESTAMP_WITH_ZONE =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const NO_BLANKS = /^\S+$/;

export const ADDRESS_EXPECTATION = 'expected a multiaddr, enode:// URL or enr: record';

const isoTimestamp = z
  .string({ error: 'expected an ISO 8601 time string' })
  .regex(ISO_TIMESTAMP, 'expected an ISO 8601 time such as 2024-07-24T00:00:23.666Z')
  .refine((text) => !Number.isNaN(Date.parse(text)), 'expected a real calendar time');
const isoTimestampWithZone = z
  .string({ error: 'expected an ISO 8601 time string' })
  .regex(
    ISO_TIMESTAMP_WITH_ZONE,
    'expected an ISO 8601 time with a zone, such as 2026-01-01T00:15:00.000Z',
  )
  .refine((text) => !Number.isNaN(Date.parse(text)), 'expected a real calendar time');

const registryAddress = z
  .string({ error: ADDRESS_EXPECTATION })
  .refine((address) => addressForm(address) !== undefined, ADDRESS_EXPECTATION);

const fleetName = z
  .string()
  .min(1, 'expected a fleet name such as status.prod')
  .regex(NO_BLANKS, 'expected a fleet name without blanks, such as status.prod');
/** `tcp/p2p/waku/store`, or a legacy kind such as `boot`, `mail`, `whisper`, `rendezvous`. */
const kindName = z
  .string()
  .min(1, 'expected a kind such as tcp/p2p/waku/store')
  .regex(NO_BLANKS, 'expected a kind without blanks, such as tcp/p2p/waku/store');
const nodeName = z
  .string()
  .min(1, 'expected a node name such as store-01.do-ams3.status.prod')
  .regex(NO_BLANKS, 'expected a node name without blanks, such as store-01.do-ams3.status.prod');

/** NODE_NAME -> ADDRESS. */
export const FleetsJsonNodeTableSchema = z.record(nodeName, registryAddress, {
  error: 'expected an object of node name -> address',
});
/** KIND -> NODE_NAME -> ADDRESS. */
export const FleetsJsonFleetSchema = z.record(kindName, FleetsJsonNodeTableSchema, {
  error: 'expected an object of kind -> nodes',
});

/** Unknown meta fields (Status's `warning`, future ones) are kept: clients ignore what they do not read. */
export const FleetsJsonMetaSchema = z.looseObject(
  {
    hostname: z.string({ error: 'expected the publishing host name' }).min(1),
    timestamp: isoTimestamp,
    warning: z.string({ error: 'expected a string' }).optional(),
    /** Increases with every published version; clients refuse a lower one than they have seen. */
    sequence: z
      .number({ error: 'expected an integer' })
      .int('expected an integer')
      .nonnegative('expected a non-negative integer')
      .max(Number.MAX_SAFE_INTEGER, 'expected a safe integer')
      .optional(),
    /** Clients refuse the registry from this time on. */
    expires: isoTimestampWithZone.optional(),
  },
  { error: 'expected an object with hostname and timestamp' },
);

export const FleetsJsonSchema = z
  .looseObject(
    {
      meta: FleetsJsonMetaSchema,
      fleets: z.record(fleetName, FleetsJsonFleetSchema, {
        error: 'expected an object of fleet name -> kinds',
      }),
    },
    { error: 'expected an object with meta and fleets' },
  )
  .superRefine((document, ctx) => {
    const { timestamp, expires } = document.meta;
    if (expires !== undefined && Date.parse(expires) <= Date.parse(timestamp)) {
      ctx.addIssue({
        code: 'custom',
        path: ['meta', 'expires'],
        message: `expected a time after meta.timestamp (${timestamp})`,
      });
    }
  });

export type FleetsJson = z.output<typeof FleetsJsonSchema>;
export type FleetsJsonMeta = FleetsJson['meta'];

/**
 * Validates a parsed JSON value as a Status-format fleets.json.
 * @example
 * const fleets = parseFleetsJson(JSON.parse(text), 'fleets.json');
 * const stores = fleets.fleets['status.prod']?.['tcp/p2p/waku/store'] ?? {};
 */
export function parseFleetsJson(input: unknown, source = 'fleets.json'): FleetsJson {
  const result = FleetsJsonSchema.safeParse(input);
  if (!result.success)
    throw new InvalidRegistryError(describeRegistryIssues(result.error, input), source);
  return result.data;
}

/** Parses the exact published bytes: UTF-8 JSON first, then the schema. */
export function parseFleetsJsonBytes(bytes: Uint8Array, source = 'fleets.json'): FleetsJson {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new InvalidRegistryError([`not UTF-8 JSON: ${(error as Error).message}`], source);
  }
  return parseFleetsJson(json, source);
}
