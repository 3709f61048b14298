// Protocol identifiers and wire limits shared by the Waku clients and the local store node.

export const PING_PROTOCOL = '/ipfs/ping/1.0.0';
export const METADATA_PROTOCOL = '/vac/waku/metadata/1.0.0';
export const STORE_QUERY_PROTOCOL = '/vac/waku/store-query/3.0.0';
export const RELAY_PROTOCOL = '/vac/waku/relay/2.0.0';

/** Store v3 status codes (nwaku). */
export const STORE_STATUS = {
  ok: 200,
  badResponse: 300,
  badRequest: 400,
  tooManyRequests: 429,
  serviceUnavailable: 503,
  peerDialFailure: 504,
} as const;

/**
 * Request ids a store reply may carry besides the query's own, as go-waku accepts them: nwaku answers
 * a rate-limited query with "N/A" (it does not decode the request) and other errors with "".
 */
export const STORE_RATE_LIMITED_REQUEST_ID = 'N/A';
export const STORE_ANONYMOUS_REQUEST_IDS: readonly string[] = ['', STORE_RATE_LIMITED_REQUEST_ID];
/** nwaku's status_desc of a rate-limited store reply (`$ErrorCode.TOO_MANY_REQUESTS`). */
export const STORE_RATE_LIMITED_DESC = 'TOO_MANY_REQUESTS';

export const STORE_DEFAULT_PAGE_SIZE = 20;
export const STORE_MAX_PAGE_SIZE = 100;

/** Static sharding pubsub topic: `/waku/2/rs/{cluster}/{shard}`. */
export function pubsubTopic(clusterId: number, shard: number): string {
  return `/waku/2/rs/${clusterId}/${shard}`;
}
